#pragma once
// The smvm status port: how a guest reports the exit status that smvm
// itself then exits with. A one-byte write of N to port 0xf4 ends the VM
// and makes smvm exit N (0-255); guest/smvm-exit.c does it from userspace.
// Port 0xf4 is where QEMU's isa-debug-exit lives, so guests already avoid it.

#include "devices/io_device.hpp"

#include <cstdint>
#include <functional>

namespace smvm::devices {

class status_port final : public io_device {
 public:
  using status_fn = std::function<void(std::uint8_t status)>;
  static constexpr std::uint16_t port = 0xf4;
  static constexpr std::uint64_t window_size = 1;

  explicit status_port(status_fn on_status) : on_status_(std::move(on_status)) {}

  std::uint64_t read(std::uint64_t, unsigned) override { return 0; }
  void write(std::uint64_t offset, unsigned size, std::uint64_t value) override;

 private:
  status_fn on_status_;
};

}  // namespace smvm::devices
