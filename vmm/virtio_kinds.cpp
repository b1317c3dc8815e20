#include "vmm/virtio_kinds.hpp"

#include <array>

namespace smvm::vmm {

std::span<const virtio_kind> virtio_kinds() {
  // A new kind: its file in vmm/virtio_kinds/ and one line here.
  static const std::array<virtio_kind, 3> kinds{blk_kind, rng_kind, console_kind};
  return kinds;
}

std::size_t virtio_device_count(const config::vm_config& config) {
  std::size_t n = 0;
  for (const auto& kind : virtio_kinds()) n += kind.count(config);
  return n;
}

std::shared_ptr<devices::virtio::device_model> share_model(devices::virtio::device_model* model,
                                                            const std::shared_ptr<const actors::guest_memory_view>& memory) {
  return {model, [memory](devices::virtio::device_model* m) { delete m; }};
}

}  // namespace smvm::vmm
