#pragma once
// From a validated vm.toml to a VM ready to run: KVM objects, guest memory
// with Linux loaded, virtio devices wired into KVM, and vCPUs in their boot
// state. Or from a snapshot: the same VM built again, its memory mapped from
// the memory file and every part in its saved state. No actors yet.

#include "actors/console_sink.hpp"
#include "actors/vm_capture.hpp"
#include "actors/virtio_wiring.hpp"
#include "common/result.hpp"
#include "config/vm_config.hpp"
#include "hv/guest_memory.hpp"
#include "hv/kvm.hpp"
#include "hv/vcpu.hpp"
#include "hv/vm.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

namespace smvm::actors {

struct machine_parts {
  std::shared_ptr<hv::kvm> kvm;
  std::shared_ptr<hv::vm> vm;
  std::shared_ptr<hv::guest_memory> memory;
  std::vector<std::shared_ptr<hv::vcpu_runner>> vcpus;
  /// The MSRs a vCPU's snapshot holds (KVM_GET_MSR_INDEX_LIST).
  std::shared_ptr<const std::vector<std::uint32_t>> saved_msrs;
  std::shared_ptr<console_sink> console;  // the UART's
  std::shared_ptr<console_sink> channel;  // smvm run's workload channel (virtio-console), or null
  virtio_wiring virtio;  // registered with KVM, actors not yet spawned
  /// What a snapshot of this VM records to build it again.
  machine_record record;
  /// Restored: the UART's and i8042's saved sections, by name.
  std::map<std::string, std::vector<std::uint8_t>> device_states;
};

/// How a restored VM's console reaches the host (vm.toml's [console]
/// output and input; the device is the snapshot's).
struct restore_options {
  config::console_section console;
};

/// Errors name the vm.toml line they are about ("vm.toml:3: machine.vcpus
/// = 500 is more than KVM allows (288)").
result<machine_parts> build_machine(const config::vm_config& config);

/// What booting and restoring share: KVM, the VM, guest memory from
/// `make_memory`, the console and the virtio devices, wired.
result<machine_parts> build_base(const config::vm_config& config,
                                 const std::function<result<hv::guest_memory>()>& make_memory);
/// Creates the vCPUs with smvm's CPUID; `prepare(id, cpu)` sets each one's
/// starting state.
result<void> add_vcpus(machine_parts& parts, unsigned count,
                       const std::function<result<void>(unsigned id, hv::vcpu& cpu)>& prepare);

/// The VM a snapshot file holds, ready to run on from where it stopped.
/// Errors name the file and the section.
result<machine_parts> restore_machine(const std::filesystem::path& snapshot_path, const restore_options& options);

}  // namespace smvm::actors
