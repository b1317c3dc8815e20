#include "hv/x86/vcpu_setup.hpp"

#include "hv/kvm_list.hpp"
#include "hv/x86/cpuid.hpp"
#include "hv/x86/gdt.hpp"
#include "hv/x86/layout.hpp"

#include <cstring>

namespace smvm::hv::x86 {

namespace {

constexpr std::uint32_t msr_ia32_tsc = 0x10, msr_ia32_sysenter_cs = 0x174, msr_ia32_sysenter_esp = 0x175,
                        msr_ia32_sysenter_eip = 0x176, msr_ia32_misc_enable = 0x1a0,
                        msr_mtrr_def_type = 0x2ff, msr_star = 0xc0000081, msr_lstar = 0xc0000082,
                        msr_cstar = 0xc0000083, msr_syscall_mask = 0xc0000084,
                        msr_kernel_gs_base = 0xc0000102;
constexpr std::uint64_t misc_enable_fast_string = 1;
constexpr std::uint64_t mtrr_enable_writeback = (1 << 11) | 6;  // MTRRs on, default type WB

constexpr std::uint64_t cr0_pe = 1, cr0_et = 1 << 4, cr0_pg = 1ull << 31;
constexpr std::uint64_t cr4_pae = 1 << 5;
constexpr std::uint64_t efer_lme = 1 << 8, efer_lma = 1 << 10;

constexpr std::size_t apic_lvt_lint0 = 0x350, apic_lvt_lint1 = 0x360;
constexpr std::uint32_t apic_mode_nmi = 4, apic_mode_extint = 7;

result<void> set_cpuid(const kvm& k, vcpu& cpu, unsigned count) {
  kvm_list<kvm_cpuid_entry2> cpuid(vcpu_cpuid(k.supported_cpuid(), cpu.id(), count));
  if (auto r = kvm_ioctl(cpu.fd(), kvm_set_cpuid2_request, cpuid.argument(), "KVM_SET_CPUID2"); !r) return r.error();
  return {};
}

result<void> set_boot_msrs(vcpu& cpu) {
  const std::pair<std::uint32_t, std::uint64_t> values[] = {
    {msr_ia32_sysenter_cs, 0}, {msr_ia32_sysenter_esp, 0}, {msr_ia32_sysenter_eip, 0},
    {msr_star, 0}, {msr_cstar, 0}, {msr_kernel_gs_base, 0}, {msr_syscall_mask, 0}, {msr_lstar, 0},
    {msr_ia32_tsc, 0}, {msr_ia32_misc_enable, misc_enable_fast_string},
    {msr_mtrr_def_type, mtrr_enable_writeback},
  };
  kvm_list<kvm_msr_entry> msrs(std::size(values));
  for (std::size_t i = 0; i < std::size(values); ++i) {
    msrs.data()[i].index = values[i].first;
    msrs.data()[i].data = values[i].second;
  }
  auto set = kvm_ioctl(cpu.fd(), kvm_set_msrs_request, msrs.argument(), "KVM_SET_MSRS");
  if (!set) return set.error();
  if (static_cast<std::size_t>(*set) != std::size(values))  // how many it set, stopping at the first refusal
    return make_error("KVM_SET_MSRS: the vCPU refused MSR {:#x}", values[*set].first);
  return {};
}

result<void> set_lapic_lints(vcpu& cpu) {
  kvm_lapic_state lapic{};
  if (auto r = kvm_ioctl(cpu.fd(), KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC"); !r) return r.error();
  auto set_mode = [&](std::size_t reg, std::uint32_t mode) {
    std::uint32_t value;
    std::memcpy(&value, lapic.regs + reg, 4);
    value = (value & ~0x700u) | (mode << 8);
    std::memcpy(lapic.regs + reg, &value, 4);
  };
  set_mode(apic_lvt_lint0, apic_mode_extint);
  set_mode(apic_lvt_lint1, apic_mode_nmi);
  if (auto r = kvm_ioctl(cpu.fd(), KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC"); !r) return r.error();
  return {};
}

}  // namespace

result<void> setup_vcpu(const kvm& k, vcpu& cpu, unsigned count) {
  if (auto r = set_cpuid(k, cpu, count); !r) return r;
  if (auto r = set_boot_msrs(cpu); !r) return r;
  return set_lapic_lints(cpu);
}

result<void> setup_boot_processor(vcpu& cpu, const boot_entry& entry) {
  kvm_sregs sregs{};
  if (auto r = kvm_ioctl(cpu.fd(), KVM_GET_SREGS, &sregs, "KVM_GET_SREGS"); !r) return r.error();
  auto gdt = boot_gdt();
  sregs.gdt.base = layout::gdt_address;
  sregs.gdt.limit = sizeof(gdt) - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;  // interrupts stay off until the kernel loads its own IDT
  sregs.cs = segment_from_gdt_entry(gdt[layout::boot_code_selector / 8], layout::boot_code_selector);
  kvm_segment data = segment_from_gdt_entry(gdt[layout::boot_data_selector / 8], layout::boot_data_selector);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  sregs.tr = segment_from_gdt_entry(gdt[layout::boot_tss_selector / 8], layout::boot_tss_selector);
  sregs.cr3 = layout::page_tables_address;
  sregs.cr4 |= cr4_pae;
  sregs.cr0 |= cr0_pe | cr0_et | cr0_pg;
  sregs.efer |= efer_lme | efer_lma;
  if (auto r = kvm_ioctl(cpu.fd(), KVM_SET_SREGS, &sregs, "KVM_SET_SREGS"); !r) return r.error();

  kvm_regs regs{};
  regs.rflags = 0x2;  // bit 1 is always set; IF clear
  regs.rip = entry.instruction_pointer;
  regs.rsi = entry.boot_params;
  regs.rsp = regs.rbp = layout::boot_stack_pointer;
  if (auto r = kvm_ioctl(cpu.fd(), KVM_SET_REGS, &regs, "KVM_SET_REGS"); !r) return r.error();

  kvm_fpu fpu{};
  fpu.fcw = 0x37f;     // x87 default control word
  fpu.mxcsr = 0x1f80;  // SSE exceptions masked
  if (auto r = kvm_ioctl(cpu.fd(), KVM_SET_FPU, &fpu, "KVM_SET_FPU"); !r) return r.error();
  return {};
}

}  // namespace smvm::hv::x86
