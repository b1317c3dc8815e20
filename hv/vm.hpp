#pragma once
// One KVM virtual machine: its fd, RAM slots, in-kernel irqchip and PIT.

#include "common/result.hpp"
#include "hv/guest_memory.hpp"
#include "hv/kvm.hpp"
#include "common/unique_fd.hpp"

#include <cstdint>

namespace smvm::hv {

namespace x86 {
struct vm_state;
}

class vm {
 public:
  /// KVM_CREATE_VM plus the x86 platform every smvm guest gets: the TSS and
  /// identity-map pages KVM needs on Intel, the in-kernel PIC/IOAPIC/LAPIC,
  /// and the in-kernel PIT.
  static result<vm> create(const kvm& kvm);

  /// Registers every region of `memory` as a KVM memory slot.
  result<void> map_memory(const guest_memory& memory);
  /// Drives an interrupt line of the in-kernel irqchip (KVM_IRQ_LINE).
  result<void> set_irq_line(std::uint32_t line, bool high) const;
  /// KVM_IOEVENTFD: a guest write of `value` (`length` bytes) to MMIO
  /// `address` signals `fd` inside KVM, with no exit to userspace.
  result<void> add_ioeventfd(std::uint64_t address, std::uint32_t length, std::uint64_t value, int fd) const;
  /// KVM_IRQFD: a write to `fd` pulses interrupt line `line` inside KVM.
  result<void> add_irqfd(std::uint32_t line, int fd) const;

  /// Persisted as common/persist.hpp says: the in-kernel irqchips, PIT and
  /// clock (hv/x86/vm_state.hpp), read while every vCPU is out of KVM_RUN
  /// and put back before any vCPU runs.
  using saved_state = x86::vm_state;
  result<saved_state> save() const;
  result<void> restore(const saved_state& state);

  int fd() const { return fd_.get(); }

 private:
  explicit vm(unique_fd fd) : fd_(std::move(fd)) {}
  unique_fd fd_;
};

}  // namespace smvm::hv
