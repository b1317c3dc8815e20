#include "hv/guest_memory.hpp"
#include "snapshot/memory_file.hpp"
#include "tests/unit/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

using namespace smvm;

namespace {

constexpr std::uint64_t mib = 1 << 20;

hv::guest_memory ram(std::uint64_t size) {
  auto m = hv::guest_memory::create({{0, size, 0}});
  REQUIRE(m);
  return std::move(*m);
}

std::uint64_t allocated_bytes(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

unique_fd open_read(const std::filesystem::path& p) { return unique_fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC)); }

}  // namespace

TEST_CASE("guest memory is written once, sparse, and maps back privately") {
  test::scratch_dir dir;
  auto m = ram(64 * mib);
  const std::uint8_t hello[] = {'h', 'e', 'l', 'l', 'o'};
  REQUIRE(m.write(0x1000, hello));
  REQUIRE(m.write(40 * mib + 17, hello));
  REQUIRE(m.write(64 * mib - 1, std::span(hello, 1)));
  // A page the guest wrote zeros to is data in the memfd, but no data in the file.
  std::vector<std::uint8_t> zeros(4096, 0);
  REQUIRE(m.write(8 * mib, zeros));

  auto written = snapshot::write_memory_file(dir / "mem", {{m.host_base(), m.total_size()}, m.fd()});
  REQUIRE(written);
  CHECK(*written == 3 * 4096);
  CHECK(std::filesystem::file_size(dir / "mem") == 64 * mib);
  CHECK(allocated_bytes(dir / "mem") < mib);

  auto restored = hv::guest_memory::map_private(open_read(dir / "mem"), {{0, 64 * mib, 0}});
  REQUIRE(restored);
  CHECK(restored->is_private());
  CHECK(std::memcmp(restored->host_base(), m.host_base(), 64 * mib) == 0);

  // Guest writes after a restore stay in this process: the file, shared by
  // every clone, is unchanged.
  REQUIRE(restored->write(0x1000, std::span(hello + 1, 1)));
  auto again = hv::guest_memory::map_private(open_read(dir / "mem"), {{0, 64 * mib, 0}});
  REQUIRE(again);
  CHECK(again->host_base()[0x1000] == 'h');

  // A restored (private) mapping is scanned instead: same bytes out.
  auto resaved = snapshot::write_memory_file(dir / "mem2", {{restored->host_base(), restored->total_size()}, -1});
  REQUIRE(resaved);
  CHECK(*resaved == 3 * 4096);
  auto third = hv::guest_memory::map_private(open_read(dir / "mem2"), {{0, 64 * mib, 0}});
  REQUIRE(third);
  CHECK(std::memcmp(third->host_base(), restored->host_base(), 64 * mib) == 0);
}

TEST_CASE("a memory file of the wrong size is refused") {
  test::scratch_dir dir;
  auto m = ram(4 * mib);
  REQUIRE(snapshot::write_memory_file(dir / "mem", {{m.host_base(), m.total_size()}, m.fd()}));
  auto r = hv::guest_memory::map_private(open_read(dir / "mem"), {{0, 8 * mib, 0}});
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("memory file holds 4194304 bytes, the VM's memory is 8388608"));
}

TEST_CASE("a full disk while writing guest memory leaves no memory file") {
  test::scratch_dir dir;
  auto m = ram(4 * mib);
  REQUIRE(m.write(0, std::vector<std::uint8_t>(4096, 0xaa)));
  auto io = snapshot::file_io::system();
  io.write = [](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  auto r = snapshot::write_memory_file(dir / "mem", {{m.host_base(), m.total_size()}, m.fd()}, io);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("No space left on device"));
  CHECK(std::filesystem::is_empty(dir.path));
}
