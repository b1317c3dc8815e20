#include "hv/x86/boot_params.hpp"
#include "hv/x86/e820.hpp"
#include "hv/x86/gdt.hpp"
#include "hv/x86/layout.hpp"
#include "hv/x86/mptable.hpp"
#include "hv/x86/page_tables.hpp"
#include "hv/x86/cpuid.hpp"
#include "fake_bzimage.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <numeric>

using namespace smvm;
using namespace smvm::hv::x86;
using layout::GiB;
using layout::MiB;

namespace {
template <class T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

TEST_CASE("e820: a small guest has low RAM, the reserved BIOS area, and RAM from 1 MiB") {
  auto map = e820_map(128 * MiB);
  REQUIRE(map.size() == 3);
  CHECK(map[0].address == 0);
  CHECK(map[0].size == 0xa0000);
  CHECK(map[0].type == e820_type::ram);
  CHECK(map[1].address == 0xf0000);
  CHECK(map[1].type == e820_type::reserved);
  CHECK(map[2].address == 1 * MiB);
  CHECK(map[2].address + map[2].size == 128 * MiB);
}

TEST_CASE("e820: RAM beyond 3 GiB continues above 4 GiB, leaving the MMIO gap") {
  auto map = e820_map(6 * GiB);
  REQUIRE(map.size() == 4);
  CHECK(map[2].address + map[2].size == 3 * GiB);
  CHECK(map[3].address == 4 * GiB);
  CHECK(map[3].size == 3 * GiB);
  auto regions = ram_regions(6 * GiB);
  REQUIRE(regions.size() == 2);
  CHECK(regions[0].size + regions[1].size == 6 * GiB);
  CHECK(regions[1].guest_address == 4 * GiB);
}

TEST_CASE("e820: no entry overlaps another") {
  for (std::uint64_t mib : {16ull, 256ull, 3072ull, 3073ull, 8192ull}) {
    auto map = e820_map(mib * MiB);
    for (std::size_t i = 1; i < map.size(); ++i) CHECK(map[i - 1].address + map[i - 1].size <= map[i].address);
  }
}

TEST_CASE("page tables identity-map the first 4 GiB with 2 MiB pages") {
  const std::uint64_t base = 0x9000;
  auto bytes = identity_page_tables(base);
  REQUIRE(bytes.size() == 6 * 4096);
  auto entry = [&](std::size_t table, std::size_t index) { return load<std::uint64_t>(&bytes[table * 4096 + index * 8]); };
  CHECK(entry(0, 0) == ((base + 0x1000) | pte::present | pte::writable));
  CHECK(entry(0, 1) == 0);
  for (std::size_t d = 0; d < 4; ++d) CHECK((entry(1, d) & ~0xfffull) == base + (2 + d) * 0x1000);
  // Walk a few addresses through the tables.
  for (std::uint64_t address : {0x0ull, 0x100000ull, 0x7fe00000ull, 0xfee00000ull}) {
    std::uint64_t pdpt_index = address >> 30, pd_index = (address >> 21) & 511;
    std::uint64_t pd_entry = entry(2 + pdpt_index, pd_index);
    CHECK((pd_entry & pte::huge) != 0);
    CHECK((pd_entry & ~0x1fffffull) == (address & ~0x1fffffull));
  }
}

TEST_CASE("the boot GDT has a 64-bit code segment at 0x10 and a flat data segment at 0x18") {
  auto gdt = boot_gdt();
  auto code = segment_from_gdt_entry(gdt[2], 0x10);
  CHECK(code.l == 1);
  CHECK(code.g == 1);
  CHECK(code.present == 1);
  CHECK(code.type == 0xb);
  CHECK(code.limit == 0xffffffff);
  CHECK(code.selector == 0x10);
  auto data = segment_from_gdt_entry(gdt[3], 0x18);
  CHECK(data.db == 1);
  CHECK(data.l == 0);
  CHECK(data.type == 0x3);
  CHECK(data.s == 1);
  auto tss = segment_from_gdt_entry(gdt[4], 0x20);
  CHECK(tss.s == 0);
  CHECK(tss.type == 0xb);
  CHECK(segment_from_gdt_entry(gdt[0], 0).unusable == 1);
}

TEST_CASE("gdt_entry encodes base, limit and flags where the CPU reads them") {
  std::uint64_t e = gdt_entry(0xc093, 0x12345678, 0xabcde);
  auto s = segment_from_gdt_entry(e, 0x8);
  CHECK(s.base == 0x12345678);
  CHECK(s.limit == ((0xabcdeu << 12) | 0xfff));
}

TEST_CASE("the MP table's checksums make both structures sum to zero") {
  auto table = build_mptable(4, layout::mptable_address);
  REQUIRE(table);
  auto& t = *table;
  CHECK(std::memcmp(t.data(), "_MP_", 4) == 0);
  CHECK(std::accumulate(t.begin(), t.begin() + 16, 0u) % 256 == 0);
  CHECK(load<std::uint32_t>(&t[4]) == layout::mptable_address + 16);
  const std::uint8_t* config = t.data() + 16;
  CHECK(std::memcmp(config, "PCMP", 4) == 0);
  std::uint16_t length = load<std::uint16_t>(config + 4);
  CHECK(16u + length == t.size());
  CHECK(std::accumulate(config, config + length, 0u) % 256 == 0);
}

TEST_CASE("the MP table lists one enabled processor per vCPU, CPU 0 the bootstrap") {
  auto table = build_mptable(3, layout::mptable_address);
  REQUIRE(table);
  const std::uint8_t* entry = table->data() + 16 + 44;
  for (unsigned i = 0; i < 3; ++i, entry += 20) {
    CHECK(entry[0] == 0);      // processor
    CHECK(entry[1] == i);      // APIC ID
    CHECK((entry[3] & 1) == 1);
    CHECK(((entry[3] & 2) != 0) == (i == 0));
  }
  CHECK(entry[0] == 1);        // then the ISA bus
  CHECK(entry[8] == 2);        // and the IOAPIC, with the next ID
  CHECK(entry[9] == 3);
}

TEST_CASE("an MP table for no CPUs, or more than xAPIC IDs allow, is refused") {
  CHECK_FALSE(build_mptable(0, layout::mptable_address));
  CHECK_FALSE(build_mptable(255, layout::mptable_address));
  CHECK(build_mptable(254, layout::mptable_address));
}

TEST_CASE("boot_params carry the kernel's header and the loader's fields") {
  auto file = test::fake_bzimage();
  auto k = parse_bzimage(file);
  REQUIRE(k);
  boot_params_input in;
  in.kernel = &*k;
  in.cmdline_address = 0x20000;
  in.cmdline_size = 12;
  in.initrd_address = 0x7000000;
  in.initrd_size = 0x123456;
  in.e820 = e820_map(256 * MiB);
  auto page = make_boot_params(in);
  REQUIRE(page);
  using namespace setup_offsets;
  CHECK(load<std::uint32_t>(page->data() + header) == header_magic);
  CHECK((*page)[type_of_loader] == 0xff);
  CHECK(((*page)[loadflags] & loadflag_can_use_heap) != 0);
  CHECK(load<std::uint32_t>(page->data() + cmd_line_ptr) == 0x20000);
  CHECK(load<std::uint32_t>(page->data() + ramdisk_image) == 0x7000000);
  CHECK(load<std::uint32_t>(page->data() + ramdisk_size) == 0x123456);
  CHECK((*page)[zero_page::e820_entries] == 3);
  CHECK(load<std::uint64_t>(page->data() + zero_page::e820_table + 2 * 20) == 1 * MiB);
  CHECK(load<std::uint32_t>(page->data() + zero_page::e820_table + 1 * 20 + 16) == 2);
}

TEST_CASE("more e820 entries than the zero page holds are refused") {
  auto k = parse_bzimage(test::fake_bzimage());
  REQUIRE(k);
  boot_params_input in;
  in.kernel = &*k;
  in.e820.assign(129, e820_entry{0, 4096, e820_type::ram});
  CHECK_FALSE(make_boot_params(in));
}

TEST_CASE("each vCPU's CPUID carries its own APIC ID and the hypervisor bit") {
  std::vector<kvm_cpuid_entry2> supported(2);
  supported[0].function = 1;
  supported[0].ebx = 0x00010800;
  supported[1].function = 0xb;
  auto cpuid = vcpu_cpuid(supported, 3, 4);
  CHECK((cpuid[0].ebx >> 24) == 3);
  CHECK(((cpuid[0].ebx >> 16) & 0xff) == 4);
  CHECK((cpuid[0].ebx & 0xffff) == 0x0800);
  CHECK((cpuid[0].ecx >> 31) == 1);
  CHECK(cpuid[1].edx == 3);
}
