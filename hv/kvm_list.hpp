#pragma once
// KVM's variable-length argument lists (kvm_cpuid2, kvm_msrs), laid out as C
// lays them out.
//
// The uapi headers declare their trailing arrays with __DECLARE_FLEX_ARRAY,
// an anonymous struct holding an empty struct. In C that empty struct has
// size 0; in C++ it has size 1, which moves the array to offset 12 and
// changes sizeof, and with it the size field inside the _IOWR ioctl numbers.
// The kernel then answers EINVAL. So smvm builds these lists itself and uses
// the ioctl numbers computed from the C layout.

#include <linux/kvm.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace smvm::hv {

/// The fixed part of every such list: a count and padding.
struct kvm_list_header {
  std::uint32_t count;
  std::uint32_t padding;
};
static_assert(sizeof(kvm_list_header) == 8);

inline constexpr unsigned long kvm_get_supported_cpuid_request = _IOWR(KVMIO, 0x05, kvm_list_header);
inline constexpr unsigned long kvm_set_cpuid2_request = _IOW(KVMIO, 0x90, kvm_list_header);
inline constexpr unsigned long kvm_get_msrs_request = _IOWR(KVMIO, 0x88, kvm_list_header);
inline constexpr unsigned long kvm_set_msrs_request = _IOW(KVMIO, 0x89, kvm_list_header);
inline constexpr unsigned long kvm_get_cpuid2_request = _IOWR(KVMIO, 0x91, kvm_list_header);
/// struct kvm_msr_list is a u32 count and its indices: 4 bytes in C.
inline constexpr unsigned long kvm_get_msr_index_list_request = _IOWR(KVMIO, 0x02, std::uint32_t);

/// A header followed by `capacity` entries, contiguous, 8-byte aligned.
template <class Entry>
class kvm_list {
 public:
  explicit kvm_list(std::size_t capacity)
      : storage_((sizeof(kvm_list_header) + capacity * sizeof(Entry) + 7) / 8, 0) {
    header()->count = static_cast<std::uint32_t>(capacity);
  }
  explicit kvm_list(const std::vector<Entry>& entries) : kvm_list(entries.size()) {
    if (!entries.empty()) std::memcpy(data(), entries.data(), entries.size() * sizeof(Entry));
  }

  kvm_list_header* header() { return reinterpret_cast<kvm_list_header*>(storage_.data()); }
  Entry* data() { return reinterpret_cast<Entry*>(reinterpret_cast<std::uint8_t*>(storage_.data()) + 8); }
  std::uint32_t size() { return header()->count; }
  std::vector<Entry> entries() { return std::vector<Entry>(data(), data() + size()); }
  /// What to pass to ioctl.
  void* argument() { return storage_.data(); }

 private:
  std::vector<std::uint64_t> storage_;
};

}  // namespace smvm::hv
