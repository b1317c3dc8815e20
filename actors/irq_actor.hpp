#pragma once
// The irq actor: owns one VM's interrupt lines. Level lines (the UART) go
// through KVM_IRQ_LINE; the edge lines of virtio devices are irqfds, so a
// raise is one write() and KVM injects the interrupt without an exit.

#include "actors/messages.hpp"
#include "common/unique_fd.hpp"
#include "hv/vm.hpp"

#include <map>
#include <memory>

namespace smvm::actors {

/// Line -> the irqfd KVM_IRQFD bound to it.
using irqfd_map = std::map<std::uint32_t, unique_fd>;

irq_actor spawn_irq(caf::actor_system& system, std::shared_ptr<const hv::vm> vm, irqfd_map irqfds = {});

}  // namespace smvm::actors
