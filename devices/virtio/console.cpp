#include "devices/virtio/console.hpp"

#include <algorithm>

namespace smvm::devices::virtio {

result<void> console::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  const bool event_idx = features & feature::ring_event_idx;
  auto rx = queue::create_live(memory_, queues, receive_queue, event_idx, "virtio-console receiveq");
  if (!rx) return rx.error();
  auto tx = queue::create_live(memory_, queues, transmit_queue, event_idx, "virtio-console transmitq");
  if (!tx) return tx.error();
  rx_ = std::move(*rx);
  tx_ = std::move(*tx);
  return {};
}

void console::reset() {
  rx_.reset();
  tx_.reset();
}

std::size_t console::receive(std::span<const std::uint8_t> bytes) {
  std::size_t room = input_capacity - std::min(input_capacity, pending_.size());
  std::size_t n = std::min(room, bytes.size());
  pending_.insert(pending_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

result<bool> console::process_receive() {
  if (!rx_) return false;
  bool used = false;
  while (!pending_.empty()) {
    auto next = rx_->pop();
    if (!next) return next.error();
    if (!*next) break;  // no buffer offered: the input waits
    std::uint32_t written = 0;
    for (auto& b : (*next)->buffers) {
      if (!b.device_writable) continue;
      std::size_t n = std::min(b.bytes.size(), pending_.size());
      std::copy_n(pending_.begin(), n, b.bytes.begin());
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      written += static_cast<std::uint32_t>(n);
    }
    if (auto r = rx_->push_used((*next)->head, written); !r) return r.error();
    used = true;
  }
  return used && rx_->should_interrupt();
}

result<bool> console::process_transmit() {
  if (!tx_) return false;
  return tx_->serve_all([this](const chain& c) -> result<std::uint32_t> {
    for (auto& b : c.buffers)
      if (!b.device_writable && output_) output_(b.bytes);
    return 0u;
  });
}

}  // namespace smvm::devices::virtio
