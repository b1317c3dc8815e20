// virtio-console's entry: one device, when [console] device = "virtio"
// (the guest's hvc0) or for `smvm run`'s workload channel; it has no
// vm.toml section of its own.
#include "devices/virtio/console/device.hpp"
#include "devices/virtio/device_kind.hpp"

namespace smvm::devices::virtio::console {

namespace {

result<made_device> make(const device_context& context, const device_settings&) {
  return made_device{.model = std::make_unique<device>(context.memory, context.console_output),
                     .input_queue = device::receive_queue};
}

}  // namespace

extern const device_kind kind{
  .name = "virtio-console",
  .section = "",
  .repeatable = false,
  .noun = "console",
  .settings = {},
  // Its output waits on smvm's stdout, which a slow reader may hold up.
  .blocking = true,
  .make = make,
};

}  // namespace smvm::devices::virtio::console
