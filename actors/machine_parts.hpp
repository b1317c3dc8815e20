#pragma once
// What the machine actor is handed to run one VM: the KVM objects, guest
// memory, the consoles, the virtio devices already wired into KVM, the
// vCPUs in their starting state, and how to capture the VM for a snapshot.
// The builder (vmm/) makes it, from a vm.toml or a snapshot; no actor runs
// until the machine is spawned with it.

#include "actors/console_sink.hpp"
#include "actors/irq_actor.hpp"
#include "actors/virtio_device_actor.hpp"
#include "common/result.hpp"
#include "hv/guest_memory.hpp"
#include "hv/kvm.hpp"
#include "hv/vcpu_runner.hpp"
#include "hv/vm.hpp"
#include "snapshot/snapshot_file.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace smvm::actors {

/// The virtio devices of one VM, registered with KVM, their actors not
/// yet spawned.
struct virtio_wiring {
  std::vector<virtio_device_spec> devices;
  irqfd_map irqfds;
  std::string cmdline;  // " virtio_mmio.device=4K@0xd0000000:5 ..."
};

struct machine_parts {
  std::shared_ptr<hv::kvm> kvm;
  std::shared_ptr<hv::vm> vm;
  std::shared_ptr<hv::guest_memory> memory;
  std::vector<std::shared_ptr<hv::vcpu_runner>> vcpus;
  std::shared_ptr<console_sink> console;  // the UART's
  std::shared_ptr<console_sink> channel;  // smvm run's workload channel (virtio-console), or null
  virtio_wiring virtio;
  /// Restored: the UART's and i8042's saved sections, by name.
  std::map<std::string, std::vector<std::uint8_t>> device_states;
  /// With every vCPU and device frozen: the VM's own sections ("machine",
  /// "vm", "memory"), guest memory written beside the state file `path`.
  std::function<result<std::vector<snapshot::section>>(const std::string& path)> capture;
};

}  // namespace smvm::actors
