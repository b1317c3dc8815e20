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

}  // namespace smvm::test
