#pragma once
// Puts a fresh KVM vCPU in the state the Linux 64-bit boot protocol expects.

#include "common/result.hpp"
#include "hv/kvm.hpp"
#include "hv/vcpu.hpp"

#include <cstdint>

namespace smvm::hv::x86 {

/// Where the bootstrap processor starts.
struct boot_entry {
  std::uint64_t instruction_pointer;  // the kernel's 64-bit entry
  std::uint64_t boot_params;          // into %rsi
};

/// Every vCPU: CPUID with its APIC ID, the boot MSRs, LAPIC LINT0 as ExtINT
/// and LINT1 as NMI. The APs then wait in the in-kernel LAPIC for INIT/SIPI.
result<void> setup_vcpu(const kvm& kvm, vcpu& cpu, unsigned count);

/// The bootstrap processor only: long mode with paging, the boot GDT's
/// segments, the registers the protocol names, a clean FPU.
result<void> setup_boot_processor(vcpu& cpu, const boot_entry& entry);

}  // namespace smvm::hv::x86
