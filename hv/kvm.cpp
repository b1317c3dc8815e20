#include "hv/kvm.hpp"

#include "hv/kvm_list.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace smvm::hv {

result<int> kvm_ioctl(int fd, unsigned long request, unsigned long arg, const char* name) {
  int rc;
  do {
    rc = ::ioctl(fd, request, arg);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) return make_error("{}: {}", name, std::strerror(errno));
  return rc;
}

namespace {

struct required_capability {
  long id;
  const char* name;
};

constexpr required_capability required_capabilities[] = {
  {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
  {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
  {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
  {KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR"},
  {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
  {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
  {KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD"},
  {KVM_CAP_IRQFD, "KVM_CAP_IRQFD"},
};

result<std::vector<kvm_cpuid_entry2>> query_supported_cpuid(int fd) {
  // The kernel says E2BIG until the list is large enough.
  for (std::size_t n = 64; n <= 4096; n *= 2) {
    kvm_list<kvm_cpuid_entry2> cpuid(n);
    if (::ioctl(fd, kvm_get_supported_cpuid_request, cpuid.argument()) == 0) return cpuid.entries();
    if (errno != E2BIG) return make_error("KVM_GET_SUPPORTED_CPUID: {}", std::strerror(errno));
  }
  return make_error("KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

}  // namespace

result<kvm> kvm::open(const char* path) {
  int raw = ::open(path, O_RDWR | O_CLOEXEC);
  if (raw < 0) {
    int e = errno;
    if (e == ENOENT)
      return make_error("{} does not exist: this machine has no KVM (use tools/kvm-run to run "
                        "smvm inside a nested KVM guest)", path);
    return make_error("cannot open {}: {} (is your user in the kvm group?)", path, std::strerror(e));
  }
  kvm k{unique_fd(raw)};
  auto version = kvm_ioctl(k.fd(), KVM_GET_API_VERSION, 0ul, "KVM_GET_API_VERSION");
  if (!version) return version.error();
  if (*version != KVM_API_VERSION)
    return make_error("{}: KVM API version {}, smvm needs {}", path, *version, KVM_API_VERSION);
  for (auto& cap : required_capabilities)
    if (k.check_extension(cap.id) <= 0)
      return make_error("{}: the kernel lacks {}, which smvm needs", path, cap.name);
  auto mmap_size = kvm_ioctl(k.fd(), KVM_GET_VCPU_MMAP_SIZE, 0ul, "KVM_GET_VCPU_MMAP_SIZE");
  if (!mmap_size) return mmap_size.error();
  k.vcpu_mmap_size_ = static_cast<std::size_t>(*mmap_size);
  auto cpuid = query_supported_cpuid(k.fd());
  if (!cpuid) return cpuid.error();
  k.cpuid_ = std::move(*cpuid);
  return k;
}

int kvm::check_extension(long capability) const {
  int rc = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, capability);
  return rc < 0 ? 0 : rc;
}

unsigned kvm::max_vcpus() const {
  int max = check_extension(KVM_CAP_MAX_VCPUS);
  if (max <= 0) max = check_extension(KVM_CAP_NR_VCPUS);
  return max <= 0 ? 4u : static_cast<unsigned>(max);  // 4: the documented floor
}

}  // namespace smvm::hv
