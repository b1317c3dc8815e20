#pragma once
// Guest RAM: one memfd mapped shared into smvm, seen by the guest as one or
// more physical ranges. Every access by guest-physical address goes through
// a bounds check, because addresses often come from the untrusted guest.

#include "common/result.hpp"
#include "common/unique_fd.hpp"

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

namespace smvm::hv {

/// One guest-physical range backed by [offset, offset + size) of the memfd.
struct memory_region {
  std::uint64_t guest_address;
  std::uint64_t size;
  std::uint64_t file_offset;
};

class guest_memory {
 public:
  /// Creates RAM for the given guest-physical ranges, which must not overlap.
  static result<guest_memory> create(std::vector<memory_region> regions);
  /// RAM restored from a snapshot's memory file, mapped MAP_PRIVATE: pages
  /// load from the file on first touch, clones of one snapshot share them
  /// in the page cache, and guest writes stay in this process. The file
  /// must be exactly as large as the regions.
  static result<guest_memory> map_private(unique_fd file, std::vector<memory_region> regions);

  guest_memory(guest_memory&&) noexcept;
  guest_memory& operator=(guest_memory&&) noexcept;
  ~guest_memory();

  /// The host view of [address, address + length), or an error when any of
  /// it lies outside guest RAM. A range may not straddle two regions.
  result<std::span<std::uint8_t>> slice(std::uint64_t address, std::uint64_t length) const;
  /// Copies bytes into guest RAM at a guest-physical address.
  result<void> write(std::uint64_t address, std::span<const std::uint8_t> bytes) const;
  /// Copies bytes out of guest RAM.
  result<void> read(std::uint64_t address, std::span<std::uint8_t> out) const;

  /// Writes a trivially copyable object (a boot structure) at `address`.
  template <class T>
  result<void> write_object(std::uint64_t address, const T& object) const {
    static_assert(std::is_trivially_copyable_v<T>);
    return write(address, {reinterpret_cast<const std::uint8_t*>(&object), sizeof(T)});
  }

  const std::vector<memory_region>& regions() const { return regions_; }
  std::uint8_t* host_base() const { return base_; }
  std::uint64_t total_size() const { return total_; }
  int fd() const { return fd_.get(); }
  /// True for map_private(): the mapping, not fd(), holds the current bytes.
  bool is_private() const { return private_; }

 private:
  guest_memory() = default;
  unique_fd fd_;
  std::uint8_t* base_ = nullptr;
  std::uint64_t total_ = 0;
  std::vector<memory_region> regions_;
  bool private_ = false;
};

}  // namespace smvm::hv
