#include "vmm/virtio_wiring.hpp"

#include "devices/virtio/block.hpp"
#include "devices/virtio/console.hpp"
#include "devices/virtio/mmio_transport.hpp"
#include "devices/virtio/rng.hpp"
#include "hv/eventfd.hpp"
#include "hv/x86/layout.hpp"

#include <fmt/format.h>

namespace smvm::vmm {

namespace {

namespace virtio = devices::virtio;
using actors::console_sink;
using actors::guest_memory_view;
using actors::virtio_device_spec;

/// Gives `spec` the next window and line, and binds its eventfds in KVM.
result<void> wire(virtio_wiring& out, virtio_device_spec spec, const hv::vm& vm) {
  const std::size_t index = out.devices.size();
  spec.section = fmt::format("virtio.{}", index);  // the window's order: fixed by vm.toml
  spec.base = hv::x86::layout::mmio_devices_start + index * virtio::mmio_transport::window_size;
  spec.irq_line = first_virtio_irq + static_cast<std::uint32_t>(index);
  for (std::uint16_t q = 0; q < spec.model->queue_count(); ++q) {
    auto fd = hv::make_eventfd();
    if (!fd) return fd.error();
    if (auto r = vm.add_ioeventfd(spec.base + virtio::mmio_reg::queue_notify, 4, q, fd->get()); !r)
      return make_error("{}: {}", spec.name, r.error().message);
    spec.notify_fds.push_back(std::move(*fd));
  }
  auto irqfd = hv::make_eventfd();
  if (!irqfd) return irqfd.error();
  if (auto r = vm.add_irqfd(spec.irq_line, irqfd->get()); !r) return make_error("{}: {}", spec.name, r.error().message);
  out.irqfds[spec.irq_line] = std::move(*irqfd);
  out.cmdline += fmt::format(" virtio_mmio.device=4K@{:#x}:{}", spec.base, spec.irq_line);
  out.devices.push_back(std::move(spec));
  return {};
}

/// Shares `model`, which reads guest memory through `memory`: the view
/// lives as long as the model.
std::shared_ptr<virtio::device_model> share(virtio::device_model* model,
                                            const std::shared_ptr<const guest_memory_view>& memory) {
  return {model, [memory](virtio::device_model* m) { delete m; }};
}

}  // namespace

result<virtio_wiring> wire_virtio_devices(const config::vm_config& config, const hv::vm& vm,
                                          const std::shared_ptr<const guest_memory_view>& memory,
                                          const std::shared_ptr<console_sink>& console) {
  virtio_wiring out;
  // Disks first, in vm.toml order: the guest names them vda, vdb, ...
  for (std::size_t i = 0; i < config.disks.size(); ++i) {
    const auto& disk = config.disks[i];
    const std::string key = fmt::format("disk[{}].path", i);
    auto model = virtio::block::open(*memory, disk.path.string(), disk.read_only);
    if (!model) return make_error("{}{}: {}", config.where(key), key, model.error().message);
    virtio_device_spec spec;
    spec.name = fmt::format("virtio-blk disk[{}]", i);
    spec.model = share(model->release(), memory);
    spec.blocking = true;
    if (auto r = wire(out, std::move(spec), vm); !r) return r.error();
  }
  if (config.rng) {
    virtio_device_spec spec;
    spec.name = "virtio-rng";
    spec.model = share(new virtio::rng(*memory), memory);
    if (auto r = wire(out, std::move(spec), vm); !r) return r.error();
  }
  if (config.console.device == config::console_device::virtio) {
    auto* model = new virtio::console(*memory, [console](std::span<const std::uint8_t> bytes) { console->write(bytes); });
    virtio_device_spec spec;
    spec.name = "virtio-console";
    spec.model = share(model, memory);
    spec.input_queue = virtio::console::receive_queue;
    spec.input = [model](std::span<const std::uint8_t> bytes) { return model->receive(bytes); };
    // Its output waits on smvm's stdout, which a slow reader may hold up:
    // a thread of its own, not one of the scheduler's.
    spec.blocking = true;
    if (auto r = wire(out, std::move(spec), vm); !r) return r.error();
  }
  return out;
}

}  // namespace smvm::vmm
