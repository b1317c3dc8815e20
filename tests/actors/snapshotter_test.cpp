// The snapshot protocol on CAF's deterministic scheduler, with stand-in
// vCPUs and devices whose faults the tests choose.

#include "actors/snapshotter.hpp"
#include "tests/actors/deterministic.hpp"
#include "tests/unit/scratch_dir.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>

using namespace smvm;
using namespace smvm::actors;

namespace {

enum class fault { none, silent, refuses };

/// What a stand-in saw: how many thaws.
struct log {
  int thaws = 0;
};

struct silent_vcpu_state {
  std::vector<caf::response_promise> kept;  // never delivered: a vCPU stuck in KVM_RUN
};

freezable stand_in_vcpu(caf::actor_system& system, unsigned id, fault f, std::shared_ptr<log> seen) {
  return system.spawn([=](freezable::stateful_pointer<silent_vcpu_state> self, int) -> freezable::behavior_type {
    return {
      [=](freeze_atom) -> caf::result<saved_section> {
        if (f == fault::silent) {
          self->state.kept.push_back(self->make_response_promise());
          return caf::delegated<saved_section>{};
        }
        if (f == fault::refuses) return caf::make_error(caf::sec::runtime_error, "KVM_GET_XSAVE failed");
        return saved_section{fmt::format("vcpu.{}", id), {std::uint8_t(id)}};
      },
      [=](thaw_atom) { ++seen->thaws; },
    };
  }, 0);
}

/// A device as the snapshotter sees it: freeze and thaw, nothing else.
freezable stand_in_device(caf::actor_system& system, fault f, std::shared_ptr<log> seen) {
  return system.spawn([=](freezable::pointer, int) -> freezable::behavior_type {
    return {
      [=](freeze_atom) -> caf::result<saved_section> {
        if (f == fault::refuses) return caf::make_error(caf::sec::runtime_error, "virtio-blk: cannot serialize");
        return saved_section{"virtio.0", {7, 7}};
      },
      [=](thaw_atom) { ++seen->thaws; },
    };
  }, 0);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{test::deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  test::scratch_dir dir;
  std::vector<std::shared_ptr<log>> logs;
  snapshot_target target;
  std::optional<std::string> written, failure;

  fixture(std::vector<fault> vcpus, fault device) {
    for (unsigned i = 0; i < vcpus.size(); ++i) {
      logs.push_back(std::make_shared<log>());
      target.vcpus.push_back(stand_in_vcpu(system, i, vcpus[i], logs.back()));
    }
    logs.push_back(std::make_shared<log>());
    target.devices.push_back(stand_in_device(system, device, logs.back()));
    target.own_thread = false;  // every step on the deterministic scheduler
    target.capture = [](const std::string&) -> result<std::vector<snapshot::section>> {
      return std::vector<snapshot::section>{{"vm", {1, 2, 3}}};
    };
    drain();
  }
  ~fixture() {
    // The testing scheduler runs nothing by itself: end every actor here,
    // or the actor system waits for them forever.
    for (auto& v : target.vcpus) caf::anon_send_exit(v, caf::exit_reason::user_shutdown);
    for (auto& d : target.devices) caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
    if (snapshotter) caf::anon_send_exit(snapshotter, caf::exit_reason::user_shutdown);
    target = {};
    snapshotter = nullptr;
    drain();
  }
  /// Runs every job, but triggers no timeout: time moves only when a test
  /// advances it.
  void drain() {
    while (sched.try_run_once()) {
    }
  }
  std::string path() const { return (dir / "snap").string(); }

  /// Sends the request from a client actor and runs until nothing is left.
  void take(bool leave_frozen = false) {
    snapshotter = spawn_snapshotter(system, target);
    system.spawn([=, this](caf::event_based_actor* self, int) {
      self->request(snapshotter, caf::infinite, snapshot_request{path(), leave_frozen})
        .then([this](std::string& p) { written = p; }, [this](caf::error& e) { failure = caf::to_string(e); });
    }, 0);
    drain();
  }
  /// Sends pause or resume from a client actor; the reply lands in `answer`.
  template <class Atom>
  void ask(Atom atom) {
    if (!snapshotter) snapshotter = spawn_snapshotter(system, target);
    answer.reset();
    system.spawn([=, this](caf::event_based_actor* self, int) {
      self->request(snapshotter, caf::infinite, atom)
        .then([this](bool b) { answer = b ? "true" : "false"; }, [this](caf::error& e) { answer = caf::to_string(e); });
    }, 0);
    drain();
  }
  /// A snapshot request to the same snapshotter.
  void take_again() {
    system.spawn([=, this](caf::event_based_actor* self, int) {
      self->request(snapshotter, caf::infinite, snapshot_request{path(), false})
        .then([this](std::string& p) { written = p; }, [this](caf::error& e) { failure = caf::to_string(e); });
    }, 0);
    drain();
  }
  std::optional<std::string> answer;
  snapshotter_actor snapshotter;
  bool all_thawed() const {
    for (auto& l : logs)
      if (l->thaws != 1) return false;
    return true;
  }
  int thaws() const {
    int n = 0;
    for (auto& l : logs) n += l->thaws;
    return n;
  }
};

}  // namespace

TEST_CASE("snapshotter: every part's state lands in one file, then the VM is thawed") {
  fixture f({fault::none, fault::none}, fault::none);
  f.take();
  REQUIRE(f.written);
  CHECK_FALSE(f.failure);
  auto file = snapshot::read_snapshot_file(f.path());
  REQUIRE(file);
  for (auto name : {"vcpu.0", "vcpu.1", "virtio.0", "vm"}) CHECK(file->find(name));
  CHECK(f.all_thawed());
}

TEST_CASE("snapshotter: left frozen when asked, for the caller to stop the VM") {
  fixture f({fault::none}, fault::none);
  f.take(true);
  REQUIRE(f.written);
  CHECK(f.thaws() == 0);
}

TEST_CASE("snapshotter: a vCPU that never answers freeze fails the snapshot with a timeout; the VM runs on") {
  fixture f({fault::none, fault::silent}, fault::none);
  f.take();
  CHECK_FALSE(f.written);
  CHECK_FALSE(f.failure);  // still waiting for vCPU 1
  f.sched.advance_time(f.target.vcpu_deadline + std::chrono::milliseconds(1));
  f.drain();
  REQUIRE(f.failure);
  CHECK_THAT(*f.failure, Catch::Contains("vCPU 1 did not freeze: no answer within 2000 ms; the VM runs on"));
  CHECK(f.all_thawed());  // the frozen vCPU 0 and the never-frozen rest all told to go on
  CHECK_FALSE(std::filesystem::exists(f.path()));
  CHECK(std::filesystem::is_empty(f.dir.path));
}

TEST_CASE("snapshotter: a device that fails to serialize fails the snapshot; the VM runs on") {
  fixture f({fault::none}, fault::refuses);
  f.take();
  REQUIRE(f.failure);
  CHECK_THAT(*f.failure, Catch::Contains("device 0 did not freeze"));
  CHECK_THAT(*f.failure, Catch::Contains("virtio-blk: cannot serialize"));
  CHECK(f.all_thawed());
  CHECK(std::filesystem::is_empty(f.dir.path));
}

TEST_CASE("snapshotter: a vCPU that cannot save its state fails the snapshot") {
  fixture f({fault::refuses}, fault::none);
  f.take();
  REQUIRE(f.failure);
  CHECK_THAT(*f.failure, Catch::Contains("vCPU 0 did not freeze"));
  CHECK(f.all_thawed());
}

TEST_CASE("snapshotter: a full disk while writing leaves no file under the final name; the VM runs on") {
  fixture f({fault::none}, fault::none);
  // As the machine's capture does: guest memory lands beside the state
  // file first; once the state file cannot be written it is discarded.
  f.target.capture = [](const std::string& path) -> result<std::vector<snapshot::section>> {
    std::ofstream(path + ".mem") << "guest memory";
    return std::vector<snapshot::section>{{"vm", {1}}};
  };
  f.target.discard = [](const std::string& path) { std::filesystem::remove(path + ".mem"); };
  f.target.io.write = [](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  f.take();
  REQUIRE(f.failure);
  CHECK_THAT(*f.failure, Catch::Contains("No space left on device"));
  CHECK(f.all_thawed());
  CHECK(std::filesystem::is_empty(f.dir.path));
}

TEST_CASE("snapshotter: a failure to capture the VM thaws everything") {
  fixture f({fault::none}, fault::none);
  f.target.capture = [](const std::string&) -> result<std::vector<snapshot::section>> {
    return make_error("KVM_GET_CLOCK: Invalid argument");
  };
  f.take();
  REQUIRE(f.failure);
  CHECK_THAT(*f.failure, Catch::Contains("capturing the VM: KVM_GET_CLOCK"));
  CHECK(f.all_thawed());
}

TEST_CASE("snapshotter: pause freezes every part and keeps it so; resume thaws it") {
  fixture f({fault::none, fault::none}, fault::none);
  f.ask(pause_atom_v);
  CHECK(f.answer == "true");
  CHECK(f.thaws() == 0);
  f.ask(pause_atom_v);  // paused already: nothing more to do
  CHECK(f.answer == "true");
  f.ask(resume_atom_v);
  CHECK(f.answer == "true");
  CHECK(f.all_thawed());
  f.ask(resume_atom_v);  // running: resume says it was not paused
  CHECK(f.answer == "false");
  CHECK(f.all_thawed());
}

TEST_CASE("snapshotter: a snapshot of a paused VM leaves it paused") {
  fixture f({fault::none}, fault::none);
  f.ask(pause_atom_v);
  f.take_again();
  REQUIRE(f.written);
  CHECK(f.thaws() == 0);
  f.ask(resume_atom_v);
  CHECK(f.all_thawed());
}

TEST_CASE("snapshotter: a failed snapshot of a paused VM leaves it paused") {
  fixture f({fault::none}, fault::none);
  f.target.io.write = [](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  f.ask(pause_atom_v);
  f.take_again();
  REQUIRE(f.failure);
  CHECK_THAT(*f.failure, Catch::Contains("the VM stays paused"));
  CHECK(f.thaws() == 0);
}

TEST_CASE("snapshotter: a vCPU that never answers makes pause fail and thaws the rest") {
  fixture f({fault::none, fault::silent}, fault::none);
  f.ask(pause_atom_v);
  CHECK_FALSE(f.answer);
  f.sched.advance_time(f.target.vcpu_deadline + std::chrono::milliseconds(1));
  f.drain();
  REQUIRE(f.answer);
  CHECK_THAT(*f.answer, Catch::Contains("pause: vCPU 1 did not freeze"));
  CHECK(f.all_thawed());
  f.ask(resume_atom_v);
  CHECK(f.answer == "false");  // it never paused
}
