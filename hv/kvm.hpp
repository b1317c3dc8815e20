#pragma once
// /dev/kvm: the system fd, its capabilities and what it can emulate.

#include "common/result.hpp"
#include "common/unique_fd.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <vector>

namespace smvm::hv {

/// Calls ioctl(fd, request, arg) and turns a failure into an error naming
/// the request ("KVM_CREATE_VM: Permission denied").
result<int> kvm_ioctl(int fd, unsigned long request, unsigned long arg, const char* name);
template <class T>
result<int> kvm_ioctl(int fd, unsigned long request, T* arg, const char* name) {
  return kvm_ioctl(fd, request, reinterpret_cast<unsigned long>(arg), name);
}

/// The opened KVM subsystem.
class kvm {
 public:
  /// Opens the device and checks the API version and every capability smvm
  /// relies on, so a missing one is reported before a VM is half built.
  static result<kvm> open(const char* path = "/dev/kvm");

  int fd() const { return fd_.get(); }
  /// KVM_CHECK_EXTENSION: 0 when absent, else a capability-specific value.
  int check_extension(long capability) const;
  /// The most vCPUs one VM may have (KVM_CAP_MAX_VCPUS).
  unsigned max_vcpus() const;
  /// Size of the kvm_run area each vCPU fd maps.
  std::size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }
  /// CPUID leaves KVM can present to a guest (KVM_GET_SUPPORTED_CPUID).
  const std::vector<kvm_cpuid_entry2>& supported_cpuid() const { return cpuid_; }

 private:
  explicit kvm(unique_fd fd) : fd_(std::move(fd)) {}
  unique_fd fd_;
  std::size_t vcpu_mmap_size_ = 0;
  std::vector<kvm_cpuid_entry2> cpuid_;
};

}  // namespace smvm::hv
