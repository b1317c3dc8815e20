#include "devices/virtio/blk/device.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

using namespace smvm;
using namespace smvm::devices::virtio;
namespace fs = std::filesystem;

namespace {

/// An 8-sector image whose sector N is filled with byte N, and a driver that
/// offers Linux-style requests: header, data, status in three descriptors.
struct disk_fixture {
  fs::path image = fs::temp_directory_path() / ("smvm-blk-test-" + std::to_string(::getpid()) + ".img");
  test::test_memory memory;
  queue_config rings{8, 0x1000, 0x2000, 0x3000};
  std::uint16_t avail = 0;

  disk_fixture() {
    std::ofstream out(image, std::ios::binary);
    for (int s = 0; s < 8; ++s) out << std::string(512, static_cast<char>(s));
  }
  ~disk_fixture() { fs::remove(image); }

  std::unique_ptr<blk::device> open(bool read_only = false) {
    auto b = blk::device::open(memory, image.string(), read_only);
    REQUIRE(b);
    REQUIRE((*b)->activate(feature::version_1, {rings}));
    return std::move(*b);
  }
  /// Request in descriptors 3*slot..3*slot+2: header at 0x4000+0x100*slot,
  /// data at 0x8000+0x1000*slot, status at 0x4080+0x100*slot.
  void offer(std::uint16_t slot, std::uint32_t type, std::uint64_t sector, std::uint32_t data_bytes) {
    std::uint64_t header = 0x4000 + 0x100 * slot, data = 0x8000 + 0x1000 * slot, status = header + 0x80;
    memory.put<std::uint32_t>(header, type);
    memory.put<std::uint64_t>(header + 8, sector);
    memory.put<std::uint8_t>(status, 0xff);
    bool device_writes = type != 1;
    auto desc = [&](std::uint16_t i, std::uint64_t addr, std::uint32_t len, std::uint16_t flags, std::uint16_t next) {
      memory.put<std::uint64_t>(0x1000 + 16 * i, addr);
      memory.put<std::uint32_t>(0x1000 + 16 * i + 8, len);
      memory.put<std::uint16_t>(0x1000 + 16 * i + 12, flags);
      memory.put<std::uint16_t>(0x1000 + 16 * i + 14, next);
    };
    std::uint16_t first = static_cast<std::uint16_t>(3 * slot);
    desc(first, header, 16, desc_flags::next, first + 1);
    desc(first + 1, data, data_bytes, desc_flags::next | (device_writes ? desc_flags::write : 0), first + 2);
    desc(first + 2, status, 1, desc_flags::write, 0);
    memory.put<std::uint16_t>(0x2000 + 4 + 2 * (avail % 8), first);
    memory.put<std::uint16_t>(0x2002, ++avail);
  }
  std::uint8_t status(std::uint16_t slot) { return memory.get<std::uint8_t>(0x4080 + 0x100 * slot); }
  std::uint32_t used_len(std::uint16_t n) { return memory.get<std::uint32_t>(0x3000 + 8 + 8 * n); }
};

}  // namespace

TEST_CASE("virtio-blk: the capacity is in configuration space, in sectors") {
  disk_fixture f;
  auto b = f.open();
  std::uint64_t capacity;
  std::memcpy(&capacity, b->config_space().data(), 8);
  CHECK(capacity == 8);
  CHECK((b->device_features() & blk::feature::flush) != 0);
  CHECK((b->device_features() & blk::feature::read_only) == 0);
}

TEST_CASE("virtio-blk: a read copies sectors into the guest's buffers") {
  disk_fixture f;
  auto b = f.open();
  f.offer(0, 0, 2, 1024);
  auto r = b->process_queue(0);
  REQUIRE(r);
  CHECK(f.status(0) == blk::status_byte::ok);
  CHECK(f.memory.get<std::uint8_t>(0x8000) == 2);
  CHECK(f.memory.get<std::uint8_t>(0x8000 + 1023) == 3);
  CHECK(f.used_len(0) == 1025);
}

TEST_CASE("virtio-blk: a write lands in the image file, and a flush succeeds") {
  disk_fixture f;
  auto b = f.open();
  for (int i = 0; i < 512; ++i) f.memory.put<std::uint8_t>(0x8000 + i, 0xee);
  f.offer(0, 1, 7, 512);
  f.offer(1, 4, 0, 0);
  REQUIRE(b->process_queue(0));
  CHECK(f.status(0) == blk::status_byte::ok);
  CHECK(f.status(1) == blk::status_byte::ok);
  std::ifstream in(f.image, std::ios::binary);
  in.seekg(7 * 512);
  CHECK(in.get() == 0xee);
}

TEST_CASE("virtio-blk: a read-only disk refuses writes and says so in its features") {
  disk_fixture f;
  auto b = f.open(true);
  CHECK((b->device_features() & blk::feature::read_only) != 0);
  f.offer(0, 1, 0, 512);
  REQUIRE(b->process_queue(0));
  CHECK(f.status(0) == blk::status_byte::io_error);
  std::ifstream in(f.image, std::ios::binary);
  CHECK(in.get() == 0);
}

TEST_CASE("virtio-blk: reads past the end, and unknown requests, get an error status") {
  disk_fixture f;
  auto b = f.open();
  f.offer(0, 0, 7, 1024);
  f.offer(1, 42, 0, 512);
  REQUIRE(b->process_queue(0));
  CHECK(f.status(0) == blk::status_byte::io_error);
  CHECK(f.status(1) == blk::status_byte::unsupported);
}

TEST_CASE("virtio-blk: get-id gives the disk's serial") {
  disk_fixture f;
  auto b = f.open();
  f.offer(0, 8, 0, 20);
  REQUIRE(b->process_queue(0));
  CHECK(f.status(0) == blk::status_byte::ok);
  CHECK(f.memory.get<std::uint8_t>(0x8000) == 's');
}

TEST_CASE("virtio-blk: a disk that is missing or not whole sectors is refused") {
  test::test_memory memory;
  CHECK_FALSE(blk::device::open(memory, "/nonexistent.img", false));
  auto odd = fs::temp_directory_path() / "smvm-blk-odd.img";
  std::ofstream(odd) << "abc";
  auto b = blk::device::open(memory, odd.string(), false);
  REQUIRE_FALSE(b);
  CHECK_THAT(b.error().message, Catch::Contains("not a whole number of 512-byte sectors"));
  fs::remove(odd);
}

TEST_CASE("virtio-blk: seg_max lets a request carry a chain's worth of data buffers") {
  test::test_memory memory;
  const std::string path = std::filesystem::temp_directory_path() / ("smvm-segmax-" + std::to_string(::getpid()));
  { std::ofstream(path) << std::string(4096, '\0'); }
  auto b = blk::device::open(memory, path, false);
  std::filesystem::remove(path);
  REQUIRE(b);
  CHECK((*b)->device_features() & blk::feature::seg_max);
  REQUIRE((*b)->config_space().size() >= 16);
  std::uint32_t seg_max = 0;
  std::memcpy(&seg_max, (*b)->config_space().data() + 12, 4);
  CHECK(seg_max == max_queue_size - 2);
}
