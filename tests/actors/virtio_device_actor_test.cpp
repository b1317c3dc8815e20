// The virtio device actor and its queue workers on a real actor system:
// notifications through an ioeventfd-like eventfd and the notify reactor,
// interrupts as irq_raise, a reset that waits for the workers, and a queue
// failure that becomes NEEDS_RESET.
#include "actors/virtio_device_actor.hpp"
#include "devices/virtio/device_state.hpp"
#include "devices/virtio/mmio_transport.hpp"
#include "hv/eventfd.hpp"
#include "common/state_codec.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace smvm;
using namespace smvm::actors;
using namespace smvm::devices::virtio;

namespace {

/// A device whose queue "work" takes a while, and which records whether a
/// reset ever overlapped it.
struct slow_device final : device_model {
  std::atomic<int> served{0}, resets{0}, activations{0};
  std::atomic<bool> busy{false}, overlapped{false}, fail{false};
  std::atomic<int> work_ms{20};  // how long each request takes
  std::atomic<int> in_flight{0}, most_in_flight{0};
  const bool one_worker;         // both queues under one worker (worker_of)

  /// Serves by sleeping, and counts on its device.
  struct server final : queue_server {
    slow_device& d;
    explicit server(slow_device& device) : d(device) {}
    result<bool> serve(std::uint16_t) override {
      const int now = ++d.in_flight;
      for (int most = d.most_in_flight; now > most && !d.most_in_flight.compare_exchange_weak(most, now);) {
      }
      d.busy = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(d.work_ms.load()));
      d.busy = false;
      ++d.served;
      --d.in_flight;
      if (d.fail) return make_error("descriptor 9 is outside a table of 8");
      return true;
    }
  };

