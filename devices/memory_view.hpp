#pragma once
// How a device model reaches guest RAM: through a checked view, never a raw
// pointer. The actor layer adapts hv::guest_memory to it; tests use a
// vector. Devices and hv stay independent of each other.

#include "common/result.hpp"

#include <cstdint>
#include <span>

namespace smvm::devices {

class memory_view {
 public:
  virtual ~memory_view() = default;
  /// The host bytes of guest range [address, address + length), or an error
  /// when any of it is not guest RAM.
  virtual result<std::span<std::uint8_t>> slice(std::uint64_t address, std::uint64_t length) const = 0;
};

}  // namespace smvm::devices
