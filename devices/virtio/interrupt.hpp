#pragma once
// The interrupt of one virtio-mmio device: its InterruptStatus bits and the
// line behind them. The transport reads and acknowledges the bits for the
// driver; queue workers raise them from their own threads, so the bits are
// atomic and a raise is a pulse on an edge-triggered line (an irqfd write),
// as Firecracker does. A pulse while bits are still set is harmless: the
// driver's handler reads the status, acknowledges it and then looks at every
// queue, so nothing pushed before the acknowledgement goes unseen.

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
    status_.fetch_or(bits, std::memory_order_acq_rel);
    if (pulse_) pulse_();
  }
  void acknowledge(std::uint32_t bits) { status_.fetch_and(~bits, std::memory_order_acq_rel); }
  void clear() { status_.store(0, std::memory_order_release); }
  std::uint32_t status() const { return status_.load(std::memory_order_acquire); }

 private:
  std::atomic<std::uint32_t> status_{0};
  pulse_fn pulse_;
};

}  // namespace smvm::devices::virtio
