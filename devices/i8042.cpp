#include "devices/i8042.hpp"

namespace smvm::devices {

using namespace kbc;

std::uint64_t i8042::read(std::uint64_t offset, unsigned) {
  if (offset == command_port) return (output_full_ ? status_output_full : 0) | status_system_flag;
  if (offset == data_port) {
    output_full_ = false;
    return output_;
  }
  return 0xff;  // ports 0x61-0x63 belong to other chips
}

void i8042::write(std::uint64_t offset, unsigned, std::uint64_t raw) {
  auto value = static_cast<std::uint8_t>(raw);
  if (offset == data_port) {
    if (expecting_control_) control_ = value;
    expecting_control_ = false;
    return;
  }
  if (offset != command_port) return;
  switch (value) {
    case cmd_read_control:
      output_ = control_;
      output_full_ = true;
      break;
    case cmd_write_control:
      expecting_control_ = true;
      break;
    case cmd_self_test:
      output_ = self_test_passed;
      output_full_ = true;
      break;
    case cmd_pulse_reset:
      if (on_reset_) on_reset_();
      break;
    default:
      break;  // enabling/disabling ports and the like change nothing here
  }
}

}  // namespace smvm::devices
