// The lease collector on CAF's deterministic scheduler, with stand-in
// workers that answer when the test says: it answers the device with every
// server once all are back, or at its deadline with those that are, and a
// server handed back later still reaches the device.

#include "actors/lease_collector.hpp"
#include "tests/actors/deterministic.hpp"
#include "devices/virtio/queue_server.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include <optional>
#include <vector>

using namespace smvm;
using namespace smvm::actors;
namespace virtio = smvm::devices::virtio;

namespace {

struct idle_server final : virtio::queue_server {
  result<bool> serve(std::uint16_t) override { return false; }
};

/// A worker holding `server`: it hands it back on quiesce at once, or,
/// when `late`, only once the test sends it queue_notify (its request in
/// flight is done).
queue_worker_actor stand_in_worker(caf::actor_system& system, std::shared_ptr<virtio::queue_server> server,
                                   bool late) {
  using promise = caf::typed_response_promise<queue_lease>;
  return system.spawn([server, late](queue_worker_actor::pointer self, int) -> queue_worker_actor::behavior_type {
    auto held = std::make_shared<std::optional<promise>>();
    return {
      [held, server](const queue_notify&) {
        if (*held) (*held)->deliver(queue_lease{0, server});
      },
      [](const console_input&) {},
      [](queue_lease&) {},
      [self, held, server, late](quiesce_atom) -> caf::result<queue_lease> {
        if (!late) return queue_lease{0, server};
        *held = self->make_response_promise<queue_lease>();
        return **held;
      },
      [](backend_atom) {},
      [](net_frames&) {},
    };
  }, 0);
}

/// A device as the collector sees it after its deadline: it records the
/// servers handed back late.
queue_events stand_in_device(caf::actor_system& system, std::shared_ptr<std::vector<queue_lease>> late) {
  return system.spawn([late](queue_events::pointer, int) -> queue_events::behavior_type {
    return {
      [](const queue_failed&) {},
      [](const queue_notify&) {},
      [late](queue_lease& l) { late->push_back(std::move(l)); },
    };
  }, 0);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{test::deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  std::shared_ptr<virtio::queue_server> first = std::make_shared<idle_server>(),
                                        second = std::make_shared<idle_server>();
  std::shared_ptr<std::vector<queue_lease>> late = std::make_shared<std::vector<queue_lease>>();
  queue_events device = stand_in_device(system, late);
  std::vector<queue_worker_actor> workers;
  std::optional<queue_leases> answer;

  explicit fixture(bool second_late) {
    workers = {stand_in_worker(system, first, false), stand_in_worker(system, second, second_late)};
    auto collector = spawn_lease_collector(system, workers, std::chrono::milliseconds(300),
                                           caf::actor_cast<caf::actor_addr>(device));
    system.spawn([this, collector](caf::event_based_actor* self, int) {
      self->request(collector, caf::infinite, quiesce_atom_v).then([this](queue_leases& l) { answer = std::move(l); });
    }, 0);
    drain();
  }
  ~fixture() {
    for (auto& w : workers) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(device, caf::exit_reason::user_shutdown);
    drain();
  }
  void drain() {
    while (sched.try_run_once()) {
    }
  }
};

}  // namespace

TEST_CASE("lease collector: once every worker has handed its server back, the device gets them all, by worker") {
  fixture f(false);
  REQUIRE(f.answer);
  REQUIRE(f.answer->leases.size() == 2);
  CHECK(f.answer->leases[0].worker == 0);
  CHECK(f.answer->leases[0].server == f.first);
  CHECK(f.answer->leases[1].worker == 1);
  CHECK(f.answer->leases[1].server == f.second);
}

TEST_CASE("lease collector: at its deadline the device gets what is back; a server handed back later still reaches it") {
  fixture f(true);
  CHECK_FALSE(f.answer);  // the second worker is still inside its request
  f.sched.trigger_timeouts();
  f.drain();
  REQUIRE(f.answer);
  REQUIRE(f.answer->leases.size() == 1);
  CHECK(f.answer->leases[0].server == f.first);
  CHECK(f.late->empty());
  caf::anon_send(f.workers[1], queue_notify{0});  // its request is done
  f.drain();
  REQUIRE(f.late->size() == 1);
  CHECK((*f.late)[0].worker == 1);
  CHECK((*f.late)[0].server == f.second);
}
