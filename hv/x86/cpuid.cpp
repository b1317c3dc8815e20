#include "hv/x86/cpuid.hpp"

namespace smvm::hv::x86 {

std::vector<kvm_cpuid_entry2> vcpu_cpuid(std::vector<kvm_cpuid_entry2> entries, unsigned id,
                                         unsigned count) {
  constexpr unsigned ecx_hypervisor = 1u << 31, edx_htt = 1u << 28;
  for (auto& e : entries) {
    switch (e.function) {
      case 0x1:
        e.ebx = (e.ebx & 0x0000ffff) | (id << 24) | ((count & 0xff) << 16);
        e.ecx |= ecx_hypervisor;
        if (count > 1) e.edx |= edx_htt;
        break;
      case 0xb:
      case 0x1f:
        e.edx = id;  // the x2APIC ID, in every sub-leaf
        break;
      default:
        break;
    }
  }
  return entries;
}

}  // namespace smvm::hv::x86
