#include "devices/virtio/console.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace smvm;
using namespace smvm::devices::virtio;

namespace {

/// Receive queue rings at 0x1000/0x1400/0x1800, transmit at 0x2000/0x2400/0x2800.
struct console_fixture {
  test::test_memory memory;
  std::string output;
  console device{memory, [this](std::span<const std::uint8_t> b) { output.append(b.begin(), b.end()); }};
  std::uint16_t avail[2] = {0, 0};

  console_fixture() {
    REQUIRE(device.activate(feature::version_1, {{8, 0x1000, 0x1400, 0x1800}, {8, 0x2000, 0x2400, 0x2800}}));
  }
  void offer(int q, std::uint16_t index, std::uint64_t address, std::uint32_t length, bool writable) {
    std::uint64_t table = q == 0 ? 0x1000 : 0x2000, ring = table + 0x400;
    memory.put<std::uint64_t>(table + 16 * index, address);
    memory.put<std::uint32_t>(table + 16 * index + 8, length);
    memory.put<std::uint16_t>(table + 16 * index + 12, writable ? desc_flags::write : 0);
    memory.put<std::uint16_t>(ring + 4 + 2 * (avail[q] % 8), index);
    memory.put<std::uint16_t>(ring + 2, ++avail[q]);
  }
};

}  // namespace

TEST_CASE("virtio-console: the guest's transmit buffers become output") {
  console_fixture f;
  std::string text = "hello hvc0\n";
  std::copy(text.begin(), text.end(), f.memory.ram.begin() + 0x5000);
  f.offer(1, 0, 0x5000, static_cast<std::uint32_t>(text.size()), false);
  auto r = f.device.process_transmit();
  REQUIRE(r);
  CHECK(*r);
  CHECK(f.output == text);
  CHECK(f.memory.get<std::uint16_t>(0x2800 + 2) == 1);
}

TEST_CASE("virtio-console: host input waits for receive buffers and fills them in order") {
  console_fixture f;
  const std::string input = "typed before the guest was ready";
  CHECK(f.device.receive({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()}) == input.size());
  auto none = f.device.process_receive();
  REQUIRE(none);
  CHECK_FALSE(*none);  // no buffers yet: nothing lost, nothing used
  f.offer(0, 0, 0x6000, 16, true);
  f.offer(0, 1, 0x7000, 64, true);
  REQUIRE(f.device.process_receive());
  CHECK(std::string(f.memory.ram.begin() + 0x6000, f.memory.ram.begin() + 0x6010) == input.substr(0, 16));
  CHECK(std::string(f.memory.ram.begin() + 0x7000, f.memory.ram.begin() + 0x7000 + 16) == input.substr(16));
  CHECK(f.memory.get<std::uint32_t>(0x1800 + 8) == 16);
  CHECK(f.memory.get<std::uint32_t>(0x1800 + 16) == input.size() - 16);
}

TEST_CASE("virtio-console: both queues must be set up, and a broken queue is an error") {
  test::test_memory memory;
  console device{memory, nullptr};
  CHECK_FALSE(device.activate(feature::version_1, {{8, 0x1000, 0x1400, 0x1800}}));
  console_fixture f;
  f.offer(1, 0, 0xfff0, 0x100, false);
  CHECK_FALSE(f.device.process_transmit());
}
