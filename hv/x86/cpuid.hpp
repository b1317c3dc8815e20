#pragma once
// The CPUID a vCPU presents: what KVM supports, with its own APIC ID.

#include <linux/kvm.h>

#include <vector>

namespace smvm::hv::x86 {

/// Adjusts KVM's supported CPUID for vCPU `id` of `count`: the initial APIC
/// ID (leaf 1 EBX[31:24], leaves 0xB/0x1F EDX), the logical processor
/// count, and the hypervisor bit.
std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::vector<kvm_cpuid_entry2> supported, unsigned id,
                                         unsigned count);

}  // namespace smvm::hv::x86
