#include "common/byte_codec.hpp"
#include "snapshot/snapshot_file.hpp"
#include "tests/unit/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <fstream>

using namespace smvm::snapshot;
using smvm::byte_reader;
using smvm::byte_writer;

namespace {

std::vector<section> two_sections() {
  byte_writer vcpu;
  vcpu.put<std::uint64_t>(0xfffffff0);
  vcpu.put_string("rip");
  return {{"vcpu.0", std::move(vcpu).take()}, {"memory", {1, 2, 3}}};
}

std::vector<std::uint8_t> read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string error_of(std::span<const std::uint8_t> bytes) {
  auto r = decode_snapshot(bytes, "snap");
  REQUIRE_FALSE(r);
  return r.error().message;
}

}  // namespace

TEST_CASE("a snapshot file round-trips its sections") {
  smvm::test::scratch_dir dir;
  REQUIRE(write_snapshot_file(dir / "snap", two_sections()));
  auto read = read_snapshot_file(dir / "snap");
  REQUIRE(read);
  CHECK(read->version == format_version);
  REQUIRE(read->sections.size() == 2);
  REQUIRE(read->find("memory"));
  CHECK(read->find("memory")->bytes == std::vector<std::uint8_t>{1, 2, 3});
  CHECK(read->table[0].offset % 8 == 0);
  CHECK(read->table[1].offset % 8 == 0);

  byte_reader r(read->find("vcpu.0")->bytes, "section vcpu.0");
  CHECK(*r.get<std::uint64_t>("rip") == 0xfffffff0);
  CHECK(*r.get_string("name") == "rip");
  CHECK(r.expect_end());
  CHECK_FALSE(read->require("vcpu.1"));
  // Nothing but the final file is left in the folder.
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 1);
}

TEST_CASE("a truncated snapshot file is refused, naming the file") {
  auto bytes = *encode_snapshot(two_sections());
  CHECK_THAT(error_of(std::span(bytes).first(10)), Catch::Contains("snap: truncated"));
  CHECK_THAT(error_of(std::span(bytes).first(bytes.size() - 1)), Catch::Contains("truncated"));
}

TEST_CASE("a flipped bit anywhere in a snapshot file is caught") {
  const auto good = *encode_snapshot(two_sections());
  const auto expected = *decode_snapshot(good, "snap");
  for (std::size_t at = 0; at < good.size(); ++at) {
    auto flipped = good;
    flipped[at] ^= 0x10;
    // Padding between sections is the only place a flip can go unnoticed,
    // and it changes nothing that is read.
    if (auto r = decode_snapshot(flipped, "snap"))
      for (const auto& s : r->sections) CHECK(s.bytes == expected.find(s.name)->bytes);
  }
  const auto memory_at = decode_snapshot(good, "snap")->table[1].offset;
  auto bad = good;
  bad[memory_at] ^= 1;
  CHECK_THAT(error_of(bad), Catch::Contains("section memory fails its checksum"));
  bad = good;
  bad[33] ^= 1;  // the table
  CHECK_THAT(error_of(bad), Catch::Contains("corrupted"));
}

TEST_CASE("a snapshot from a newer smvm is refused with a clear error") {
  auto bytes = *encode_snapshot(two_sections());
  bytes[8] = static_cast<std::uint8_t>(format_version + 1);
  CHECK_THAT(error_of(bytes), Catch::Contains("newer than this smvm reads"));
  bytes[0] = 'X';
  CHECK_THAT(error_of(bytes), Catch::Contains("not an smvm snapshot"));
}

TEST_CASE("a section that claims more bytes than its payload holds is an error naming the field") {
  byte_writer w;
  w.put<std::uint32_t>(1000);  // a length with no bytes behind it
  byte_reader r(w.bytes(), "section uart");
  auto bytes = r.get_bytes("fifo");
  REQUIRE_FALSE(bytes);
  CHECK_THAT(bytes.error().message, Catch::Contains("section uart: fifo needs 1000 bytes"));
  const std::vector<std::uint8_t> seven{7};
  byte_reader b(seven, "section x");
  CHECK_FALSE(b.get_bool("flag"));
}

TEST_CASE("a full disk while writing a snapshot leaves no file under the final name") {
  smvm::test::scratch_dir dir;
  auto io = file_io::system();
  io.write = [](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  auto r = write_snapshot_file(dir / "snap", two_sections(), io);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("No space left on device"));
  CHECK(std::filesystem::is_empty(dir.path));

  // An older snapshot under that name is left as it was.
  REQUIRE(write_snapshot_file(dir / "snap", two_sections()));
  const auto before = read_all(dir / "snap");
  REQUIRE_FALSE(write_snapshot_file(dir / "snap", {}, io));
  CHECK(read_all(dir / "snap") == before);
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path), {}) == 1);
}

TEST_CASE("a snapshot state file that is not a regular file or is absurdly large is refused") {
  smvm::test::scratch_dir dir;
  CHECK_THAT(read_snapshot_file(dir.path).error().message, Catch::Contains("not a regular file"));
  CHECK_THAT(read_snapshot_file(dir / "missing").error().message, Catch::Contains("cannot open the snapshot"));
  write_all(dir / "empty", {});
  CHECK_THAT(read_snapshot_file(dir / "empty").error().message, Catch::Contains("truncated"));
}
