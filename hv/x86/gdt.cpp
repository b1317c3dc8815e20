#include "hv/x86/gdt.hpp"

#include "hv/x86/layout.hpp"

namespace smvm::hv::x86 {

std::uint64_t gdt_entry(std::uint16_t flags, std::uint32_t base, std::uint32_t limit) {
  return ((std::uint64_t{base} & 0xff000000) << (56 - 24)) |
         ((std::uint64_t{flags} & 0x0000f0ff) << 40) |
         ((std::uint64_t{limit} & 0x000f0000) << (48 - 16)) |
         ((std::uint64_t{base} & 0x00ffffff) << 16) |
         (std::uint64_t{limit} & 0x0000ffff);
}

std::array<std::uint64_t, 5> boot_gdt() {
  return {
    0,
    0,
    gdt_entry(0xa09b, 0, 0xfffff),  // code: present, exec/read, accessed; G, L
    gdt_entry(0xc093, 0, 0xfffff),  // data: present, read/write, accessed; G, D/B
    gdt_entry(0x808b, 0, 0xfffff),  // TSS: present, 64-bit busy TSS; G
  };
}

kvm_segment segment_from_gdt_entry(std::uint64_t entry, std::uint16_t selector) {
  kvm_segment s{};
  s.base = static_cast<std::uint32_t>(((entry >> 16) & 0x00ffffff) | ((entry >> 32) & 0xff000000));
  std::uint32_t limit = static_cast<std::uint32_t>((entry & 0xffff) | ((entry >> 32) & 0xf0000));
  s.g = (entry >> 55) & 1;
  // With 4 KiB granularity the limit counts pages: the byte limit ends in 0xfff.
  s.limit = s.g ? (limit << 12) | 0xfff : limit;
  s.selector = selector;
  s.type = (entry >> 40) & 0xf;
  s.present = (entry >> 47) & 1;
  s.dpl = (entry >> 45) & 3;
  s.db = (entry >> 54) & 1;
  s.s = (entry >> 44) & 1;
  s.l = (entry >> 53) & 1;
  s.avl = (entry >> 52) & 1;
  s.unusable = s.present ? 0 : 1;
  return s;
}

}  // namespace smvm::hv::x86
