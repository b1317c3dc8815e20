// The machine actor on CAF's deterministic scheduler: a machine with no
// vCPU and no virtio device (no KVM), driven by the messages its peers send
// it. The UART and the snapshotter run on threads of their own, so a test
// runs the scheduler until what it waits for arrives, within a bound.

#include "actors/machine_actor.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

using namespace smvm;
using namespace smvm::actors;

namespace {

caf::actor_system_config& testing(caf::actor_system_config& cfg) {
  configure(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

/// A console that goes nowhere, with no host input.
config::console_section quiet_console() {
  config::console_section c;
  c.input = config::console_input::none;
  c.output = config::console_output::none;
  return c;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{testing(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  machine_actor machine;
  std::optional<std::int32_t> status;  // what run answered

  explicit fixture(machine_parts parts = {}) {
    machine_options options;
    options.console = quiet_console();
    if (!parts.console) parts.console = *console_sink::open(options.console);
    machine = spawn_machine(system, std::move(parts), std::move(options));
    system.spawn([this](caf::event_based_actor* self, int) {
      self->request(machine, caf::infinite, run_atom_v).then([this](std::int32_t s) { status = s; });
    }, 0);
    drain();
  }
  ~fixture() {
    // The testing scheduler runs nothing by itself: the machine is stopped
    // and every actor run to its end here, or the system waits forever.
    if (!status) caf::anon_send(machine, guest_stop{0, false, "the test is over"});
    machine = nullptr;
    settle([&] { return status.has_value() && system.registry().running() == 0; });
  }
  void drain() {
    while (sched.try_run_once()) {
    }
  }
  /// Runs the scheduler until `done` holds (the actors on their own
  /// threads answer meanwhile); false after 10 s.
  template <class Done>
  bool settle(Done done) {
    for (int i = 0; i < 10000; ++i) {
      drain();
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
  }
  /// Asks the machine `what`; its answer, or the error's text.
  template <class Answer, class Message>
  std::string ask(Message what) {
    std::optional<std::string> answer;
    system.spawn([&](caf::event_based_actor* self, int) {
      self->request(machine, caf::infinite, what)
        .then([&](Answer a) {
          if constexpr (std::is_same_v<Answer, bool>) answer = a ? "true" : "false";
          else answer = std::move(a);
        }, [&](caf::error& e) { answer = "error: " + error_text(e); });
    }, 0);
    settle([&] { return answer.has_value(); });
    return answer.value_or("no answer");
  }
};

}  // namespace

TEST_CASE("machine actor: the first reason to stop is the status run answers") {
  fixture f;
  CHECK_FALSE(f.status);
  caf::anon_send(f.machine, guest_stop{3, false, "the guest reported status 3"});
  caf::anon_send(f.machine, guest_stop{125, true, "the guest reset the machine (triple fault)"});
  REQUIRE(f.settle([&] { return f.status.has_value(); }));
  CHECK(*f.status == 3);
}

TEST_CASE("machine actor: status reads running, paused, running, as pause and resume take effect") {
  fixture f;
  CHECK(f.ask<std::string>(status_atom_v) == "running");
  CHECK(f.ask<bool>(resume_atom_v) == "false");  // not paused: nothing to resume
  CHECK(f.ask<bool>(pause_atom_v) == "true");
  CHECK(f.ask<std::string>(status_atom_v) == "paused");
  CHECK(f.ask<bool>(resume_atom_v) == "true");
  CHECK(f.ask<std::string>(status_atom_v) == "running");
}

TEST_CASE("machine actor: a signal without smvm run's workload channel stops the VM with 128 + its number") {
  fixture f;
  caf::anon_send(f.machine, workload_signal{15});
  REQUIRE(f.settle([&] { return f.status.has_value(); }));
  CHECK(*f.status == 128 + 15);
}

TEST_CASE("machine actor: a ready call without vm.toml's [snapshot] leaves the VM running") {
  fixture f;
  caf::anon_send(f.machine, ready_atom_v);
  f.drain();
  CHECK(f.ask<std::string>(status_atom_v) == "running");
  CHECK_FALSE(f.status);
}

TEST_CASE("machine actor: a restored UART section that does not decode ends the VM with 125") {
  machine_parts parts;
  parts.device_states["serial"] = {1, 2, 3};
  parts.device_states["i8042"] = {};
  fixture f(std::move(parts));
  REQUIRE(f.settle([&] { return f.status.has_value(); }));
  CHECK(*f.status == 125);
}
