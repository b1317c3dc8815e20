// virtio-console: one device when [console] device = "virtio" (hvc0), or
// for `smvm run`'s workload channel.
#include "devices/virtio/console.hpp"
#include "vmm/virtio_kinds.hpp"

namespace smvm::vmm {

namespace {

std::size_t count(const config::vm_config& config) {
  return config.console.device == config::console_device::virtio ? 1 : 0;
}

result<actors::virtio_device_spec> make(const virtio_kind_context& c, std::size_t) {
  auto* model = new devices::virtio::console(
    *c.memory, [console = c.console](std::span<const std::uint8_t> bytes) { console->write(bytes); });
  actors::virtio_device_spec spec;
  spec.name = "virtio-console";
  spec.model = share_model(model, c.memory);
  spec.input_queue = devices::virtio::console::receive_queue;
  spec.input = [model](std::span<const std::uint8_t> bytes) { return model->receive(bytes); };
  // Its output waits on smvm's stdout, which a slow reader may hold up:
  // a thread of its own, not one of the scheduler's.
  spec.blocking = true;
  return spec;
}

}  // namespace

const virtio_kind console_kind{"virtio-console", count, make};

}  // namespace smvm::vmm
