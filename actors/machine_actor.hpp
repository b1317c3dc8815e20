#pragma once
// The machine actor: supervisor of one VM. It wires devices, the irq actor
// and the vCPUs, and turns the first reason to stop (a reported status, a
// reboot, a failure, Ctrl-C) into the VM's exit status once every vCPU has
// left KVM_RUN and every device has handled what the vCPUs sent it.

#include "actors/machine_builder.hpp"
#include "actors/messages.hpp"
#include "config/vm_config.hpp"

namespace smvm::actors {

machine_actor spawn_machine(caf::actor_system& system, machine_parts parts, config::console_section console);

}  // namespace smvm::actors
