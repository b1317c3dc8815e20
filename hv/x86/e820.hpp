#pragma once
// The guest's physical memory map: which ranges are RAM, which are not.

#include "hv/guest_memory.hpp"

#include <cstdint>
#include <vector>

namespace smvm::hv::x86 {

enum class e820_type : std::uint32_t { ram = 1, reserved = 2 };

struct e820_entry {
  std::uint64_t address;
  std::uint64_t size;
  e820_type type;
};

/// The e820 table for a guest with `memory_bytes` of RAM: low RAM below
/// 640 KiB, the BIOS area (with the MP table) reserved, RAM from 1 MiB up to
/// the 3 GiB MMIO gap, and the rest above 4 GiB.
std::vector<e820_entry> e820_map(std::uint64_t memory_bytes);

/// The KVM memory slots behind that map: RAM below the MMIO gap, and above
/// 4 GiB what did not fit below it.
std::vector<memory_region> ram_regions(std::uint64_t memory_bytes);

/// The end of RAM below the MMIO gap.
std::uint64_t low_memory_end(std::uint64_t memory_bytes);

}  // namespace smvm::hv::x86
