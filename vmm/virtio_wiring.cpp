#include "vmm/virtio_wiring.hpp"

#include "devices/virtio/mmio_transport.hpp"
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

/// `error`, from making `device`, with the device and the vm.toml line of
/// the setting it is about ("vm.toml:4: disk[0].path: cannot open ...").
smvm::error placed(const config::vm_config& config, const config::device_config& device, const smvm::error& error) {
  for (const auto& spec : device.kind->settings) {
    const std::string prefix = fmt::format("{}: ", spec.key);
    if (error.message.rfind(prefix, 0) == 0) {
      const std::string key = fmt::format("{}.{}", device.name, spec.key);
      return make_error("{}{}: {}", config.where(key), key, error.message.substr(prefix.size()));
    }
  }
  return make_error("{}{}: {}", config.where(device.name), device.label(), error.message);
}

}  // namespace

result<virtio_wiring> wire_virtio_devices(const config::vm_config& config, const hv::vm& vm,
                                          const std::shared_ptr<const guest_memory_view>& memory,
                                          const std::shared_ptr<console_sink>& console) {
  virtio_wiring out;
  const virtio::device_context context{
    *memory, [console](std::span<const std::uint8_t> bytes) { console->write(bytes); }};
  for (const auto& device : config.devices) {
    auto made = device.kind->make(context, device.settings);
    if (!made) return placed(config, device, made.error());
    virtio_device_spec spec;
    spec.name = device.label();
    // The model reads guest memory through `memory`: the view lives as long as it.
    spec.model = std::shared_ptr<virtio::device_model>(made->model.release(),
                                                        [memory](virtio::device_model* m) { delete m; });
    spec.blocking = device.kind->blocking;
    spec.input_queue = made->input_queue;
    spec.link = made->link;
    if (auto r = wire(out, std::move(spec), vm); !r) return r.error();
  }
  return out;
}

}  // namespace smvm::vmm
