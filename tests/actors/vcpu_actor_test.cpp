// The vcpu actor against a scripted vCPU (no KVM): each exit becomes the
// right message, a read's value completes the exit before the next run, a
// kick gets a freeze through, and every other exit ends the VM with its
// status and words.
#include "actors/vcpu_actor.hpp"

#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

using namespace smvm;
using namespace smvm::actors;

namespace {

/// Returns the scripted exits in order; with none left, waits for a kick
/// (immediate exit) and returns `interrupted`. Records, at each run, the
/// bytes the last exit left in its data: what the guest would have got.
class scripted_vcpu final : public hv::vcpu_runner {
 public:
  struct step {
    hv::vcpu_exit exit;
    std::vector<std::uint8_t> bytes;  // the exit's data (values written, or room to read into)
    std::chrono::milliseconds after{};  // the guest runs this long before the exit
  };
  explicit scripted_vcpu(std::deque<step> script) : script_(std::move(script)) {}

  unsigned id() const override { return 0; }
  hv::vcpu_exit run() override {
    std::unique_lock lock(mutex_);
    if (current_) completed.push_back(current_->bytes);
    current_.reset();
    if (!script_.empty() && script_.front().after.count() > 0) {
      const auto after = std::exchange(script_.front().after, {});
      lock.unlock();
      std::this_thread::sleep_for(after);
      lock.lock();
    }
    if (!script_.empty()) {
      current_ = std::move(script_.front());
      script_.pop_front();
      point_at_bytes(*current_);
      return current_->exit;
    }
    if (!kicked_.wait_for(lock, std::chrono::seconds(10), [this] { return immediate_exit_; }))
      return hv::exits::run_failed{ETIMEDOUT};
    return hv::exits::interrupted{};
  }
  void request_immediate_exit() override {
    std::lock_guard lock(mutex_);
    immediate_exit_ = true;
    kicked_.notify_all();
  }
  void clear_immediate_exit() override {
    std::lock_guard lock(mutex_);
    immediate_exit_ = false;
  }
  result<std::vector<std::uint8_t>> save_state() override { return std::vector<std::uint8_t>{1, 2, 3}; }

  std::vector<std::vector<std::uint8_t>> completed;  // read after the vCPU has stopped

 private:
  static void point_at_bytes(step& s) {
    std::visit(
      [&](auto& x) {
        if constexpr (requires { x.data; }) x.data = s.bytes;
      },
      s.exit);
  }
  std::mutex mutex_;
  std::condition_variable kicked_;
  bool immediate_exit_ = false;
  std::deque<step> script_;
  std::optional<step> current_;
};

/// A register window that answers every read with `value` and logs every
/// write: all a vCPU sees of a device.
register_window stand_in_device(caf::actor_system& system, std::uint64_t value,
                                std::shared_ptr<std::vector<std::uint64_t>> writes) {
  // The unused int: CAF 0.17 reads a null argument tuple for a functor
  // spawned without arguments, which UBSan reports.
  return system.spawn([value, writes](register_window::pointer, int) -> register_window::behavior_type {
    return {
      [value, writes](const pio_exit& x) -> std::uint64_t {
        if (x.is_write) writes->push_back(x.data);
        return value;
      },
      [value, writes](const mmio_exit& x) -> std::uint64_t {
        if (x.is_write) writes->push_back(x.data);
        return value;
      },
    };
  }, 0);
}

/// A device that takes every read and never answers it.
register_window silent_device(caf::actor_system& system) {
  auto any = system.spawn([](caf::event_based_actor* self, int) -> caf::behavior {
    auto held = std::make_shared<std::vector<caf::typed_response_promise<std::uint64_t>>>();
    return {
      [self, held](const mmio_exit&) -> caf::result<std::uint64_t> {
        held->push_back(self->make_response_promise<std::uint64_t>());
        return held->back();
      },
    };
  }, 0);
  return caf::actor_cast<register_window>(any);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{(configure(cfg), cfg)};
  caf::scoped_actor self{system};

  /// Spawns the vcpu actor with `self` as its machine; returns the vCPU.
  caf::actor spawn(std::shared_ptr<scripted_vcpu> cpu, std::shared_ptr<const io_routes> routes,
                   vcpu_options opts = {}) {
    auto v = system.spawn<vcpu_actor, caf::detached>(cpu, std::move(routes), caf::actor_cast<machine_actor>(self),
                                                     opts);
    self->monitor(v);
    return v;
  }
  /// The machine's part: takes the vCPU's reason to stop, stops it, and
  /// waits until it has gone.
  guest_stop stop_reported_by(const caf::actor& v) {
    guest_stop why{0, true, "the vCPU reported nothing within 20 s"};
    self->receive([&](guest_stop& g) { why = std::move(g); }, caf::after(std::chrono::seconds(20)) >> [] {});
    self->send(v, stop_atom_v);
    self->receive([](caf::down_msg&) {});
    return why;
  }
};

hv::exits::mmio mmio_at(std::uint64_t address, bool write) { return {address, write, {}}; }

}  // namespace

