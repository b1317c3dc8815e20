#pragma once
// The virtio devices vm.toml asks for, wired into KVM before the guest
// boots: each gets a 4 KiB register window from 0xd0000000, an ISA interrupt
// line from 5 up bound to an irqfd, an ioeventfd per queue on QueueNotify,
// and a `virtio_mmio.device=` entry on the kernel command line.

#include "actors/console_sink.hpp"
#include "actors/guest_memory_view.hpp"
#include "actors/machine_parts.hpp"
#include "config/vm_config.hpp"
#include "hv/vm.hpp"

#include <memory>
#include <string>
#include <vector>

namespace smvm::vmm {

using actors::virtio_wiring;

/// The first line virtio devices take.
inline constexpr std::uint32_t first_virtio_irq = 5;

/// Makes every device of `config.devices` through its kind (errors name
/// the device and its vm.toml line) and registers its eventfds with KVM.
result<virtio_wiring> wire_virtio_devices(const config::vm_config& config, const hv::vm& vm,
                                          const std::shared_ptr<const actors::guest_memory_view>& memory,
                                          const std::shared_ptr<actors::console_sink>& console);

}  // namespace smvm::vmm
