#include "devices/virtio/rng/device.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace smvm::devices::virtio::rng {

result<void> device::host_entropy(std::span<std::uint8_t> out) {
  while (!out.empty()) {
    ssize_t n = ::getrandom(out.data(), out.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error("getrandom: {}", std::strerror(errno));
    out = out.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

result<void> device::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  auto q = queue::create_live(memory_, queues, 0, features & virtio::feature::ring_event_idx, "virtio-rng requests");
  if (!q) return q.error();
  queue_ = std::move(*q);
  return {};
}

result<bool> device::process() {
  if (!queue_) return false;
  return queue_->serve_all([this](const chain& c) -> result<std::uint32_t> {
    std::uint32_t written = 0;
    for (auto& b : c.buffers) {
      if (!b.device_writable) continue;  // nothing for the device to read in a request
      if (auto r = entropy_(b.bytes); !r) return r.error();
      written += static_cast<std::uint32_t>(b.bytes.size());
    }
    return written;
  });
}

}  // namespace smvm::devices::virtio::rng
