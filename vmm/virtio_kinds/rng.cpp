// virtio-rng: one device when vm.toml has [rng].
#include "devices/virtio/rng.hpp"
#include "vmm/virtio_kinds.hpp"

namespace smvm::vmm {

namespace {

std::size_t count(const config::vm_config& config) { return config.rng ? 1 : 0; }

result<actors::virtio_device_spec> make(const virtio_kind_context& c, std::size_t) {
  actors::virtio_device_spec spec;
  spec.name = "virtio-rng";
  spec.model = share_model(new devices::virtio::rng(*c.memory), c.memory);
  return spec;
}

}  // namespace

const virtio_kind rng_kind{"virtio-rng", count, make};

}  // namespace smvm::vmm
