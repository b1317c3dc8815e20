#include "devices/virtio/mmio_transport.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace smvm;
using namespace smvm::devices::virtio;
using namespace smvm::devices::virtio::mmio_reg;

namespace {

struct fake_device final : device_model {
  std::array<std::uint8_t, 8> config{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<queue_config> activated;
  std::uint64_t activated_features = 0;
  int resets = 0;
  bool fail_activate = false;
  std::uint32_t device_id() const override { return 4; }
  std::uint64_t device_features() const override { return feature::ring_event_idx | 1; }
  std::uint16_t queue_count() const override { return 2; }
  std::span<const std::uint8_t> config_space() const override { return config; }
  std::vector<queue*> queues() override { return {nullptr, nullptr}; }
  void write_config(std::uint32_t offset, std::span<const std::uint8_t> bytes) override {
    std::copy(bytes.begin(), bytes.end(), config.begin() + offset);
  }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override {
    if (fail_activate) return make_error("refused");
    activated_features = features;
    activated = queues;
    return {};
  }
  void reset() override { ++resets; }
};

struct fixture {
  fake_device device;
  std::vector<std::uint16_t> notified;
  int pulses = 0;
  mmio_transport t{device, [this](std::uint16_t q) { notified.push_back(q); },
                   std::make_shared<interrupt>([this] { ++pulses; })};
  std::uint32_t r(std::uint64_t o) { return static_cast<std::uint32_t>(t.read(o, 4)); }
  void w(std::uint64_t o, std::uint32_t v) { t.write(o, 4, v); }

