// The queue worker on CAF's deterministic scheduler, with a scripted queue
// server and a stand-in device: what it serves when, what it tells the
// device, when it raises the interrupt, and when it holds the server.

#include "actors/queue_worker.hpp"
#include "tests/actors/deterministic.hpp"
#include "devices/virtio/queue_server.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <vector>

using namespace smvm;
using namespace smvm::actors;
namespace virtio = smvm::devices::virtio;

namespace {

/// A server whose serve() answers from a script (true: used buffers the
/// driver wants to hear of; an error: a broken queue).
class scripted_server final : public virtio::queue_server {
 public:
  std::deque<result<bool>> answers;
  std::vector<std::uint16_t> served;  // the queue of each call
  std::uint32_t wakeups = 0;          // given out once, on the next serve
  std::string taken;                  // input the server accepted
  std::size_t room = 1 << 20;         // how much more input it accepts

  result<bool> serve(std::uint16_t index) override {
    served.push_back(index);
    if (answers.empty()) return false;
    auto answer = answers.front();
    answers.pop_front();
    return answer;
  }
  std::uint32_t take_wakeups() override { return std::exchange(wakeups, 0); }
  std::vector<virtio::frame_bytes> to_send;   // what the next take_frames() gives
  std::vector<virtio::frame_bytes> received;  // what receive_frames() was given
  std::vector<virtio::frame_bytes> take_frames() override { return std::exchange(to_send, {}); }
  result<bool> receive_frames(std::vector<virtio::frame_bytes>& frames) override {
    for (auto& f : frames) received.push_back(std::move(f));
    return true;
  }
  std::size_t receive(std::span<const std::uint8_t> bytes) override {
    const std::size_t n = std::min(room, bytes.size());
    taken.append(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    room -= n;
    return n;
  }
};

/// What the stand-in device heard from the worker.
struct device_log {
  std::vector<std::string> failures;
  std::vector<std::uint16_t> notified;
};

/// A device as its queue workers see it: it records what they tell it.
queue_events stand_in_device(caf::actor_system& system, std::shared_ptr<device_log> log) {
  return system.spawn([log](queue_events::pointer, int) -> queue_events::behavior_type {
    return {
      [log](const queue_failed& f) { log->failures.push_back(f.description); },
      [log](const queue_notify& n) { log->notified.push_back(n.queue); },
      [](queue_lease&) {},
    };
  }, 0);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{test::deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  std::shared_ptr<scripted_server> server = std::make_shared<scripted_server>();
  std::shared_ptr<device_log> heard = std::make_shared<device_log>();
  int pulses = 0;
  std::shared_ptr<virtio::interrupt> irq = std::make_shared<virtio::interrupt>([this] { ++pulses; });
  queue_events device = stand_in_device(system, heard);
  queue_worker_actor worker;

  explicit fixture(bool with_input = false, std::vector<std::uint16_t> queues = {1}) {
    queue_worker_spec spec{std::move(queues), irq, caf::actor_cast<caf::actor_addr>(device), std::nullopt, false, {}, {}};
    if (with_input) spec.input_queue = 1;
    worker = spawn_queue_worker(system, std::move(spec));
    drain();
  }
  ~fixture() {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(device, caf::exit_reason::user_shutdown);
    drain();
  }
  void drain() {
    while (sched.try_run_once()) {
    }
  }
  template <class Message>
  void tell(Message m) {
    caf::anon_send(worker, std::move(m));
    drain();
  }
  /// Lends the worker the server, as its device does at DRIVER_OK.
  void lend() { tell(queue_lease{0, server}); }
  /// Takes the server back; what the worker handed back.
  std::optional<queue_lease> quiesce() {
    std::optional<queue_lease> answer;
    system.spawn([&](caf::event_based_actor* self, int) {
      self->request(worker, caf::infinite, quiesce_atom_v).then([&](queue_lease& l) { answer = std::move(l); });
    }, 0);
    drain();
    return answer;
  }
};

console_input bytes(const std::string& s) { return console_input{{s.begin(), s.end()}}; }

}  // namespace

TEST_CASE("queue worker: holding nothing it serves nothing; lent its server, it serves what was notified meanwhile") {
  fixture f;
  f.tell(queue_notify{1});
  CHECK(f.server->served.empty());
  f.lend();
  CHECK(f.server->served == std::vector<std::uint16_t>{1});
  f.tell(queue_notify{1});
  CHECK(f.server->served.size() == 2);
}

TEST_CASE("queue worker: the interrupt is raised only when the server says the driver wants it") {
  fixture f;
  f.server->answers = {false, true};
  f.lend();
  CHECK(f.pulses == 0);
  f.tell(queue_notify{1});
  CHECK(f.pulses == 1);
  CHECK(f.irq->status() == virtio::interrupt_bit::used_buffer);
}

TEST_CASE("queue worker: quiesce hands the server back and keeps no copy; nothing is served until it is lent again") {
  fixture f;
  f.lend();
  auto back = f.quiesce();
  REQUIRE(back);
  CHECK(back->server == f.server);
  back.reset();
  CHECK(f.server.use_count() == 1);  // only the test holds it now
  f.tell(queue_notify{1});
  CHECK(f.server->served.size() == 1);  // only the lend's
  f.lend();
  CHECK(f.server->served.size() == 2);
}

TEST_CASE("queue worker: a worker that holds nothing answers quiesce with an empty lease") {
  fixture f;
  auto back = f.quiesce();
  REQUIRE(back);
  CHECK(back->server == nullptr);
}

TEST_CASE("queue worker: a broken queue is reported to the device once, and served no more until lent again") {
  fixture f;
  f.server->answers = {smvm::make_error("descriptor 9 points outside guest memory")};
  f.lend();
  REQUIRE(f.heard->failures == std::vector<std::string>{"descriptor 9 points outside guest memory"});
  f.tell(queue_notify{1});
  f.tell(queue_notify{1});
  CHECK(f.server->served.size() == 1);
  CHECK(f.heard->failures.size() == 1);
  REQUIRE(f.quiesce());  // the device reset it: it serves again
  f.lend();
  CHECK(f.server->served.size() == 2);
}

TEST_CASE("queue worker: a woken queue of its own is served by the worker; another worker's goes through the device") {
  fixture f(false, {0, 2});
  f.server->wakeups = (1u << 2) | (1u << 3);
  f.lend();  // serves 0 (which wakes 2 and 3), then 2, then the woken 2
  CHECK(f.server->served == std::vector<std::uint16_t>{0, 2, 2});
  CHECK(f.heard->notified == std::vector<std::uint16_t>{3});
}

TEST_CASE("queue worker: host input the server cannot take yet waits in order, and is not handed over while it holds nothing") {
  fixture f(true);
  f.server->room = 4;
  f.tell(bytes("hello, "));  // holding nothing: the input waits in the worker
  CHECK(f.server->taken.empty());
  f.lend();
  CHECK(f.server->taken == "hell");
  f.server->room = 100;
  f.tell(bytes("world"));
  CHECK(f.server->taken == "hello, world");
}

TEST_CASE("queue worker: console input to a worker without the input queue is ignored") {
  fixture f;
  f.lend();
  f.tell(bytes("nobody reads this"));
  CHECK(f.server->served.size() == 1);
  CHECK(f.server->taken.empty());
}

TEST_CASE("queue worker: one worker serves each queue the model gave it, and only those") {
  fixture f(false, {0, 2});
  f.lend();  // each of its queues, in order
  CHECK(f.server->served == std::vector<std::uint16_t>{0, 2});
  f.tell(queue_notify{2});
  f.tell(queue_notify{1});  // another worker's queue: not this one's to serve
  f.tell(queue_notify{0});
  CHECK(f.server->served == std::vector<std::uint16_t>{0, 2, 2, 0});
}

namespace {

/// What a stand-in switch heard from a card's worker.
struct switch_log {
  std::vector<port_attach> attached;
  std::vector<net_frames> frames;
};

link_peer stand_in_switch(caf::actor_system& system, std::shared_ptr<switch_log> log) {
  return system.spawn([log](link_peer::pointer, int) -> link_peer::behavior_type {
    return {
      [log](port_attach& a) { log->attached.push_back(std::move(a)); },
      [log](net_frames& f) {
        for (auto& frame : f.frames) log->attached.front().port_credit->give_back(frame.size());
        log->frames.push_back(std::move(f));
      },
    };
  }, 0);
}

}  // namespace

TEST_CASE("queue worker: a card's worker plugs into its port, and sends what its guest sent there within the credit") {
  caf::actor_system_config cfg;
  caf::actor_system system{test::deterministic(cfg)};
  auto& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  auto drain = [&] { while (sched.try_run_once()) {} };
  auto heard = std::make_shared<switch_log>();
  auto sw = stand_in_switch(system, heard);
  auto server = std::make_shared<scripted_server>();
  auto irq = std::make_shared<virtio::interrupt>([] {});
  queue_worker_spec spec{{0, 1}, irq, caf::actor_addr{}, std::nullopt, false, {}, {}};
  auto credit = std::make_shared<frame_credit>(3 * (100 + frame_credit::overhead));  // room for three
  spec.link = card_link{sw, 7, credit, "vm net[0]"};
  auto worker = spawn_queue_worker(system, std::move(spec));
  drain();
  REQUIRE(heard->attached.size() == 1);
  CHECK(heard->attached[0].port == 7);
  CHECK(heard->attached[0].name == "vm net[0]");

  // Frames for the guest while nothing is lent are dropped, and their room given back.
  auto inbound = heard->attached[0].card_credit;
  REQUIRE(inbound->take(60));
  caf::anon_send(worker, net_frames{0, {virtio::frame_bytes(60, 1)}});
  drain();
  CHECK(server->received.empty());
  CHECK(inbound->take(card_credit_bytes - 60 - frame_credit::overhead));  // all the room is back
  inbound->give_back(card_credit_bytes - 60 - frame_credit::overhead);

  caf::anon_send(worker, queue_lease{0, server});
  drain();
  caf::anon_send(worker, net_frames{0, {virtio::frame_bytes(60, 2)}});
  drain();
  REQUIRE(server->received.size() == 1);
  CHECK(server->received[0][0] == 2);

  // Five frames at once, with room for three in the switch's mailbox: two
  // are dropped (the stand-in gives the room back only once it runs).
  server->to_send.assign(5, virtio::frame_bytes(100, 9));
  caf::anon_send(worker, queue_notify{1});
  drain();
  REQUIRE(heard->frames.size() == 1);
  CHECK(heard->frames[0].port == 7);
  CHECK(heard->frames[0].frames.size() == 3);
  CHECK(credit->dropped() == 2);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sw, caf::exit_reason::user_shutdown);
  drain();
}
