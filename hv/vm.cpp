#include "hv/vm.hpp"

#include "common/persist.hpp"
#include "hv/x86/layout.hpp"
#include "hv/x86/vm_state.hpp"

namespace smvm::hv {

result<vm> vm::create(const kvm& k) {
  auto fd = kvm_ioctl(k.fd(), KVM_CREATE_VM, 0ul, "KVM_CREATE_VM");
  if (!fd) return fd.error();
  vm v{unique_fd(*fd)};
  if (auto r = kvm_ioctl(v.fd(), KVM_SET_TSS_ADDR, x86::layout::tss_address, "KVM_SET_TSS_ADDR"); !r)
    return r.error();
  std::uint64_t identity_map = x86::layout::identity_map_address;
  if (k.check_extension(KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
    if (auto r = kvm_ioctl(v.fd(), KVM_SET_IDENTITY_MAP_ADDR, &identity_map, "KVM_SET_IDENTITY_MAP_ADDR"); !r)
      return r.error();
  if (auto r = kvm_ioctl(v.fd(), KVM_CREATE_IRQCHIP, 0ul, "KVM_CREATE_IRQCHIP"); !r) return r.error();
  kvm_pit_config pit{};
  pit.flags = KVM_PIT_SPEAKER_DUMMY;  // port 0x61 answered in the kernel, not by us
  if (auto r = kvm_ioctl(v.fd(), KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2"); !r) return r.error();
  return v;
}

result<void> vm::map_memory(const guest_memory& memory) {
  std::uint32_t slot = 0;
  for (auto& r : memory.regions()) {
    kvm_userspace_memory_region region{};
    region.slot = slot++;
    region.guest_phys_addr = r.guest_address;
    region.memory_size = r.size;
    region.userspace_addr = reinterpret_cast<std::uint64_t>(memory.host_base() + r.file_offset);
    if (auto rc = kvm_ioctl(fd(), KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION"); !rc)
      return rc.error();
  }
  return {};
}

result<void> vm::set_irq_line(std::uint32_t line, bool high) const {
  kvm_irq_level level{};
  level.irq = line;
  level.level = high ? 1 : 0;
  if (auto r = kvm_ioctl(fd(), KVM_IRQ_LINE, &level, "KVM_IRQ_LINE"); !r) return r.error();
  return {};
}

result<void> vm::add_ioeventfd(std::uint64_t address, std::uint32_t length, std::uint64_t value, int fd) const {
  kvm_ioeventfd request{};
  request.addr = address;
  request.len = length;
  request.datamatch = value;
  request.fd = fd;
  request.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
  if (auto r = kvm_ioctl(this->fd(), KVM_IOEVENTFD, &request, "KVM_IOEVENTFD"); !r) return r.error();
  return {};
}

result<void> vm::add_irqfd(std::uint32_t line, int fd) const {
  kvm_irqfd request{};
  request.fd = static_cast<std::uint32_t>(fd);
  request.gsi = line;
  if (auto r = kvm_ioctl(this->fd(), KVM_IRQFD, &request, "KVM_IRQFD"); !r) return r.error();
  return {};
}

static_assert(persistent<vm>);

result<vm::saved_state> vm::save() const { return x86::save_vm_state(*this); }

result<void> vm::restore(const saved_state& state) { return x86::restore_vm_state(*this, state); }

}  // namespace smvm::hv