  /// The Linux driver's sequence up to FEATURES_OK.
  void negotiate(std::uint64_t features) {
    w(status, status_bit::acknowledge);
    w(status, status_bit::acknowledge | status_bit::driver);
    w(driver_features_sel, 0);
    w(driver_features, static_cast<std::uint32_t>(features));
    w(driver_features_sel, 1);
    w(driver_features, static_cast<std::uint32_t>(features >> 32));
    w(status, status_bit::acknowledge | status_bit::driver | status_bit::features_ok);
  }
  void setup_queue(std::uint32_t index, std::uint32_t size) {
    w(queue_sel, index);
    w(queue_num, size);
    w(queue_desc_low, 0x1000);
    w(queue_desc_high, 0x1);
    w(queue_driver_low, 0x2000);
    w(queue_device_low, 0x3000);
    w(queue_ready, 1);
  }
};

constexpr std::uint32_t up_to_features_ok = status_bit::acknowledge | status_bit::driver | status_bit::features_ok;

}  // namespace

TEST_CASE("virtio-mmio: the identification registers") {
  fixture f;
  CHECK(f.r(magic) == 0x74726976);
  CHECK(f.r(version) == 2);
  CHECK(f.r(device_id) == 4);
  CHECK(f.r(vendor_id) == smvm_vendor_id);
  f.w(device_features_sel, 0);
  CHECK(f.r(device_features) == ((1u << 29) | 1));
  f.w(device_features_sel, 1);
  CHECK(f.r(device_features) == 1);  // VERSION_1, bit 32
  f.w(device_features_sel, 2);
  CHECK(f.r(device_features) == 0);
}

TEST_CASE("virtio-mmio: registers take only aligned 32-bit accesses") {
  fixture f;
  CHECK(f.t.read(magic, 2) == 0);
  CHECK(f.t.read(magic + 1, 4) == 0);
  f.t.write(status, 1, status_bit::acknowledge);
  CHECK(f.r(status) == 0);
}

TEST_CASE("virtio-mmio: a full negotiation activates the device with its queues") {
  fixture f;
  f.negotiate(feature::version_1 | feature::ring_event_idx);
  CHECK(f.r(status) == up_to_features_ok);
  f.setup_queue(0, 128);
  CHECK(f.r(queue_ready) == 1);
  f.w(queue_sel, 1);
  CHECK(f.r(queue_num_max) == max_queue_size);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  CHECK(f.t.active());
  CHECK(f.device.activated_features == (feature::version_1 | feature::ring_event_idx));
  REQUIRE(f.device.activated.size() == 2);
  CHECK(f.device.activated[0].size == 128);
  CHECK(f.device.activated[0].desc_table == 0x100001000ull);
  CHECK(f.device.activated[0].avail_ring == 0x2000);
  CHECK(f.device.activated[0].used_ring == 0x3000);
  CHECK(f.device.activated[1].size == 0);  // not set up: not live
}

TEST_CASE("virtio-mmio: features the device did not offer, or no VERSION_1, fail FEATURES_OK") {
  fixture f;
  f.negotiate(feature::version_1 | (1ull << 40));
  CHECK((f.r(status) & status_bit::features_ok) == 0);
  fixture legacy;
  legacy.negotiate(1);
  CHECK((legacy.r(status) & status_bit::features_ok) == 0);
  // Without FEATURES_OK there is no DRIVER_OK.
  legacy.w(status, status_bit::acknowledge | status_bit::driver | status_bit::driver_ok);
  CHECK_FALSE(legacy.t.active());
}

TEST_CASE("virtio-mmio: queue registers are frozen once the queue is ready or the device live") {
  fixture f;
  f.negotiate(feature::version_1);
  f.setup_queue(0, 64);
  f.w(queue_num, 16);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  f.w(queue_sel, 1);
  f.w(queue_num, 8);
  f.w(queue_ready, 1);
  CHECK(f.device.activated[0].size == 64);
  CHECK(f.r(queue_ready) == 0);
}

TEST_CASE("virtio-mmio: a queue size above the maximum is not taken") {
  fixture f;
  f.negotiate(feature::version_1);
  f.setup_queue(0, 4096);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  CHECK(f.device.activated[0].size == 0);
}

TEST_CASE("virtio-mmio: notify reaches the device only for live queues") {
  fixture f;
  f.w(queue_notify, 0);
  CHECK(f.notified.empty());
  f.negotiate(feature::version_1);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  f.w(queue_notify, 1);
  f.w(queue_notify, 7);
  CHECK(f.notified == std::vector<std::uint16_t>{1});
}

TEST_CASE("virtio-mmio: interrupt status is raised by the device and acknowledged by the driver") {
  fixture f;
  f.t.signal_used_buffers();
  CHECK(f.r(interrupt_status) == interrupt_bit::used_buffer);
  f.t.signal_config_change();
  CHECK(f.r(interrupt_status) == 3);
  CHECK(f.r(config_generation) == 1);
  f.w(interrupt_ack, interrupt_bit::used_buffer);
  CHECK(f.r(interrupt_status) == interrupt_bit::config_change);
  f.w(interrupt_ack, interrupt_bit::config_change);
  CHECK(f.r(interrupt_status) == 0);
  CHECK(f.pulses == 2);  // one edge per raise
}

TEST_CASE("virtio-mmio: writing 0 to Status resets the device and the transport") {
  fixture f;
  f.negotiate(feature::version_1);
  f.setup_queue(0, 64);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  f.t.signal_used_buffers();
  f.w(status, 0);
  CHECK(f.device.resets == 1);
  CHECK(f.r(status) == 0);
  CHECK(f.r(interrupt_status) == 0);
  f.w(queue_sel, 0);
  CHECK(f.r(queue_ready) == 0);
  CHECK(f.pulses == 1);  // a reset lowers nothing: the line is edge-triggered
}

TEST_CASE("virtio-mmio: a status write that clears bits is ignored") {
  fixture f;
  f.negotiate(feature::version_1);
  f.w(status, status_bit::acknowledge);
  CHECK(f.r(status) == up_to_features_ok);
}

TEST_CASE("virtio-mmio: a device that cannot activate asks for a reset") {
  fixture f;
  f.device.fail_activate = true;
  f.negotiate(feature::version_1);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  CHECK((f.r(status) & status_bit::needs_reset) != 0);
  CHECK((f.r(interrupt_status) & interrupt_bit::config_change) != 0);
}

TEST_CASE("virtio-mmio: configuration space is read and written at every width, inside its bounds") {
  fixture f;
  CHECK(f.t.read(config, 1) == 1);
  CHECK(f.t.read(config + 1, 2) == 0x0302);
  CHECK(f.t.read(config, 4) == 0x04030201);
  CHECK(f.t.read(config, 8) == 0x0807060504030201ull);
  CHECK(f.t.read(config + 6, 4) == 0);  // would run past the end
  f.t.write(config + 2, 2, 0xbeef);
  CHECK(f.t.read(config + 2, 2) == 0xbeef);
  f.t.write(config + 7, 2, 0xffff);  // past the end: ignored
  CHECK(f.t.read(config + 7, 1) == 8);
}

TEST_CASE("virtio-mmio: no shared-memory regions are reported") {
  fixture f;
  f.w(shm_sel, 0);
  CHECK(f.r(shm_len_low) == 0xffffffff);
  CHECK(f.r(shm_len_high) == 0xffffffff);
}

TEST_CASE("virtio-mmio: a queue worker's raise from another thread shows in InterruptStatus") {
  fixture f;
  std::thread worker([&] { f.t.interrupt()->raise(interrupt_bit::used_buffer); });
  worker.join();
  CHECK(f.r(interrupt_status) == interrupt_bit::used_buffer);
  CHECK(f.pulses == 1);
}

TEST_CASE("virtio-mmio: an acknowledgement handled after a newer raise leaves the bit set") {
  fixture f;
  f.t.signal_used_buffers();
  CHECK(f.r(interrupt_status) == interrupt_bit::used_buffer);  // the driver's handler reads...
  f.t.interrupt()->raise(interrupt_bit::used_buffer);          // ...a worker completes more...
  f.w(interrupt_ack, interrupt_bit::used_buffer);              // ...and the late ack must not hide it
  CHECK(f.r(interrupt_status) == interrupt_bit::used_buffer);
  f.w(interrupt_ack, interrupt_bit::used_buffer);              // read, then ack, with nothing between: cleared
  CHECK(f.r(interrupt_status) == 0);
}

TEST_CASE("virtio-mmio: a saved transport restores into a fresh one register for register") {
  fixture f;
  f.negotiate(feature::version_1 | feature::ring_event_idx);
  f.setup_queue(1, 64);
  f.w(status, up_to_features_ok | status_bit::driver_ok);
  f.t.signal_used_buffers();
  const auto saved = f.t.save();

  fixture g;
  REQUIRE(g.t.restore(saved));
  CHECK(g.device.activated.empty());  // the device's own state brings its queues back
  for (auto reg : {status, interrupt_status, config_generation, queue_sel}) CHECK(g.r(reg) == f.r(reg));
  g.w(queue_sel, 1);
  CHECK(g.r(queue_ready) == 1);
  CHECK(g.t.negotiated_features() == (feature::version_1 | feature::ring_event_idx));
  REQUIRE(g.t.live_queues().size() == 2);
  CHECK(g.t.live_queues()[1].size == 64);
  CHECK(g.t.live_queues()[1].desc_table == 0x100001000);
  CHECK(g.t.live_queues()[1].used_ring == 0x3000);
  // It goes on working: a notify reaches the device.
  g.w(queue_notify, 1);
  CHECK(g.notified == std::vector<std::uint16_t>{1});
}

TEST_CASE("virtio-mmio: a saved state this device could not have reached is refused") {
  fixture f;
  auto saved = f.t.save();
  saved.queues.pop_back();
  CHECK_THAT(f.t.restore(saved).error().message, Catch::Contains("1 queues saved, the device has 2"));
  saved = f.t.save();
  saved.queues[0].size = 48;
  CHECK_THAT(f.t.restore(saved).error().message, Catch::Contains("queue 0 has size 48"));
  saved = f.t.save();
  saved.driver_features = 1ull << 40;
  CHECK_THAT(f.t.restore(saved).error().message, Catch::Contains("the device offers"));
}
