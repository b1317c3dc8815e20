#include "devices/virtio/rng/device.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace smvm;
using namespace smvm::devices;
using namespace smvm::devices::virtio;

namespace {

using ram = test::test_memory;
using test::offer_writable;

const queue_config rings{8, 0x1000, 0x2000, 0x3000};

}  // namespace

TEST_CASE("virtio-rng fills each writable buffer from the entropy source") {
  ram m;
  rng::device device(m, [](std::span<std::uint8_t> out) -> result<void> {
    for (auto& b : out) b = 0xa5;
    return {};
  });
  REQUIRE(device.activate(feature::version_1, {rings}));
  offer_writable(m, 0, 0x4000, 64, 0);
  offer_writable(m, 1, 0x5000, 16, 1);
  auto r = device.process_queue(0);
  REQUIRE(r);
  CHECK(*r);
  CHECK(m.get<std::uint8_t>(0x4000) == 0xa5);
  CHECK(m.get<std::uint8_t>(0x4000 + 63) == 0xa5);
  CHECK(m.get<std::uint8_t>(0x4000 + 64) == 0);
  CHECK(m.get<std::uint16_t>(0x3002) == 2);           // used index
  CHECK(m.get<std::uint32_t>(0x3000 + 8) == 64);      // bytes written, first request
  CHECK(m.get<std::uint32_t>(0x3000 + 16) == 16);
}

TEST_CASE("virtio-rng with the host source gives bytes that are not all zero") {
  ram m;
  rng::device device(m);
  REQUIRE(device.activate(feature::version_1, {rings}));
  offer_writable(m, 0, 0x4000, 256, 0);
  REQUIRE(device.process_queue(0));
  int nonzero = 0;
  for (int i = 0; i < 256; ++i) nonzero += m.get<std::uint8_t>(0x4000 + i) != 0;
  CHECK(nonzero > 200);
}

TEST_CASE("virtio-rng reports a broken queue instead of serving it") {
  ram m;
  rng::device device(m);
  REQUIRE(device.activate(feature::version_1, {rings}));
  offer_writable(m, 0, 0xfff0, 256, 0);  // past the end of guest memory
  CHECK_FALSE(device.process_queue(0));
  CHECK_FALSE(device.activate(feature::version_1, {queue_config{}}));
}
