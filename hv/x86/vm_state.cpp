#include "hv/x86/vm_state.hpp"

namespace smvm::hv::x86 {

namespace {

result<void> call(const vm& v, unsigned long request, void* arg, const char* name) {
  if (auto r = kvm_ioctl(v.fd(), request, arg, name); !r) return r.error();
  return {};
}

}  // namespace

result<vm_state> save_vm_state(const vm& v) {
  vm_state s;
  s.pic_master.chip_id = KVM_IRQCHIP_PIC_MASTER;
  s.pic_slave.chip_id = KVM_IRQCHIP_PIC_SLAVE;
  s.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
  for (auto* chip : {&s.pic_master, &s.pic_slave, &s.ioapic})
    if (auto r = call(v, KVM_GET_IRQCHIP, chip, "KVM_GET_IRQCHIP"); !r) return r.error();
  if (auto r = call(v, KVM_GET_PIT2, &s.pit, "KVM_GET_PIT2"); !r) return r.error();
  if (auto r = call(v, KVM_GET_CLOCK, &s.clock, "KVM_GET_CLOCK"); !r) return r.error();
  return s;
}

result<void> restore_vm_state(const vm& v, const vm_state& saved) {
  vm_state s = saved;  // the ioctls take non-const pointers
  if (s.pic_master.chip_id != KVM_IRQCHIP_PIC_MASTER || s.pic_slave.chip_id != KVM_IRQCHIP_PIC_SLAVE ||
      s.ioapic.chip_id != KVM_IRQCHIP_IOAPIC)
    return make_error("restoring the VM: the irqchip state names chips {}, {}, {}, not the PICs and IOAPIC",
                      s.pic_master.chip_id, s.pic_slave.chip_id, s.ioapic.chip_id);
  for (auto* chip : {&s.pic_master, &s.pic_slave, &s.ioapic})
    if (auto r = call(v, KVM_SET_IRQCHIP, chip, "KVM_SET_IRQCHIP"); !r) return r;
  if (auto r = call(v, KVM_SET_PIT2, &s.pit, "KVM_SET_PIT2"); !r) return r;
  // Only the clock value: with KVM_CLOCK_REALTIME set, KVM would add the
  // time the snapshot spent on disk.
  kvm_clock_data clock{};
  clock.clock = s.clock.clock;
  return call(v, KVM_SET_CLOCK, &clock, "KVM_SET_CLOCK");
}

}  // namespace smvm::hv::x86