TEST_CASE_METHOD(fixture, "vcpu actor: an MMIO read takes the device's value into the exit before the next run") {
  auto writes = std::make_shared<std::vector<std::uint64_t>>();
  auto routes = std::make_shared<io_routes>();
  REQUIRE(routes->mmio.add(0xd0000000, 0x200, stand_in_device(system, 0x11223344, writes)));
  auto cpu = std::make_shared<scripted_vcpu>(std::deque<scripted_vcpu::step>{
    {mmio_at(0xd0000070, false), std::vector<std::uint8_t>(4, 0)},
    {mmio_at(0xd0000050, true), {7, 0, 0, 0}},
    {mmio_at(0xe0000000, false), std::vector<std::uint8_t>(2, 0)},  // nothing there
    // A read after the write: the device handles one sender's messages in
    // order, so the write is in `writes` once this read is answered.
    {mmio_at(0xd0000000, false), std::vector<std::uint8_t>(1, 0)},
    {hv::exits::shutdown{}, {}},
  });
  auto v = spawn(cpu, routes);
  auto why = stop_reported_by(v);
  REQUIRE(cpu->completed.size() == 4);
  CHECK(cpu->completed[0] == std::vector<std::uint8_t>{0x44, 0x33, 0x22, 0x11});
  CHECK(cpu->completed[3] == std::vector<std::uint8_t>{0x44});
  CHECK(cpu->completed[2] == std::vector<std::uint8_t>{0xff, 0xff});  // the bus floats high
  CHECK(*writes == std::vector<std::uint64_t>{7});
  CHECK(why.exit_status == 0);
  CHECK_FALSE(why.failure);
  CHECK(why.noted);
  CHECK(why.description == "the guest reset the machine (triple fault)");
}

TEST_CASE_METHOD(fixture, "vcpu actor: a REP OUTS is one write per element, in order, and port 0x80 is ignored") {
  auto writes = std::make_shared<std::vector<std::uint64_t>>();
  auto routes = std::make_shared<io_routes>();
  REQUIRE(routes->ports.add(0x3f8, 8, stand_in_device(system, 0x5a, writes)));
  auto cpu = std::make_shared<scripted_vcpu>(std::deque<scripted_vcpu::step>{
    {hv::exits::port_io{0x3f8, 1, true, 3, {}}, {'a', 'b', 'c'}},
    {hv::exits::port_io{0x80, 1, true, 1, {}}, {0x99}},
    {hv::exits::port_io{0x3fd, 1, false, 2, {}}, {0, 0}},
    {hv::exits::port_io{0x60, 2, false, 1, {}}, {0, 0}},  // no device: floats high
    {hv::exits::halt{}, {}},
  });
  auto v = spawn(cpu, routes);
  auto why = stop_reported_by(v);
  CHECK(*writes == std::vector<std::uint64_t>{'a', 'b', 'c'});
  REQUIRE(cpu->completed.size() == 4);
  CHECK(cpu->completed[2] == std::vector<std::uint8_t>{0x5a, 0x5a});
  CHECK(cpu->completed[3] == std::vector<std::uint8_t>{0xff, 0xff});
  CHECK(why.description == "the guest halted");
  CHECK_FALSE(why.noted);
}

