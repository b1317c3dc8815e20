#pragma once
// An address-range map from port or MMIO windows to whatever serves them
// (a device model, or an actor handle that fronts one).

#include "common/result.hpp"

#include <cstdint>
#include <iterator>
#include <map>
#include <optional>

namespace smvm::devices {

template <class Target>
class bus {
 public:
  struct hit {
    const Target* target;
    std::uint64_t offset;  // from the start of the window
  };

  /// Adds [base, base + size). Windows may not overlap.
  result<void> add(std::uint64_t base, std::uint64_t size, Target target) {
    if (size == 0 || base + size < base) return make_error("bus window at {:#x} has a bad size", base);
    auto next = windows_.lower_bound(base);
    if (next != windows_.end() && next->first < base + size)
      return make_error("bus window [{:#x}, +{:#x}) overlaps one at {:#x}", base, size, next->first);
    if (next != windows_.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second.size > base)
        return make_error("bus window [{:#x}, +{:#x}) overlaps one at {:#x}", base, size, prev->first);
    }
    windows_.emplace(base, window{size, std::move(target)});
    return {};
  }

  /// The window that holds all of [address, address + length), if any.
  std::optional<hit> find(std::uint64_t address, std::uint64_t length = 1) const {
    auto it = windows_.upper_bound(address);
    if (it == windows_.begin()) return std::nullopt;
    --it;
    std::uint64_t offset = address - it->first;
    if (offset >= it->second.size || length > it->second.size - offset) return std::nullopt;
    return hit{&it->second.target, offset};
  }

  template <class F>
  void for_each(F&& f) const {
    for (auto& [base, w] : windows_) f(base, w.size, w.target);
  }

 private:
  struct window {
    std::uint64_t size;
    Target target;
  };
  std::map<std::uint64_t, window> windows_;
};

}  // namespace smvm::devices
