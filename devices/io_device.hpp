#pragma once
// The register interface of every device model: reads and writes of 1, 2, 4
// or 8 bytes at an offset into the device's port or MMIO window.

#include <cstdint>

namespace smvm::devices {

class io_device {
 public:
  virtual ~io_device() = default;
  /// The value a guest read of `size` bytes at `offset` returns.
  virtual std::uint64_t read(std::uint64_t offset, unsigned size) = 0;
  /// A guest write of `size` bytes at `offset`.
  virtual void write(std::uint64_t offset, unsigned size, std::uint64_t value) = 0;
};

}  // namespace smvm::devices
