#include "fake_bzimage.hpp"

#include <catch2/catch.hpp>

using namespace smvm;
using namespace smvm::hv::x86;

TEST_CASE("a valid bzImage is parsed") {
  auto file = test::fake_bzimage();
  auto k = parse_bzimage(file);
  REQUIRE(k);
  CHECK(k->protocol_version == 0x020f);
  CHECK(k->kernel_offset == 5 * 512);
  CHECK(k->kernel_size == 64 * 1024);
  CHECK(k->setup_header.size() == 0x26c - 0x1f1);
  CHECK(k->init_size == (8u << 20));
  CHECK_FALSE(k->relocatable);
}

TEST_CASE("a non-relocatable kernel's footprint starts at its preferred address plus init_size") {
  auto k = parse_bzimage(test::fake_bzimage());
  REQUIRE(k);
  CHECK(k->footprint_end(0x100000) == 0x1000000 + (8u << 20));
  auto relocatable = parse_bzimage(test::fake_bzimage({.relocatable = true}));
  REQUIRE(relocatable);
  CHECK(relocatable->footprint_end(0x100000) == 0x100000 + (8u << 20));
}

TEST_CASE("a truncated bzImage is rejected") {
  auto file = test::fake_bzimage();
  file.resize(0x200);
  auto k = parse_bzimage(file);
  REQUIRE_FALSE(k);
  CHECK_THAT(k.error().message, Catch::Contains("too short"));
}

TEST_CASE("a bzImage whose payload is cut short is rejected") {
  auto file = test::fake_bzimage();
  file.resize(file.size() - 4096);
  auto k = parse_bzimage(file);
  REQUIRE_FALSE(k);
  CHECK_THAT(k.error().message, Catch::Contains("truncated"));
}

TEST_CASE("a file without the HdrS magic is not a bzImage") {
  auto file = test::fake_bzimage();
  file[0x202] = 'X';
  auto k = parse_bzimage(file);
  REQUIRE_FALSE(k);
  CHECK_THAT(k.error().message, Catch::Contains("HdrS"));
}

TEST_CASE("a file without the boot signature is not a bzImage") {
  auto file = test::fake_bzimage();
  file[0x1fe] = 0;
  REQUIRE_FALSE(parse_bzimage(file));
}

TEST_CASE("a boot protocol older than 2.12 is too old") {
  auto k = parse_bzimage(test::fake_bzimage({.version = 0x020a}));
  REQUIRE_FALSE(k);
  CHECK_THAT(k.error().message, Catch::Contains("2.10 is too old"));
}

TEST_CASE("a kernel without a 64-bit entry is rejected") {
  auto k = parse_bzimage(test::fake_bzimage({.kernel_64 = false}));
  REQUIRE_FALSE(k);
  CHECK_THAT(k.error().message, Catch::Contains("64-bit"));
}

TEST_CASE("setup sectors that run past the end of the file are rejected") {
  auto file = test::fake_bzimage({.setup_sects = 4, .payload = 0});
  REQUIRE_FALSE(parse_bzimage(file));
}

TEST_CASE("random bytes are not a bzImage") {
  std::vector<std::uint8_t> noise(100000);
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<std::uint8_t>(i * 131 + 7);
  REQUIRE_FALSE(parse_bzimage(noise));
}
