#pragma once
// Everything KVM holds for one x86 vCPU, saved from a paused vCPU and put
// back into a fresh one. The kernel structures are kept whole: their layout
// is KVM's ABI, and the snapshot format version guards any change.

#include "common/result.hpp"
#include "hv/kvm.hpp"
#include "hv/vcpu.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace smvm::hv::x86 {

/// struct kvm_xsave as C lays it out (4096 bytes): the uapi header's flexible
/// tail makes it larger in C++, which would change the ioctl number.
struct xsave_area {
  std::uint32_t region[1024];
};
static_assert(sizeof(xsave_area) == 4096);

struct vcpu_state {
  std::vector<kvm_cpuid_entry2> cpuid;
  kvm_mp_state mp_state{};
  kvm_regs regs{};
  kvm_sregs sregs{};
  xsave_area xsave{};
  kvm_xcrs xcrs{};
  kvm_debugregs debugregs{};
  kvm_lapic_state lapic{};
  std::vector<kvm_msr_entry> msrs;
  kvm_vcpu_events events{};

  /// Calls `v` on every field by name; the snapshot codec is such a visitor.
  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.list("cpuid", s.cpuid) && v.raw("mp_state", s.mp_state) && v.raw("regs", s.regs) &&
           v.raw("sregs", s.sregs) && v.raw("xsave", s.xsave) && v.raw("xcrs", s.xcrs) &&
           v.raw("debugregs", s.debugregs) && v.raw("lapic", s.lapic) && v.list("msrs", s.msrs) &&
           v.raw("events", s.events);
  }
};

/// The MSRs KVM says a VMM should save (KVM_GET_MSR_INDEX_LIST), sorted, so
/// that IA32_TSC comes back before the TSC deadline that depends on it.
result<std::vector<std::uint32_t>> saveable_msrs(const kvm& kvm);

/// Reads the state of a vCPU that is not in KVM_RUN. MSRs the vCPU refuses
/// to read are left out (KVM lists some a given CPU does not have).
result<vcpu_state> save_vcpu_state(const vcpu& cpu, const std::vector<std::uint32_t>& msr_indices);

/// Loads a saved state into a vCPU that has not run yet, in the order KVM
/// needs: CPUID first; sregs (the APIC base) before the LAPIC; MSRs before
/// the events that may refer to them.
result<void> restore_vcpu_state(vcpu& cpu, const vcpu_state& state);

}  // namespace smvm::hv::x86