  explicit slow_device(bool one) : one_worker(one) {
    std::vector<std::shared_ptr<queue_server>> servers{std::make_shared<server>(*this)};
    if (!one_worker) servers.push_back(std::make_shared<server>(*this));
    set_servers(std::move(servers));
  }
  std::uint16_t worker_of(std::uint16_t index) const override { return one_worker ? 0 : index; }
  std::uint32_t device_id() const override { return 4; }
  std::uint64_t device_features() const override { return 0; }
  std::uint16_t queue_count() const override { return 2; }
  std::span<const std::uint8_t> config_space() const override { return {}; }
  std::vector<queue*> queues() override { return {nullptr, nullptr}; }
  result<void> activate(std::uint64_t, const std::vector<queue_config>&) override {
    if (busy || !all_home()) overlapped = true;
    ++activations;
    return {};
  }
  void reset() override {
    if (busy || !all_home()) overlapped = true;
    ++resets;
  }
};

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system;
  caf::scoped_actor self;
  std::shared_ptr<slow_device> model;
  std::shared_ptr<notify_reactor> reactor = std::make_shared<notify_reactor>();
  std::atomic<int> raises{0};
  int notify_fd = -1, second_notify_fd = -1;
  irq_actor irq;
  machine_actor machine;
  device_actor device;
  static constexpr std::uint64_t base = 0xd0000000;

  static caf::actor_system_config& configured(caf::actor_system_config& c) {
    configure(c);
    return c;
  }
  explicit fixture(bool one_worker = false)
      : system(configured(cfg)), self(system), model(std::make_shared<slow_device>(one_worker)) {
    // Function actors take an unused int: CAF 0.17 binds a reference to a
    // null argument tuple when they take none (UBSan reports it).
    irq = system.spawn([this](irq_actor::pointer, int) -> irq_actor::behavior_type {
      return {[](const irq_line&) {}, [this](const irq_raise& x) { if (x.line == 5) ++raises; }};
    }, 0);
    machine = system.spawn([](machine_actor::pointer, int) -> machine_actor::behavior_type {
      return {[](run_atom) { return std::int32_t{0}; }, [](guest_stop&) {}, [](workload_signal) {}, [](ready_atom) {},
              [](snapshot_request&) { return std::string(); }, [](pause_atom) { return true; },
              [](resume_atom) { return true; }, [](status_atom) { return std::string(); }};
    }, 0);
    virtio_device_spec spec;
    spec.name = "test device";
    spec.section = "virtio.0";
    spec.model = model;
    spec.base = base;
    spec.irq_line = 5;
    spec.pause_deadline = std::chrono::milliseconds(300);
    spec.blocking = true;  // a worker stuck in a request holds its own thread, not the scheduler's
    for (int q = 0; q < 2; ++q) {
      auto fd = hv::make_eventfd();
      REQUIRE(fd);
      (q == 0 ? notify_fd : second_notify_fd) = fd->get();
      spec.notify_fds.push_back(std::move(*fd));
    }
    device = spawn_virtio_device(system, std::move(spec), irq, reactor, machine);
  }
  ~fixture() {
    reactor->stop();
    self->send_exit(device, caf::exit_reason::user_shutdown);
    self->send_exit(irq, caf::exit_reason::user_shutdown);
    self->send_exit(machine, caf::exit_reason::user_shutdown);
  }
  void write(std::uint64_t reg, std::uint32_t value) { caf::anon_send(device, mmio_exit{base + reg, 4, true, value}); }
  std::uint32_t read(std::uint64_t reg) {
    std::uint32_t value = 0;
    self->request(device, caf::infinite, mmio_exit{base + reg, 4, false, 0})
      .receive([&](std::uint64_t v) { value = static_cast<std::uint32_t>(v); }, [](caf::error&) {});
    return value;
  }
  void bring_up() {
    write(mmio_reg::status, status_bit::acknowledge | status_bit::driver);
    write(mmio_reg::driver_features_sel, 1);
    write(mmio_reg::driver_features, 1);  // VERSION_1
    write(mmio_reg::status, status_bit::acknowledge | status_bit::driver | status_bit::features_ok);
    write(mmio_reg::status, status_bit::acknowledge | status_bit::driver | status_bit::features_ok | status_bit::driver_ok);
    REQUIRE(read(mmio_reg::status) & status_bit::driver_ok);
  }
  /// Whether `p` holds within 5 s; each try calls it once (it may act).
  template <class Predicate>
  bool eventually(Predicate p) {
    for (int i = 0; i < 500; ++i) {
      if (p()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

}  // namespace

TEST_CASE("virtio device actor: a notification on the eventfd is served and raises the irqfd line") {
  fixture f;
  f.bring_up();
  CHECK(f.model->activations == 1);
  const int before = f.model->served;  // DRIVER_OK serves each queue once
  hv::signal_eventfd(f.notify_fd);
  REQUIRE(f.eventually([&] { return f.model->served > before && f.raises > 0; }));
  CHECK(f.read(mmio_reg::interrupt_status) & interrupt_bit::used_buffer);
  // As the driver's handler does: read, acknowledge what was read. Once the
  // workers are idle that leaves the status clear.
  CHECK(f.eventually([&] {
    f.write(mmio_reg::interrupt_ack, f.read(mmio_reg::interrupt_status));
    return f.read(mmio_reg::interrupt_status) == 0;
  }));
}

TEST_CASE("virtio device actor: queues the model puts under one worker are never served at once") {
  fixture f(true);
  f.model->work_ms = 50;
  f.bring_up();
  const int before = f.model->served;
  for (int i = 0; i < 3; ++i) {
    hv::signal_eventfd(f.notify_fd);
    hv::signal_eventfd(f.second_notify_fd);
  }
  REQUIRE(f.eventually([&] { return f.model->served >= before + 2; }));
  CHECK(f.model->most_in_flight == 1);
}

TEST_CASE("virtio device actor: nothing is served before DRIVER_OK") {
  fixture f;
  hv::signal_eventfd(f.notify_fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(f.model->served == 0);
  f.bring_up();  // what was notified while paused is served on resume
  CHECK(f.eventually([&] { return f.model->served >= 2; }));
}

TEST_CASE("virtio device actor: a reset waits until no request is in flight") {
  fixture f;
  f.bring_up();
  for (int i = 0; i < 20; ++i) {
    hv::signal_eventfd(f.notify_fd);
    f.write(mmio_reg::status, 0);
    CHECK(f.read(mmio_reg::status) == 0);
    f.bring_up();
  }
  CHECK(f.model->resets == 20);
  CHECK_FALSE(f.model->overlapped);
}

TEST_CASE("virtio device actor: a queue that breaks the rules sets NEEDS_RESET") {
  fixture f;
  f.bring_up();
  f.model->fail = true;
  hv::signal_eventfd(f.notify_fd);
  CHECK(f.eventually([&] { return (f.read(mmio_reg::status) & status_bit::needs_reset) != 0; }));
  CHECK(f.read(mmio_reg::interrupt_status) & interrupt_bit::config_change);
  // The driver resets the device and it works again.
  f.model->fail = false;
  f.write(mmio_reg::status, 0);
  f.bring_up();
  const int before = f.model->served;
  hv::signal_eventfd(f.notify_fd);
  CHECK(f.eventually([&] { return f.model->served > before; }));
}

TEST_CASE("virtio device actor: freeze answers once the request in flight is done; nothing is served until thaw") {
  fixture f;
  f.bring_up();
  REQUIRE(f.eventually([&] { return f.model->served >= 2 && !f.model->busy; }));  // DRIVER_OK serves each queue
  hv::signal_eventfd(f.notify_fd);
  saved_section saved;
  bool busy_at_reply = true;
  f.self->request(f.device, caf::infinite, freeze_atom_v)
    .receive([&](saved_section& s) { saved = std::move(s); busy_at_reply = f.model->busy; }, [](caf::error&) {});
  CHECK_FALSE(busy_at_reply);
  CHECK(saved.name == "virtio.0");
  auto state = decode_state<devices::virtio::virtio_device_state>(saved.bytes, "section virtio.0");
  REQUIRE(state);
  CHECK(state->transport.status & status_bit::driver_ok);
  CHECK(state->queues.size() == 2);

  const int frozen_at = f.model->served;
  hv::signal_eventfd(f.notify_fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(f.model->served == frozen_at);
  caf::anon_send(f.device, thaw_atom_v);
  CHECK(f.eventually([&] { return f.model->served > frozen_at; }));
  CHECK_FALSE(f.model->overlapped);
}

TEST_CASE("virtio device actor: a worker that does not finish its request in time fails the freeze and sets NEEDS_RESET") {
  fixture f;
  f.bring_up();
  REQUIRE(f.eventually([&] { return f.model->served >= 2 && !f.model->busy; }));
  f.model->work_ms = 1500;
  hv::signal_eventfd(f.notify_fd);
  REQUIRE(f.eventually([&] { return f.model->busy.load(); }));
  std::string failure;
  f.self->request(f.device, caf::infinite, freeze_atom_v)
    .receive([](saved_section&) {}, [&](caf::error& e) { failure = error_text(e); });
  CHECK(failure == "test device: a queue worker did not finish its request within 300 ms; the device needs a reset");
  CHECK(f.read(mmio_reg::status) & status_bit::needs_reset);
  // Thawed, a device that needs a reset serves nothing until the driver resets it.
  f.model->work_ms = 20;
  REQUIRE(f.eventually([&] { return !f.model->busy; }));
  caf::anon_send(f.device, thaw_atom_v);
  const int before = f.model->served;
  hv::signal_eventfd(f.notify_fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  CHECK(f.model->served == before);
  f.write(mmio_reg::status, 0);
  CHECK(f.read(mmio_reg::status) == 0);
  f.bring_up();
  CHECK(f.eventually([&] { return f.model->served > before; }));
  CHECK_FALSE(f.model->overlapped);
}
