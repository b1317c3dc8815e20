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

device::device(const memory_view& memory, entropy_fn entropy) : memory_(memory) {
  set_servers({std::make_shared<request_server>(std::move(entropy))});
}

result<void> device::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  auto q = queue::create_live(memory_, queues, 0, features & virtio::feature::ring_event_idx, "virtio-rng requests");
  if (!q) return q.error();
  home<request_server>(0)->requests = std::move(*q);
  return {};
}

void device::reset() { home<request_server>(0)->requests.reset(); }

std::vector<queue*> device::queues() {
  auto& requests = home<request_server>(0)->requests;
  return {requests ? &*requests : nullptr};
}

result<bool> request_server::serve(std::uint16_t) {
  if (!requests) return false;
  return requests->serve_all([this](const chain& c) -> result<std::uint32_t> {
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
