#pragma once
// What KVM holds for a whole x86 VM beyond its vCPUs: the in-kernel PICs and
// IOAPIC, the PIT, and the KVM clock the guest reads through kvmclock.

#include "common/result.hpp"
#include "hv/vm.hpp"

#include <linux/kvm.h>

namespace smvm::hv::x86 {

struct vm_state {
  kvm_irqchip pic_master{};
  kvm_irqchip pic_slave{};
  kvm_irqchip ioapic{};
  kvm_pit_state2 pit{};
  kvm_clock_data clock{};

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.raw("pic_master", s.pic_master) && v.raw("pic_slave", s.pic_slave) && v.raw("ioapic", s.ioapic) &&
           v.raw("pit", s.pit) && v.raw("clock", s.clock);
  }
};

/// Reads the VM's state; every vCPU must be out of KVM_RUN.
result<vm_state> save_vm_state(const vm& vm);
/// Loads it into a VM built as vm::create builds one, before any vCPU runs.
/// The clock resumes from the saved value: the guest sees no time pass.
result<void> restore_vm_state(const vm& vm, const vm_state& state);

}  // namespace smvm::hv::x86
