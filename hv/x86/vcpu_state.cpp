#include "hv/x86/vcpu_state.hpp"

#include "hv/kvm_list.hpp"

#include <cpuid.h>

#include <algorithm>

namespace smvm::hv::x86 {

namespace {

// kvm_xsave's request numbers from its C layout (see kvm_list.hpp for why).
constexpr unsigned long kvm_get_xsave_request = _IOR(KVMIO, 0xa4, xsave_area);
constexpr unsigned long kvm_set_xsave_request = _IOW(KVMIO, 0xa5, xsave_area);
constexpr std::size_t max_cpuid_entries = 256;

template <class T>
result<void> get(const vcpu& cpu, unsigned long request, T& out, const char* name) {
  if (auto r = kvm_ioctl(cpu.fd(), request, &out, name); !r) return r.error();
  return {};
}

template <class T>
result<void> set(vcpu& cpu, unsigned long request, const T& in, const char* name) {
  if (auto r = kvm_ioctl(cpu.fd(), request, const_cast<T*>(&in), name); !r) return r.error();
  return {};
}

result<std::vector<kvm_msr_entry>> read_msrs(const vcpu& cpu, const std::vector<std::uint32_t>& indices) {
  std::vector<kvm_msr_entry> saved;
  std::size_t from = 0;
  while (from < indices.size()) {
    kvm_list<kvm_msr_entry> batch(indices.size() - from);
    for (std::size_t i = from; i < indices.size(); ++i) batch.data()[i - from] = kvm_msr_entry{indices[i], 0, 0};
    auto read = kvm_ioctl(cpu.fd(), kvm_get_msrs_request, batch.argument(), "KVM_GET_MSRS");
    if (!read) return read.error();
    // KVM stops at the first MSR it cannot read: keep what it read, skip that one.
    const auto count = static_cast<std::size_t>(*read);
    saved.insert(saved.end(), batch.data(), batch.data() + count);
    from += count + 1;
  }
  return saved;
}

}  // namespace

result<std::vector<std::uint32_t>> saveable_msrs(const kvm& k) {
  std::vector<std::uint32_t> list(1 + 1024, 0);
  list[0] = 1024;
  if (auto r = kvm_ioctl(k.fd(), kvm_get_msr_index_list_request, list.data(), "KVM_GET_MSR_INDEX_LIST"); !r)
    return r.error();
  std::vector<std::uint32_t> indices(list.begin() + 1, list.begin() + 1 + std::min<std::uint32_t>(list[0], 1024));
  std::sort(indices.begin(), indices.end());
  return indices;
}

result<vcpu_state> save_vcpu_state(const vcpu& cpu, const std::vector<std::uint32_t>& msr_indices) {
  vcpu_state s;
  // KVM_GET_MP_STATE first: it lets the LAPIC accept pending events, which
  // changes the state read after it. KVM_GET_VCPU_EVENTS last.
  if (auto r = get(cpu, KVM_GET_MP_STATE, s.mp_state, "KVM_GET_MP_STATE"); !r) return r.error();
  if (auto r = get(cpu, KVM_GET_REGS, s.regs, "KVM_GET_REGS"); !r) return r.error();
  if (auto r = get(cpu, KVM_GET_SREGS, s.sregs, "KVM_GET_SREGS"); !r) return r.error();
  if (auto r = get(cpu, kvm_get_xsave_request, s.xsave, "KVM_GET_XSAVE"); !r) return r.error();
  if (auto r = get(cpu, KVM_GET_XCRS, s.xcrs, "KVM_GET_XCRS"); !r) return r.error();
  if (auto r = get(cpu, KVM_GET_DEBUGREGS, s.debugregs, "KVM_GET_DEBUGREGS"); !r) return r.error();
  if (auto r = get(cpu, KVM_GET_LAPIC, s.lapic, "KVM_GET_LAPIC"); !r) return r.error();
  kvm_list<kvm_cpuid_entry2> cpuid(max_cpuid_entries);
  if (auto r = kvm_ioctl(cpu.fd(), kvm_get_cpuid2_request, cpuid.argument(), "KVM_GET_CPUID2"); !r) return r.error();
  s.cpuid = cpuid.entries();
  auto msrs = read_msrs(cpu, msr_indices);
  if (!msrs) return msrs.error();
  s.msrs = std::move(*msrs);
  if (auto r = get(cpu, KVM_GET_VCPU_EVENTS, s.events, "KVM_GET_VCPU_EVENTS"); !r) return r.error();
  return s;
}

namespace {

/// True on an AMD host (SVM): CPUID 0x80000001, ECX bit 2.
bool host_has_svm() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 2));
}

/// The special registers as KVM_SET_SREGS should get them. On SVM,
/// KVM_GET_SREGS reports TR as a busy TSS (type 11) whatever the VMCB held,
/// since AMD CPUs keep the type as the descriptor had it before LTR marked
/// it busy (9). The CPUs ignore it; QEMU's SVM emulation, where these tests
/// run KVM, refuses every user port access (ioperm) through a TR not of
/// type 9. So on SVM the VMCB gets back the type it held.
kvm_sregs sregs_to_set(const kvm_sregs& saved) {
  kvm_sregs s = saved;
  static const bool svm = host_has_svm();
  if (svm && s.tr.type == 11) s.tr.type = 9;
  return s;
}

}  // namespace

result<void> restore_vcpu_state(vcpu& cpu, const vcpu_state& s) {
  const auto where = [&](result<void> r) { return with_context(std::move(r), fmt::format("restoring vCPU {}", cpu.id())); };
  kvm_list<kvm_cpuid_entry2> cpuid(s.cpuid);
  if (auto r = kvm_ioctl(cpu.fd(), kvm_set_cpuid2_request, cpuid.argument(), "KVM_SET_CPUID2"); !r)
    return where(r.error());
  if (auto r = set(cpu, KVM_SET_MP_STATE, s.mp_state, "KVM_SET_MP_STATE"); !r) return where(r);
  if (auto r = set(cpu, KVM_SET_REGS, s.regs, "KVM_SET_REGS"); !r) return where(r);
  if (auto r = set(cpu, KVM_SET_SREGS, sregs_to_set(s.sregs), "KVM_SET_SREGS"); !r) return where(r);
  if (auto r = set(cpu, kvm_set_xsave_request, s.xsave, "KVM_SET_XSAVE"); !r) return where(r);
  if (auto r = set(cpu, KVM_SET_XCRS, s.xcrs, "KVM_SET_XCRS"); !r) return where(r);
  if (auto r = set(cpu, KVM_SET_DEBUGREGS, s.debugregs, "KVM_SET_DEBUGREGS"); !r) return where(r);
  if (auto r = set(cpu, KVM_SET_LAPIC, s.lapic, "KVM_SET_LAPIC"); !r) return where(r);
  kvm_list<kvm_msr_entry> msrs(s.msrs);
  auto written = kvm_ioctl(cpu.fd(), kvm_set_msrs_request, msrs.argument(), "KVM_SET_MSRS");
  if (!written) return where(written.error());
  if (static_cast<std::size_t>(*written) != s.msrs.size())
    return where(make_error("KVM_SET_MSRS: the vCPU refused MSR {:#x}", s.msrs[static_cast<std::size_t>(*written)].index));
  if (auto r = set(cpu, KVM_SET_VCPU_EVENTS, s.events, "KVM_SET_VCPU_EVENTS"); !r) return where(r);
  return {};
}

}  // namespace smvm::hv::x86
