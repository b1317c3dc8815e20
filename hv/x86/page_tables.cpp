#include "hv/x86/page_tables.hpp"

#include <cstring>

namespace smvm::hv::x86 {

std::vector<std::uint8_t> identity_page_tables(std::uint64_t base) {
  constexpr std::size_t page = 4096, entries = 512;
  constexpr std::size_t directories = identity_mapped_bytes >> 30;  // one PD per GiB
  std::vector<std::uint64_t> table((2 + directories) * entries, 0);
  std::uint64_t* pml4 = &table[0];
  std::uint64_t* pdpt = &table[entries];
  pml4[0] = (base + page) | pte::present | pte::writable;
  for (std::size_t d = 0; d < directories; ++d) {
    std::uint64_t pd_address = base + (2 + d) * page;
    pdpt[d] = pd_address | pte::present | pte::writable;
    std::uint64_t* pd = &table[(2 + d) * entries];
    for (std::size_t i = 0; i < entries; ++i) {
      std::uint64_t physical = (std::uint64_t{d} << 30) | (std::uint64_t{i} << 21);
      pd[i] = physical | pte::present | pte::writable | pte::huge;
    }
  }
  std::vector<std::uint8_t> bytes(table.size() * sizeof(std::uint64_t));
  std::memcpy(bytes.data(), table.data(), bytes.size());
  return bytes;
}

}  // namespace smvm::hv::x86
