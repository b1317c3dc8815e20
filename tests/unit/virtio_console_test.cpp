#include "devices/virtio/console/device.hpp"
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
  console::device device{memory, [this](std::span<const std::uint8_t> b) { output.append(b.begin(), b.end()); }};
  std::uint16_t avail[4] = {0, 0, 0, 0};

  /// Queue q's rings at 0x1000 * (q + 1), + 0x400, + 0x800.
  explicit console_fixture(std::uint64_t features = feature::version_1) {
    std::vector<queue_config> queues;
    for (std::uint64_t q = 0; q < 4; ++q) queues.push_back({8, 0x1000 * (q + 1), 0x1000 * (q + 1) + 0x400, 0x1000 * (q + 1) + 0x800});
    REQUIRE(device.activate(features, queues));
  }
  void offer(int q, std::uint16_t index, std::uint64_t address, std::uint32_t length, bool writable) {
    std::uint64_t table = 0x1000 * static_cast<std::uint64_t>(q + 1), ring = table + 0x400;
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
  auto r = f.device.process_queue(console::device::transmit_queue);
  REQUIRE(r);
  CHECK(*r);
  CHECK(f.output == text);
  CHECK(f.memory.get<std::uint16_t>(0x2800 + 2) == 1);
}

TEST_CASE("virtio-console: host input waits for receive buffers and fills them in order") {
  console_fixture f;
  const std::string input = "typed before the guest was ready";
  CHECK(f.device.receive({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()}) == input.size());
  auto none = f.device.process_queue(console::device::receive_queue);
  REQUIRE(none);
  CHECK_FALSE(*none);  // no buffers yet: nothing lost, nothing used
  f.offer(0, 0, 0x6000, 16, true);
  f.offer(0, 1, 0x7000, 64, true);
  REQUIRE(f.device.process_queue(console::device::receive_queue));
  CHECK(std::string(f.memory.ram.begin() + 0x6000, f.memory.ram.begin() + 0x6010) == input.substr(0, 16));
  CHECK(std::string(f.memory.ram.begin() + 0x7000, f.memory.ram.begin() + 0x7000 + 16) == input.substr(16));
  CHECK(f.memory.get<std::uint32_t>(0x1800 + 8) == 16);
  CHECK(f.memory.get<std::uint32_t>(0x1800 + 16) == input.size() - 16);
}

TEST_CASE("virtio-console: both queues must be set up, and a broken queue is an error") {
  test::test_memory memory;
  console::device device{memory, nullptr};
  CHECK_FALSE(device.activate(feature::version_1, {{8, 0x1000, 0x1400, 0x1800}}));
  console_fixture f;
  f.offer(1, 0, 0xfff0, 0x100, false);
  CHECK_FALSE(f.device.process_queue(console::device::transmit_queue));
}

namespace {

/// The guest's side of the MULTIPORT handshake: control buffers and messages.
struct multiport_fixture : console_fixture {
  std::uint16_t next_tx = 0;
  multiport_fixture() : console_fixture(feature::version_1 | console::feature::multiport) {
    for (std::uint16_t i = 0; i < 4; ++i) offer(console::device::control_receive_queue, i, 0x8000 + 0x100 * i, 8, true);
  }
  /// The guest sends a control message; returns whether the device used buffers.
  bool send(std::uint16_t event, std::uint16_t value) {
    const std::uint64_t at = 0x9000 + 0x10 * next_tx;
    memory.put(at, console::control{0, event, value});
    offer(console::device::control_transmit_queue, next_tx++, at, 8, false);
    auto r = device.process_queue(console::device::control_transmit_queue);
    REQUIRE(r);
    return *r;
  }
  console::control answer(int n) const { return memory.get<console::control>(0x8000 + 0x100 * n); }
};

}  // namespace

TEST_CASE("virtio-console: MULTIPORT announces port 0 as the console and opens it") {
  multiport_fixture f;
  CHECK(f.send(console::event::device_ready, 1));
  CHECK(f.answer(0).event == console::event::device_add);
  CHECK(f.answer(0).id == 0);
  CHECK(f.send(console::event::port_ready, 1));
  CHECK(f.answer(1).event == console::event::console_port);
  CHECK(f.answer(2).event == console::event::port_open);
  CHECK(f.answer(2).value == 1);
  CHECK(f.memory.get<std::uint16_t>(0x3800 + 2) == 3);  // three answers used
  CHECK_FALSE(f.device.connected());
}

TEST_CASE("virtio-console: with MULTIPORT, input waits until the guest opens the port") {
  multiport_fixture f;
  const std::string input = "early";
  f.device.receive({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
  f.offer(console::device::receive_queue, 0, 0x6000, 64, true);
  auto held = f.device.process_queue(console::device::receive_queue);
  REQUIRE(held);
  CHECK_FALSE(*held);  // Linux would drop it: the port is not hooked up yet
  CHECK(f.memory.get<std::uint16_t>(0x1800 + 2) == 0);
  f.send(console::event::device_ready, 1);
  f.send(console::event::port_ready, 1);
  CHECK(f.device.take_wakeups() == 0);
  f.send(console::event::port_open, 1);
  CHECK(f.device.connected());
  CHECK(f.device.take_wakeups() == 1u << console::device::receive_queue);
  CHECK(f.device.take_wakeups() == 0);  // reading clears
  REQUIRE(f.device.process_queue(console::device::receive_queue));
  CHECK(std::string(f.memory.ram.begin() + 0x6000, f.memory.ram.begin() + 0x6005) == input);
}

TEST_CASE("virtio-console: answers wait for control buffers; short control messages are errors") {
  console_fixture f(feature::version_1 | console::feature::multiport);
  f.memory.put(0x9000, console::control{0, console::event::device_ready, 1});
  f.offer(console::device::control_transmit_queue, 0, 0x9000, 8, false);
  auto r = f.device.process_queue(console::device::control_transmit_queue);
  REQUIRE(r);  // DEVICE_ADD is queued: no buffer to put it in yet
  f.offer(console::device::control_receive_queue, 0, 0x8000, 8, true);
  REQUIRE(f.device.process_queue(console::device::control_receive_queue));
  CHECK(f.memory.get<console::control>(0x8000).event == console::event::device_add);

  f.offer(console::device::control_transmit_queue, 1, 0x9000, 4, false);
  CHECK_FALSE(f.device.process_queue(console::device::control_transmit_queue));
}

TEST_CASE("virtio-console: MULTIPORT needs the control queues") {
  test::test_memory memory;
  console::device device{memory, nullptr};
  CHECK_FALSE(device.activate(feature::version_1 | console::feature::multiport,
                              {{8, 0x1000, 0x1400, 0x1800}, {8, 0x2000, 0x2400, 0x2800}, {}, {}}));
}
