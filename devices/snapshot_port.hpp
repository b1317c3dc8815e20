#pragma once
// The smvm snapshot port: how a guest says "snapshot me now" and learns
// that it happened. A one-byte write to port 0xf5 asks for the snapshot
// vm.toml's [snapshot] section describes (without one, nothing happens). A
// read returns 1 once that snapshot is written, or in a VM restored from a
// snapshot, and 0 until then: guest/smvm-ready.c writes, then reads until
// it gets 1, so the guest stands still at that point while it is taken, and
// a restored guest goes on from there. Port 0xf5 is next to the status
// port (0xf4) and, like it, nothing Linux drives on a PC.

#include "devices/io_device.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace smvm::devices {

class snapshot_port final : public io_device {
 public:
  using ready_fn = std::function<void()>;
  static constexpr std::uint16_t port = 0xf5;
  static constexpr std::uint64_t window_size = 1;

  /// `taken`: set by the machine once a snapshot is written, or from the
  /// start in a restored VM.
  /// `first_taken_read`: called the first time a read returns 1.
  snapshot_port(ready_fn on_ready, std::shared_ptr<std::atomic<bool>> taken, std::function<void()> first_taken_read = {})
      : on_ready_(std::move(on_ready)), taken_(std::move(taken)), first_taken_read_(std::move(first_taken_read)) {}

  std::uint64_t read(std::uint64_t offset, unsigned size) override {
    if (offset != 0 || size != 1 || !taken_->load()) return 0;
    if (first_taken_read_) std::exchange(first_taken_read_, {})();
    return 1;
  }
  void write(std::uint64_t offset, unsigned size, std::uint64_t) override {
    if (offset != 0 || size != 1) return;
    taken_->store(false);
    if (on_ready_) on_ready_();
  }

 private:
  ready_fn on_ready_;
  std::shared_ptr<std::atomic<bool>> taken_;
  std::function<void()> first_taken_read_;
};

}  // namespace smvm::devices
