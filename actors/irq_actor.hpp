#pragma once
// The irq actor: owns one VM's interrupt lines and drives them with
// KVM_IRQ_LINE as devices ask.

#include "actors/messages.hpp"
#include "hv/vm.hpp"

#include <memory>

namespace smvm::actors {

irq_actor spawn_irq(caf::actor_system& system, std::shared_ptr<const hv::vm> vm);

}  // namespace smvm::actors
