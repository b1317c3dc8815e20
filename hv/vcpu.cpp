#include "hv/vcpu.hpp"

#include "common/persist.hpp"
#include "hv/x86/vcpu_state.hpp"

#include <fmt/format.h>

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <utility>

namespace smvm::hv {

result<vcpu> vcpu::create(const kvm& k, const vm& v, unsigned id) {
  auto fd = kvm_ioctl(v.fd(), KVM_CREATE_VCPU, static_cast<unsigned long>(id), "KVM_CREATE_VCPU");
  if (!fd) return fd.error();
  unique_fd owned(*fd);
  void* p = ::mmap(nullptr, k.vcpu_mmap_size(), PROT_READ | PROT_WRITE, MAP_SHARED, owned.get(), 0);
  if (p == MAP_FAILED) return make_error("cannot map kvm_run of vCPU {}: {}", id, std::strerror(errno));
  return vcpu(std::move(owned), static_cast<kvm_run*>(p), k.vcpu_mmap_size(), id);
}

vcpu::vcpu(vcpu&& other) noexcept
    : fd_(std::move(other.fd_)),
      run_(std::exchange(other.run_, nullptr)),
      run_size_(other.run_size_),
      id_(other.id_),
      msrs_(std::move(other.msrs_)) {}

vcpu::~vcpu() {
  if (run_) ::munmap(run_, run_size_);
}

vcpu_exit vcpu::run() {
  // Not retried on EINTR: an interrupted run is how a kick is delivered.
  if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
    const int error = errno;
    if (error == EINTR || error == EAGAIN) return exits::interrupted{};
    return exits::run_failed{error};
  }
  return decode_exit();
}

vcpu_exit vcpu::decode_exit() {
  kvm_run& r = *run_;
  switch (r.exit_reason) {
    case KVM_EXIT_IO: {
      const unsigned size = r.io.size;
      const std::uint64_t bytes = std::uint64_t{r.io.count} * size;
      if ((size != 1 && size != 2 && size != 4) || r.io.data_offset > run_size_ || bytes > run_size_ - r.io.data_offset)
        return exits::unexpected{fmt::format("malformed port I/O exit (size {}, count {}, data at {} of {} bytes)",
                                             size, r.io.count, r.io.data_offset, run_size_)};
      auto* data = reinterpret_cast<std::uint8_t*>(run_) + r.io.data_offset;
      return exits::port_io{r.io.port, static_cast<std::uint8_t>(size), r.io.direction == KVM_EXIT_IO_OUT, r.io.count,
                            {data, static_cast<std::size_t>(bytes)}};
    }
    case KVM_EXIT_MMIO:
      if (r.mmio.len == 0 || r.mmio.len > sizeof r.mmio.data)
        return exits::unexpected{fmt::format("malformed MMIO exit (size {})", r.mmio.len)};
      return exits::mmio{r.mmio.phys_addr, r.mmio.is_write != 0, {r.mmio.data, r.mmio.len}};
    case KVM_EXIT_INTR: return exits::interrupted{};
    case KVM_EXIT_HLT: return exits::halt{};
    case KVM_EXIT_SHUTDOWN: return exits::shutdown{};
    case KVM_EXIT_SYSTEM_EVENT: return exits::system_event{r.system_event.type};
    case KVM_EXIT_FAIL_ENTRY: return exits::entry_failed{r.fail_entry.hardware_entry_failure_reason};
    case KVM_EXIT_INTERNAL_ERROR: {
      // Where the guest was says most about why KVM gave up (an emulation
      // failure names an instruction at that address).
      exits::internal_error e{r.internal.suberror, std::nullopt};
      kvm_regs regs{};
      if (::ioctl(fd_.get(), KVM_GET_REGS, &regs) == 0) e.rip = regs.rip;
      return e;
    }
    default: return exits::unexpected{fmt::format("unexpected KVM exit {}", r.exit_reason)};
  }
}

static_assert(persistent<vcpu>);

result<vcpu::saved_state> vcpu::save() const {
  static const std::vector<std::uint32_t> none;
  return x86::save_vcpu_state(*this, msrs_ ? *msrs_ : none);
}

result<void> vcpu::restore(const saved_state& state) { return x86::restore_vcpu_state(*this, state); }

result<std::vector<std::uint8_t>> vcpu::save_state() { return save_section(*this); }

}  // namespace smvm::hv
