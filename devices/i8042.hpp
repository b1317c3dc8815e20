#pragma once
// The i8042 keyboard controller, as far as a microVM needs it: Linux with
// `reboot=k` resets the machine by writing 0xFE to its command port, and
// smvm turns that into the end of the VM.

#include "common/result.hpp"
#include "devices/io_device.hpp"

#include <cstdint>
#include <functional>

namespace smvm::devices {

struct i8042_state {
  std::uint8_t control = 0, output = 0;
  bool output_full = false, expecting_control = false;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("control", s.control) && v.value("output", s.output) && v.value("output_full", s.output_full) &&
           v.value("expecting_control", s.expecting_control);
  }
};

class i8042 final : public io_device {
 public:
  using reset_fn = std::function<void()>;

  /// Ports 0x60 (data) and 0x64 (status/command), as one window at 0x60.
  static constexpr std::uint16_t base = 0x60;
  static constexpr std::uint64_t window_size = 5;
  static constexpr std::uint64_t data_port = 0, command_port = 4;

  explicit i8042(reset_fn on_reset) : on_reset_(std::move(on_reset)) {}

  std::uint64_t read(std::uint64_t offset, unsigned size) override;
  void write(std::uint64_t offset, unsigned size, std::uint64_t value) override;

  using saved_state = i8042_state;  // common/persist.hpp
  i8042_state save() const { return {control_, output_, output_full_, expecting_control_}; }
  result<void> restore(const i8042_state& s) {
    control_ = s.control;
    output_ = s.output;
    output_full_ = s.output_full;
    expecting_control_ = s.expecting_control;
    return {};
  }

 private:
  reset_fn on_reset_;
  std::uint8_t control_ = 0x30;   // the "command byte": both ports disabled
  std::uint8_t output_ = 0;
  bool output_full_ = false;
  bool expecting_control_ = false;
};

namespace kbc {
inline constexpr std::uint8_t cmd_read_control = 0x20, cmd_write_control = 0x60, cmd_self_test = 0xaa,
                              cmd_pulse_reset = 0xfe;
inline constexpr std::uint8_t status_output_full = 0x01, status_system_flag = 0x04;
inline constexpr std::uint8_t self_test_passed = 0x55;
}  // namespace kbc

}  // namespace smvm::devices
