#pragma once
// hv::guest_memory seen through the devices' memory_view: the one place the
// two layers meet, so devices never include hv.

#include "devices/memory_view.hpp"
#include "hv/guest_memory.hpp"

#include <memory>

namespace smvm::actors {

class guest_memory_view final : public devices::memory_view {
 public:
  explicit guest_memory_view(std::shared_ptr<const hv::guest_memory> memory) : memory_(std::move(memory)) {}
  result<std::span<std::uint8_t>> slice(std::uint64_t address, std::uint64_t length) const override {
    return memory_->slice(address, length);
  }

 private:
  std::shared_ptr<const hv::guest_memory> memory_;
};

}  // namespace smvm::actors
