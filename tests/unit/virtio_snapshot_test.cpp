#include "devices/virtio/device_state.hpp"
#include "devices/virtio/rng/device.hpp"
#include "devices/virtio/console/device.hpp"
#include "common/state_codec.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

using namespace smvm;
using namespace smvm::devices::virtio;

namespace {

using ram = test::test_memory;

result<void> fill(std::span<std::uint8_t> out) {
  for (auto& b : out) b = 0x5a;
  return {};
}

/// A virtio-rng behind its transport, as a VM has it.
struct rng_device {
  rng::device model;
  mmio_transport transport;
  explicit rng_device(ram& m) : model(m, fill), transport(model, nullptr, std::make_shared<interrupt>(nullptr)) {}
  void w(std::uint64_t reg, std::uint32_t v) { transport.write(reg, 4, v); }

  /// The Linux driver's bring-up: features, one queue of 8, DRIVER_OK.
  void bring_up() {
    using namespace mmio_reg;
    w(status, status_bit::acknowledge | status_bit::driver);
    w(driver_features_sel, 1);
    w(driver_features, 1);  // VERSION_1
    w(status, status_bit::acknowledge | status_bit::driver | status_bit::features_ok);
    w(queue_sel, 0);
    w(queue_num, 8);
    w(queue_desc_low, 0x1000);
    w(queue_driver_low, 0x2000);
    w(queue_device_low, 0x3000);
    w(queue_ready, 1);
    w(status, status_bit::acknowledge | status_bit::driver | status_bit::features_ok | status_bit::driver_ok);
  }
};

}  // namespace

TEST_CASE("a restored virtio device goes on from where its queue stood") {
  ram m;
  rng_device before(m);
  before.bring_up();
  REQUIRE(before.transport.active());
  test::offer_writable(m, 0, 0x4000, 16, 0);
  REQUIRE(before.model.process_queue(0));
  REQUIRE(m.get<std::uint16_t>(0x3002) == 1);

  const auto bytes = encode_state(device_part(before.transport, before.model).save());
  auto state = decode_state<virtio_device_state>(bytes, "section virtio.rng");
  REQUIRE(state);

  rng_device after(m);  // guest memory comes back with the snapshot
  REQUIRE(device_part(after.transport, after.model).restore(*state));
  CHECK(after.transport.active());
  test::offer_writable(m, 1, 0x5000, 16, 1);
  REQUIRE(after.model.process_queue(0));
  // Request 0 was not served again: the used ring moved on by one.
  CHECK(m.get<std::uint16_t>(0x3002) == 2);
  CHECK(m.get<std::uint16_t>(0x3000 + 4 + 8) == 1);  // used[1].id
  CHECK(m.get<std::uint8_t>(0x5000) == 0x5a);
}

TEST_CASE("a device that was never started restores as never started") {
  ram m;
  rng_device before(m);
  auto state = device_part(before.transport, before.model).save();
  rng_device after(m);
  REQUIRE(device_part(after.transport, after.model).restore(state));
  CHECK_FALSE(after.transport.active());
  CHECK(after.model.queues() == std::vector<queue*>{nullptr});
}

TEST_CASE("a saved device state that does not fit the device is refused") {
  ram m;
  rng_device before(m);
  before.bring_up();
  auto state = device_part(before.transport, before.model).save();

  auto not_live = state;
  not_live.queues[0].live = 0;
  rng_device a(m);
  auto r = device_part(a.transport, a.model).restore(not_live);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("queue 0 was not live but is live after activation"));

  auto extra = state;
  extra.extra = {1, 2, 3};
  rng_device b(m);
  r = device_part(b.transport, b.model).restore(extra);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("3 bytes of state it does not keep"));

  auto outside = state;
  outside.transport.queues[0].used_ring = 0xfffff000;  // outside the 64 KiB of RAM
  rng_device c(m);
  r = device_part(c.transport, c.model).restore(outside);
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("restoring virtio device 4"));
}

TEST_CASE("the console's connection, waiting input and control messages survive a snapshot") {
  ram m;
  console::device a(m, [](std::span<const std::uint8_t>) {});
  const std::string input = "typed before the snapshot";
  a.receive({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});
  const auto extra = a.save_extra();

  console::device b(m, [](std::span<const std::uint8_t>) {});
  REQUIRE(b.restore_extra(extra));
  CHECK(b.save_extra() == extra);

  auto cut = extra;
  cut.pop_back();
  CHECK_FALSE(b.restore_extra(cut));
  console::saved_extra too_much;
  too_much.waiting.resize(console::device::input_capacity + 1);
  CHECK_THAT(b.restore_extra(encode_state(too_much)).error().message,
             Catch::Contains("virtio-console state: 65537 bytes of waiting input, more than the 65536 it holds"));
}
