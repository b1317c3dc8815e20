#pragma once
// From a validated vm.toml to a VM ready to run: KVM objects, guest memory
// with Linux loaded, virtio devices wired into KVM, and vCPUs in their boot
// state. No actors yet.

#include "actors/console_sink.hpp"
#include "actors/virtio_wiring.hpp"
#include "common/result.hpp"
#include "config/vm_config.hpp"
#include "hv/guest_memory.hpp"
#include "hv/kvm.hpp"
#include "hv/vcpu.hpp"
#include "hv/vm.hpp"

#include <memory>
#include <vector>

namespace smvm::actors {

struct machine_parts {
  std::shared_ptr<hv::kvm> kvm;
  std::shared_ptr<hv::vm> vm;
  std::shared_ptr<hv::guest_memory> memory;
  std::vector<std::shared_ptr<hv::vcpu>> vcpus;
  /// The MSRs a vCPU's snapshot holds (KVM_GET_MSR_INDEX_LIST).
  std::shared_ptr<const std::vector<std::uint32_t>> saved_msrs;
  std::shared_ptr<console_sink> console;  // the UART's
  std::shared_ptr<console_sink> channel;  // smvm run's workload channel (virtio-console), or null
  virtio_wiring virtio;  // registered with KVM, actors not yet spawned
};

/// Errors name the vm.toml line they are about ("vm.toml:3: machine.vcpus
/// = 500 is more than KVM allows (288)").
result<machine_parts> build_machine(const config::vm_config& config);

}  // namespace smvm::actors
