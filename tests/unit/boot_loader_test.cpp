#include "hv/x86/boot_loader.hpp"
#include "hv/x86/e820.hpp"
#include "hv/x86/layout.hpp"
#include "fake_bzimage.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace smvm;
using namespace smvm::hv;
using namespace smvm::hv::x86;
using layout::MiB;

namespace {

struct loaded {
  guest_memory memory;
  result<boot_entry> entry;
};

loaded load(std::uint64_t memory_mib, const std::vector<std::uint8_t>& kernel, std::size_t initrd_bytes,
            std::string cmdline = "console=ttyS0") {
  auto memory = guest_memory::create(ram_regions(memory_mib * MiB));
  REQUIRE(memory);
  auto header = parse_bzimage(kernel);
  REQUIRE(header);
  std::vector<std::uint8_t> initrd(initrd_bytes, 0x5a);
  linux_boot boot{kernel, &*header, initrd, std::move(cmdline), 2};
  auto entry = load_linux(*memory, memory_mib * MiB, boot);
  return {std::move(*memory), std::move(entry)};
}

template <class T>
T read(const guest_memory& m, std::uint64_t address) {
  T v{};
  REQUIRE(m.read(address, {reinterpret_cast<std::uint8_t*>(&v), sizeof v}));
  return v;
}

}  // namespace

TEST_CASE("the kernel, initrd and command line land where boot_params say") {
  auto kernel = test::fake_bzimage();
  auto [memory, entry] = load(128, kernel, 3 * MiB);
  REQUIRE(entry);
  CHECK(entry->instruction_pointer == 0x100200);
  CHECK(entry->boot_params == layout::boot_params_address);
  // Protected-mode kernel at 1 MiB.
  CHECK(read<std::uint8_t>(memory, 0x100000 + 100) == kernel[5 * 512 + 100]);
  // The initrd sits page-aligned at the top of RAM.
  auto initrd_address = read<std::uint32_t>(memory, layout::boot_params_address + setup_offsets::ramdisk_image);
  CHECK(initrd_address % 4096 == 0);
  CHECK(initrd_address + 3 * MiB <= 128 * MiB);
  CHECK(initrd_address + 3 * MiB > 128 * MiB - 4096);
  CHECK(read<std::uint8_t>(memory, initrd_address) == 0x5a);
  // The command line is NUL-terminated at cmd_line_ptr.
  char cmdline[14] = {};
  REQUIRE(memory.read(layout::cmdline_address, {reinterpret_cast<std::uint8_t*>(cmdline), sizeof cmdline}));
  CHECK(std::string(cmdline) == "console=ttyS0");
  // The MP table and page tables are in place.
  CHECK(read<std::uint32_t>(memory, layout::mptable_address) == 0x5f504d5f);  // "_MP_"
  CHECK((read<std::uint64_t>(memory, layout::page_tables_address) & ~0xfffull) == layout::page_tables_address + 0x1000);
}

TEST_CASE("the initrd stays below the kernel's initrd_addr_max") {
  auto kernel = test::fake_bzimage({.initrd_addr_max = 0x3fffffff});
  auto [memory, entry] = load(2048, kernel, 1 * MiB);
  REQUIRE(entry);
  auto initrd_address = read<std::uint32_t>(memory, layout::boot_params_address + setup_offsets::ramdisk_image);
  CHECK(initrd_address + 1 * MiB <= 0x40000000u);
}

TEST_CASE("memory too small for the kernel is refused with the sizes involved") {
  auto kernel = test::fake_bzimage({.init_size = 40 << 20});  // runs at 16 MiB and needs 40 MiB from there
  auto [memory, entry] = load(32, kernel, 0);
  REQUIRE_FALSE(entry);
  CHECK_THAT(entry.error().message, Catch::Contains("32 MiB of memory is too small") && Catch::Contains("raise memory_mib"));
}

TEST_CASE("memory too small for kernel plus initrd is refused") {
  auto kernel = test::fake_bzimage();  // runs at 16 MiB, needs 8 MiB: ends at 24 MiB
  auto [memory, entry] = load(32, kernel, 10 * MiB);
  REQUIRE_FALSE(entry);
  CHECK_THAT(entry.error().message, Catch::Contains("initrd 10 MiB"));
  auto [memory2, fits] = load(40, kernel, 10 * MiB);
  CHECK(fits);
}

TEST_CASE("a command line longer than the kernel takes is refused") {
  auto kernel = test::fake_bzimage({.cmdline_size = 16});
  auto [memory, entry] = load(64, kernel, 0, std::string(17, 'x'));
  REQUIRE_FALSE(entry);
  CHECK_THAT(entry.error().message, Catch::Contains("at most 16"));
}
