#pragma once
// From a validated vm.toml to a VM ready to run: KVM objects, guest memory
// with Linux loaded, virtio devices wired into KVM, and vCPUs in their boot
// state. Or from a snapshot: the same VM built again, its memory mapped from
// the memory file and every part in its saved state. No actors yet.

#include "actors/machine_parts.hpp"
#include "common/result.hpp"
#include "config/vm_config.hpp"
#include "hv/vcpu.hpp"
#include "vmm/machine_record.hpp"
#include "vmm/virtio_wiring.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

namespace smvm::vmm {

/// A VM built and not yet running: what the machine actor gets, and what
/// only the builder needs.
struct built_machine {
  actors::machine_parts parts;
  /// What a snapshot of this VM records to build it again.
  machine_record record;
  /// The MSRs a vCPU's snapshot holds (KVM_GET_MSR_INDEX_LIST).
  std::shared_ptr<const std::vector<std::uint32_t>> saved_msrs;
  /// Where its console goes (a restored smvm run VM keeps its workload streams).
  config::console_section console;
};

/// How a restored VM's console reaches the host (vm.toml's [console]
/// output and input; the device is the snapshot's).
struct restore_options {
  config::console_section console;  // input and output; a run VM's workload streams stay
  /// Where the VM's Unix sockets (settings of type socket, vsock's
  /// uds_path) go: this folder, under their file names, so that restored
  /// VMs and clones of one snapshot each have their own. Empty: where the
  /// snapshot's VM had them.
  std::filesystem::path socket_folder;
  /// Which clone of the snapshot this VM is (0: the first, or the only
  /// one): its devices differ where clones must (device_kind::for_clone).
  unsigned clone_index = 0;
};

/// Errors name the vm.toml line they are about ("vm.toml:3: machine.vcpus
/// = 500 is more than KVM allows (288)").
result<built_machine> build_machine(const config::vm_config& config);

/// What booting and restoring share: KVM, the VM, guest memory from
/// `make_memory`, the console and the virtio devices, wired.
result<built_machine> build_base(const config::vm_config& config,
                                 const std::function<result<hv::guest_memory>()>& make_memory);
/// Creates the vCPUs with smvm's CPUID; `prepare(id, cpu)` sets each one's
/// starting state.
result<void> add_vcpus(built_machine& machine, unsigned count,
                       const std::function<result<void>(unsigned id, hv::vcpu& cpu)>& prepare);

/// The VM a snapshot file holds, ready to run on from where it stopped.
/// Errors name the file and the section.
result<built_machine> restore_machine(const std::filesystem::path& snapshot_path, const restore_options& options);

}  // namespace smvm::vmm
