#include "hv/x86/e820.hpp"

#include "hv/x86/layout.hpp"

#include <algorithm>

namespace smvm::hv::x86 {

std::uint64_t low_memory_end(std::uint64_t memory_bytes) {
  return std::min(memory_bytes, layout::mmio_gap_start);
}

std::vector<memory_region> ram_regions(std::uint64_t memory_bytes) {
  std::vector<memory_region> regions{{0, low_memory_end(memory_bytes), 0}};
  if (memory_bytes > layout::mmio_gap_start)
    regions.push_back({layout::mmio_gap_end, memory_bytes - layout::mmio_gap_start, 0});
  return regions;
}

std::vector<e820_entry> e820_map(std::uint64_t memory_bytes) {
  std::vector<e820_entry> map{
    {0, layout::low_ram_end, e820_type::ram},
    {layout::mptable_address, layout::bios_area_end - layout::mptable_address, e820_type::reserved},
  };
  std::uint64_t low_end = low_memory_end(memory_bytes);
  if (low_end > layout::bios_area_end)
    map.push_back({layout::bios_area_end, low_end - layout::bios_area_end, e820_type::ram});
  if (memory_bytes > layout::mmio_gap_start)
    map.push_back({layout::mmio_gap_end, memory_bytes - layout::mmio_gap_start, e820_type::ram});
  return map;
}

}  // namespace smvm::hv::x86
