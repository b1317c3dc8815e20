#pragma once
// The initramfs of a `smvm run` guest, made in memory per run: smvm-init as
// /init (built into smvm), the run spec at /smvm/run, and the mount points
// init needs. An uncompressed newc cpio: the kernel reads it as is.

#include "common/result.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace smvm::run {

/// The static smvm-init binary linked into smvm (guest/init/).
std::span<const std::uint8_t> init_binary();

result<std::vector<std::uint8_t>> make_initramfs(std::span<const std::uint8_t> init,
                                                 std::span<const std::uint8_t> run_spec);

}  // namespace smvm::run
