#pragma once
// Guest RAM for a fuzz target: a vector the fuzzer's bytes fill, behind
// the checked view devices read it through (ASan watches its bounds).

#include "devices/memory_view.hpp"

#include <vector>

namespace smvm::fuzz {

class fuzz_memory final : public devices::memory_view {
 public:
  explicit fuzz_memory(std::vector<std::uint8_t>& ram) : ram_(ram) {}
  result<std::span<std::uint8_t>> slice(std::uint64_t address, std::uint64_t length) const override {
    if (address > ram_.size() || length > ram_.size() - address) return make_error("outside");
    return std::span<std::uint8_t>(ram_.data() + address, length);
  }

 private:
  std::vector<std::uint8_t>& ram_;
};

}  // namespace smvm::fuzz
