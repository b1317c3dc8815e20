#pragma once
// The interrupt of one virtio-mmio device: its InterruptStatus bits and the
// line behind them. The transport reads and acknowledges the bits for the
// driver; queue workers raise them from their own threads, so the bits are
// atomic and a raise is a pulse on an edge-triggered line (an irqfd write),
// as Firecracker does. A pulse while bits are still set is harmless: the
// driver's handler reads the status, acknowledges it and then looks at every
// queue, so nothing pushed before the acknowledgement goes unseen.
//
// Register writes do not wait for the device, so an acknowledgement can be
// handled after a raise the driver has not read yet. Clearing the bits then
// would leave that raise's interrupt reading 0, and the driver would never
// look at the buffers (a lost completion). So an acknowledgement clears only
// when nothing was raised since the driver's last read.

#include <atomic>
#include <cstdint>
#include <functional>

namespace smvm::devices::virtio {

namespace interrupt_bit {
inline constexpr std::uint32_t used_buffer = 1, config_change = 2;
}

class interrupt {
 public:
  /// Pulses the line; called from any thread.
  using pulse_fn = std::function<void()>;
  explicit interrupt(pulse_fn pulse) : pulse_(std::move(pulse)) {}

  void raise(std::uint32_t bits) {
    status_.fetch_or(bits);
    raises_.fetch_add(1);
    if (pulse_) pulse_();
  }
  /// The driver reads InterruptStatus (the transport's thread only).
  std::uint32_t read() {
    seen_raises_ = raises_.load();
    return status_.load();
  }
  /// The driver acknowledges what it read (the transport's thread only).
  void acknowledge(std::uint32_t bits) {
    if (raises_.load() == seen_raises_) status_.fetch_and(~bits);
  }
  void clear() { status_.store(0); }
  /// Restoring a snapshot: the bits the driver had not acknowledged.
  void restore(std::uint32_t bits) { status_.store(bits); }
  std::uint32_t status() const { return status_.load(); }

 private:
  std::atomic<std::uint32_t> status_{0};
  std::atomic<std::uint64_t> raises_{0};
  std::uint64_t seen_raises_ = 0;
  pulse_fn pulse_;
};

}  // namespace smvm::devices::virtio
