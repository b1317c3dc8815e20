#include "hv/vcpu.hpp"

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
      id_(other.id_) {}

vcpu::~vcpu() {
  if (run_) ::munmap(run_, run_size_);
}

int vcpu::run() {
  // Not retried on EINTR: an interrupted run is how a kick is delivered.
  return ::ioctl(fd_.get(), KVM_RUN, 0) < 0 ? -errno : 0;
}

}  // namespace smvm::hv
