#pragma once
// The machine actor: supervisor of one VM. It wires devices, the irq actor
// and the vCPUs, and turns the first reason to stop (a reported status, a
// reboot, a failure, Ctrl-C) into the VM's exit status once every vCPU has
// left KVM_RUN and every device has handled what the vCPUs sent it. It owns
// the VM's snapshotter, and passes it snapshot, pause and resume requests.

#include "actors/machine_parts.hpp"
#include "actors/messages.hpp"
#include "actors/switch_registry.hpp"
#include "config/vm_config.hpp"

#include <functional>
#include <optional>

namespace smvm::actors {

struct machine_options {
  config::console_section console;
  /// vm.toml's [snapshot]: what a guest's ready call (port 0xf5) does.
  std::optional<config::snapshot_section> snapshot;
  /// A restored VM: called once, when the guest first reads the snapshot
  /// port after the restore (it is running again).
  std::function<void()> on_guest_running;
  /// The switches its network cards plug into (those of every VM of this
  /// actor system); null for a VM without cards.
  std::shared_ptr<switch_registry> net = nullptr;
};

machine_actor spawn_machine(caf::actor_system& system, machine_parts parts, machine_options options);

}  // namespace smvm::actors
