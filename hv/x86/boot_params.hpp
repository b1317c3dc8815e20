#pragma once
// The "zero page" (struct boot_params) handed to the kernel in %rsi.

#include "hv/x86/bzimage.hpp"
#include "hv/x86/e820.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace smvm::hv::x86 {

inline constexpr std::size_t boot_params_size = 4096;
inline constexpr std::size_t e820_max_entries = 128;

struct boot_params_input {
  const bzimage* kernel = nullptr;
  std::uint32_t cmdline_address = 0;
  std::uint32_t cmdline_size = 0;   // without the NUL
  std::uint32_t initrd_address = 0;
  std::uint32_t initrd_size = 0;
  std::vector<e820_entry> e820;
};

/// Fills a zero page: the kernel's own setup header, with the fields a boot
/// loader owns (loader type, command line, initrd, heap) set, and the e820
/// table. Fails only when the e820 table has more than 128 entries.
result<std::array<std::uint8_t, boot_params_size>> make_boot_params(const boot_params_input& in);

namespace zero_page {
inline constexpr std::size_t e820_entries = 0x1e8;
inline constexpr std::size_t e820_table = 0x2d0;
inline constexpr std::size_t e820_entry_size = 20;
}  // namespace zero_page

}  // namespace smvm::hv::x86
