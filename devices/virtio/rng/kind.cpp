// virtio-rng's entry: one device when vm.toml has [rng], from the host's
// getrandom.
#include "devices/virtio/device_kind.hpp"
#include "devices/virtio/rng/device.hpp"

namespace smvm::devices::virtio::rng {

namespace {

result<made_device> make(const device_context& context, const device_settings&) {
  return made_device{.model = std::make_unique<device>(context.memory)};
}

}  // namespace

extern const device_kind kind{
  .name = "virtio-rng",
  .section = "rng",
  .repeatable = false,
  .noun = "rng",
  .settings = {},
  .make = make,
};

}  // namespace smvm::devices::virtio::rng
