#include "devices/status_port.hpp"

namespace smvm::devices {

void status_port::write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  // Only the documented access counts: a stray wider write is not a status.
  if (offset == 0 && size == 1 && on_status_) on_status_(static_cast<std::uint8_t>(value));
}

}  // namespace smvm::devices
