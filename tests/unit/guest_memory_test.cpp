#include "hv/guest_memory.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

using namespace smvm::hv;

namespace {
guest_memory two_regions() {
  auto m = guest_memory::create({{0, 0x10000, 0}, {0x100000, 0x10000, 0}});
  REQUIRE(m);
  return std::move(*m);
}
}  // namespace

TEST_CASE("guest memory reads back what was written") {
  auto m = two_regions();
  std::uint8_t in[4] = {1, 2, 3, 4}, out[4] = {};
  REQUIRE(m.write(0x100010, in));
  REQUIRE(m.read(0x100010, out));
  CHECK(std::equal(in, in + 4, out));
}

TEST_CASE("an access that reaches past the end of a region is refused") {
  auto m = two_regions();
  CHECK(m.slice(0xfff0, 0x10));
  CHECK_FALSE(m.slice(0xfff0, 0x11));
  CHECK_FALSE(m.slice(0x10000, 1));        // the hole between regions
  CHECK_FALSE(m.slice(0x110000, 1));       // past the last region
}

TEST_CASE("an access that would straddle two regions is refused") {
  auto m = guest_memory::create({{0, 0x1000, 0}, {0x1000, 0x1000, 0}});
  REQUIRE(m);
  CHECK_FALSE(m->slice(0xff0, 0x20));
}

TEST_CASE("addresses and lengths that overflow 64 bits are refused") {
  auto m = two_regions();
  CHECK_FALSE(m.slice(0x100000, ~std::uint64_t{0}));
  CHECK_FALSE(m.slice(~std::uint64_t{0} - 4, 16));
  CHECK_FALSE(m.slice(~std::uint64_t{0}, 1));
}

TEST_CASE("regions that overlap or are not page aligned are refused") {
  CHECK_FALSE(guest_memory::create({{0, 0x2000, 0}, {0x1000, 0x1000, 0}}));
  CHECK_FALSE(guest_memory::create({{0x10, 0x1000, 0}}));
  CHECK_FALSE(guest_memory::create({}));
}