TEST_CASE_METHOD(fixture, "vcpu actor: a freeze kicks the running vCPU out and replies with its saved state") {
  auto cpu = std::make_shared<scripted_vcpu>(std::deque<scripted_vcpu::step>{});
  auto v = spawn(cpu, std::make_shared<io_routes>());
  saved_section saved;
  self->request(v, std::chrono::seconds(10), freeze_atom_v)
    .receive([&](saved_section& s) { saved = std::move(s); }, [](caf::error& e) { FAIL(caf::to_string(e)); });
  CHECK(saved.name == "vcpu.0");
  CHECK(saved.bytes == std::vector<std::uint8_t>{1, 2, 3});
  self->send(v, thaw_atom_v);
  self->send(v, stop_atom_v);
  self->receive([](caf::down_msg&) {});
}

TEST_CASE_METHOD(fixture, "vcpu actor: a device that does not answer a read in time stops the VM, naming it") {
  auto routes = std::make_shared<io_routes>();
  auto silent = silent_device(system);
  REQUIRE(routes->mmio.add(0xd0000000, 0x200, silent));
  auto cpu = std::make_shared<scripted_vcpu>(std::deque<scripted_vcpu::step>{
    {mmio_at(0xd0000070, false), std::vector<std::uint8_t>(4, 0)},
    {hv::exits::halt{}, {}},
  });
  vcpu_options opts;
  opts.read_deadline = std::chrono::milliseconds(200);
  auto v = spawn(cpu, routes, opts);
  auto why = stop_reported_by(v);
  CHECK(why.exit_status == 125);
  CHECK(why.failure);
  CHECK(why.description == "vCPU 0: no answer from the device at 0xd0000070 within 200 ms");
  CHECK(cpu->completed.empty());  // the guest never ran on with a made-up value
  self->send_exit(silent, caf::exit_reason::user_shutdown);  // its held promises keep it alive
}

TEST_CASE_METHOD(fixture, "vcpu actor: a read's deadline passing long after its answer does not stall the vCPU") {
  // CAF 0.17 sends a request's timeout even when the answer came first; a
  // blocking actor's receive skips such a stray reply and would wait for
  // the next real message: the guest stalled, once per read, for good.
  auto writes = std::make_shared<std::vector<std::uint64_t>>();
  auto routes = std::make_shared<io_routes>();
  REQUIRE(routes->ports.add(0x3f8, 8, stand_in_device(system, 0x60, writes)));
  auto cpu = std::make_shared<scripted_vcpu>(std::deque<scripted_vcpu::step>{
    {hv::exits::port_io{0x3fd, 1, false, 1, {}}, {0}},
    {hv::exits::port_io{0x3f8, 1, true, 1, {}}, {'x'}, std::chrono::milliseconds(300)},
    {hv::exits::port_io{0x3fd, 1, false, 1, {}}, {0}, std::chrono::milliseconds(300)},
    {hv::exits::halt{}, {}, std::chrono::milliseconds(300)},
  });
  vcpu_options opts;
  opts.read_deadline = std::chrono::milliseconds(50);
  auto v = spawn(cpu, routes, opts);
  auto why = stop_reported_by(v);
  CHECK(why.description == "the guest halted");
  CHECK(*writes == std::vector<std::uint64_t>{'x'});
  CHECK(cpu->completed.size() == 3);
}

TEST_CASE("vcpu actor: every other exit ends the VM with its status and names the vCPU") {
  namespace ex = hv::exits;
  auto failed = vcpu_actor::stop_for(2, ex::run_failed{EFAULT});
  CHECK(failed.exit_status == 125);
  CHECK(failed.failure);
  CHECK(failed.description == "vCPU 2: KVM_RUN failed: Bad address");
  auto internal = vcpu_actor::stop_for(1, ex::internal_error{1, 0xffffffff81000000});
  CHECK(internal.description == "vCPU 1: KVM internal error (suberror 1) at rip 0xffffffff81000000");
  CHECK(vcpu_actor::stop_for(0, ex::internal_error{3, std::nullopt}).description == "vCPU 0: KVM internal error (suberror 3)");
  CHECK(vcpu_actor::stop_for(0, ex::entry_failed{0x80000021}).description ==
        "vCPU 0: KVM could not enter the guest (hardware reason 0x80000021)");
  auto odd = vcpu_actor::stop_for(0, ex::unexpected{"unexpected KVM exit 42"});
  CHECK(odd.exit_status == 125);
  CHECK(odd.description == "vCPU 0: unexpected KVM exit 42");
  auto event = vcpu_actor::stop_for(0, ex::system_event{1});
  CHECK(event.exit_status == 0);
  CHECK_FALSE(event.failure);
}
