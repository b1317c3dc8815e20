// The queue worker on CAF's deterministic scheduler, with a scripted model
// and a stand-in device: what it serves when, what it tells the device, and
// when it raises the interrupt.

#include "actors/queue_worker.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include <deque>
#include <string>
#include <vector>

using namespace smvm;
using namespace smvm::actors;
namespace virtio = smvm::devices::virtio;

namespace {

/// A model whose process_queue() answers from a script (true: used buffers
/// the driver wants to hear of; an error: a broken queue).
class scripted_model final : public virtio::device_model {
 public:
  std::deque<result<bool>> answers;
  std::vector<std::uint16_t> served;  // the queue of each call
  std::uint32_t wakeups = 0;
  std::string taken;                  // input the model accepted
  std::size_t room = 1 << 20;         // how much more input it accepts

  std::uint32_t device_id() const override { return 4; }
  std::uint64_t device_features() const override { return 0; }
  std::uint16_t queue_count() const override { return 2; }
  std::span<const std::uint8_t> config_space() const override { return {}; }
  result<void> activate(std::uint64_t, const std::vector<virtio::queue_config>&) override { return {}; }
  void reset() override {}
  result<bool> process_queue(std::uint16_t index) override {
    served.push_back(index);
    if (answers.empty()) return false;
    auto answer = answers.front();
    answers.pop_front();
    return answer;
  }
  std::uint32_t take_wakeups() override { return std::exchange(wakeups, 0); }
  std::vector<virtio::queue*> queues() override { return {nullptr, nullptr}; }
  std::size_t accept(std::span<const std::uint8_t> bytes) {
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
    };
  }, 0);
}

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  configure(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{testing(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  std::shared_ptr<scripted_model> model = std::make_shared<scripted_model>();
  std::shared_ptr<device_log> heard = std::make_shared<device_log>();
  int pulses = 0;
  std::shared_ptr<virtio::interrupt> irq = std::make_shared<virtio::interrupt>([this] { ++pulses; });
  queue_events device = stand_in_device(system, heard);
  queue_worker_actor worker;

  explicit fixture(bool with_input = false, std::vector<std::uint16_t> queues = {1}) {
    queue_worker_spec spec{model, std::move(queues), irq, caf::actor_cast<caf::actor_addr>(device), {}, 1, false};
    if (with_input) spec.input = [m = model](std::span<const std::uint8_t> b) { return m->accept(b); };
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
  /// Asks the worker to pause; its answer.
  std::optional<bool> pause() {
    std::optional<bool> answer;
    system.spawn([&](caf::event_based_actor* self, int) {
      self->request(worker, caf::infinite, quiesce_atom_v).then([&](bool b) { answer = b; });
    }, 0);
    drain();
    return answer;
  }
};

console_input bytes(const std::string& s) { return console_input{{s.begin(), s.end()}}; }

}  // namespace

TEST_CASE("queue worker: spawned paused, it serves nothing until resumed, then what was notified meanwhile") {
  fixture f;
  f.tell(queue_notify{1});
  CHECK(f.model->served.empty());
  f.tell(serve_atom_v);
  CHECK(f.model->served == std::vector<std::uint16_t>{1});
  f.tell(queue_notify{1});
  CHECK(f.model->served.size() == 2);
}

TEST_CASE("queue worker: the interrupt is raised only when the model says the driver wants it") {
  fixture f;
  f.model->answers = {false, true};
  f.tell(serve_atom_v);
  CHECK(f.pulses == 0);
  f.tell(queue_notify{1});
  CHECK(f.pulses == 1);
  CHECK(f.irq->status() == virtio::interrupt_bit::used_buffer);
}

TEST_CASE("queue worker: a paused worker answers true and serves no notify until resumed") {
  fixture f;
  f.tell(serve_atom_v);
  REQUIRE(f.pause() == true);
  f.tell(queue_notify{1});
  CHECK(f.model->served.size() == 1);  // only resume's
  f.tell(serve_atom_v);
  CHECK(f.model->served.size() == 2);
}

TEST_CASE("queue worker: a broken queue is reported to the device once, and served no more until resumed") {
  fixture f;
  f.model->answers = {smvm::make_error("descriptor 9 points outside guest memory")};
  f.tell(serve_atom_v);
  REQUIRE(f.heard->failures == std::vector<std::string>{"descriptor 9 points outside guest memory"});
  f.tell(queue_notify{1});
  f.tell(queue_notify{1});
  CHECK(f.model->served.size() == 1);
  CHECK(f.heard->failures.size() == 1);
  f.tell(serve_atom_v);  // the device reset it: it serves again
  CHECK(f.model->served.size() == 2);
}

TEST_CASE("queue worker: queues the model woke up are notified through the device") {
  fixture f;
  f.model->wakeups = (1u << 0) | (1u << 3);
  f.tell(serve_atom_v);
  CHECK(f.heard->notified == std::vector<std::uint16_t>{0, 3});
}

TEST_CASE("queue worker: host input the model cannot take yet waits in order, and is not served while paused") {
  fixture f(true);
  f.model->room = 4;
  f.tell(bytes("hello, "));  // paused: held, not handed over
  CHECK(f.model->taken.empty());
  f.tell(serve_atom_v);
  CHECK(f.model->taken == "hell");
  f.model->room = 100;
  f.tell(bytes("world"));
  CHECK(f.model->taken == "hello, world");
}

TEST_CASE("queue worker: console input to a queue without an input path is ignored") {
  fixture f;
  f.tell(serve_atom_v);
  f.tell(bytes("nobody reads this"));
  CHECK(f.model->served.size() == 1);
  CHECK(f.model->taken.empty());
}

TEST_CASE("queue worker: one worker serves each queue the model gave it, and only those") {
  fixture f(false, {0, 2});
  f.tell(serve_atom_v);  // serving again: each of its queues, in order
  CHECK(f.model->served == std::vector<std::uint16_t>{0, 2});
  f.tell(queue_notify{2});
  f.tell(queue_notify{1});  // another worker's queue: not this one's to serve
  f.tell(queue_notify{0});
  CHECK(f.model->served == std::vector<std::uint16_t>{0, 2, 2, 0});
}
