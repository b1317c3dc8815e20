#pragma once
// Identity-mapped page tables for the 64-bit boot protocol, which enters
// the kernel with paging on.

#include <cstdint>
#include <vector>

namespace smvm::hv::x86 {

/// How much is identity mapped: enough for the kernel, its boot data and an
/// initrd anywhere below the MMIO gap (2 MiB pages).
inline constexpr std::uint64_t identity_mapped_bytes = std::uint64_t{4} << 30;

/// The bytes of a PML4, a PDPT and four page directories, laid out from
/// `base` (page aligned) upwards, mapping [0, 4 GiB) to itself. Load CR3
/// with `base`.
std::vector<std::uint8_t> identity_page_tables(std::uint64_t base);

namespace pte {
inline constexpr std::uint64_t present = 1 << 0;
inline constexpr std::uint64_t writable = 1 << 1;
inline constexpr std::uint64_t huge = 1 << 7;  // a 2 MiB page in a PD entry
}  // namespace pte

}  // namespace smvm::hv::x86
