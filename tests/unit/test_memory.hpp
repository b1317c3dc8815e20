#pragma once
// 64 KiB of guest RAM at guest-physical 0, for device model tests.

#include "devices/memory_view.hpp"

#include <cstring>
#include <vector>

namespace smvm::test {

class test_memory final : public devices::memory_view {
 public:
  std::vector<std::uint8_t> ram = std::vector<std::uint8_t>(64 * 1024);

  result<std::span<std::uint8_t>> slice(std::uint64_t address, std::uint64_t length) const override {
    if (address > ram.size() || length > ram.size() - address) return make_error("outside");
    return std::span<std::uint8_t>(const_cast<std::uint8_t*>(ram.data()) + address, length);
  }
  template <class T>
  void put(std::uint64_t at, T v) {
    std::memcpy(ram.data() + at, &v, sizeof v);
  }
  template <class T>
  T get(std::uint64_t at) const {
    T v;
    std::memcpy(&v, ram.data() + at, sizeof v);
    return v;
  }
};

/// The rings of an 8-entry test queue in test_memory: descriptors at
/// 0x1000, available ring at 0x2000, used ring at 0x3000.
inline constexpr std::uint64_t test_desc = 0x1000, test_avail = 0x2000, test_used = 0x3000;

/// Makes descriptor `index` one device-writable buffer and offers it as
/// the available ring's entry number `avail`.
inline void offer_writable(test_memory& m, std::uint16_t index, std::uint64_t address, std::uint32_t length,
                           std::uint16_t avail) {
  m.put<std::uint64_t>(test_desc + 16 * index, address);
  m.put<std::uint32_t>(test_desc + 16 * index + 8, length);
  m.put<std::uint16_t>(test_desc + 16 * index + 12, 2);  // VIRTQ_DESC_F_WRITE
  m.put<std::uint16_t>(test_avail + 4 + 2 * (avail % 8), index);
  m.put<std::uint16_t>(test_avail + 2, static_cast<std::uint16_t>(avail + 1));
}

}  // namespace smvm::test
