#include "actors/vcpu_actor.hpp"

#include <fmt/format.h>

#include <csignal>
#include <cstring>

namespace smvm::actors {

namespace {

void ignore_signal(int) {}

void install_kick_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action{};
    action.sa_handler = ignore_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;  // no SA_RESTART: KVM_RUN must return EINTR
    sigaction(vcpu_actor::kick_signal(), &action, nullptr);
  });
}

std::uint64_t load_le(const std::uint8_t* p, unsigned size) {
  std::uint64_t v = 0;
  std::memcpy(&v, p, size);
  return v;
}

void store_le(std::uint8_t* p, unsigned size, std::uint64_t v) { std::memcpy(p, &v, size); }

std::uint64_t message_address(const pio_exit& m) { return m.port; }
std::uint64_t message_address(const mmio_exit& m) { return m.address; }

caf::result<caf::message> drop_message(caf::message_view&) { return caf::message{}; }

// Port 0x80 takes POST codes and the kernel's I/O delay writes: nothing to do.
constexpr std::uint16_t post_port = 0x80;

}  // namespace

int vcpu_actor::kick_signal() { return SIGRTMIN; }

vcpu_actor::vcpu_actor(caf::actor_config& cfg, std::shared_ptr<hv::vcpu_runner> cpu,
                       std::shared_ptr<const io_routes> routes, machine_actor machine, vcpu_options opts)
    : caf::blocking_actor(cfg),
      cpu_(std::move(cpu)),
      routes_(std::move(routes)),
      machine_(std::move(machine)),
      opts_(opts) {}

void vcpu_actor::enqueue(caf::mailbox_element_ptr element, caf::execution_unit* unit) {
  // Replies to our own requests arrive while we wait for them outside
  // KVM_RUN: they need no kick.
  bool kick = element && !element->mid.is_response();
  caf::blocking_actor::enqueue(std::move(element), unit);
  if (!kick) return;
  cpu_->request_immediate_exit();
  std::lock_guard<std::mutex> lock(thread_mutex_);
  if (thread_) pthread_kill(*thread_, kick_signal());
}

bool vcpu_actor::drain_mailbox() {
  // A vcpu understands stop, freeze and thaw; anything else is dropped
  // rather than left to block the receive that waits for a match. Frozen,
  // it waits here for the next message.
  // Running, it never waits: a reply nobody awaits any more (a read's
  // deadline that passed after its answer) counts as a message but matches
  // no receive, which would then sleep until the next real one.
  auto on_stop = [&](stop_atom) { stop_requested_ = true; };
  auto on_freeze = [&](freeze_atom) { return freeze(); };
  auto on_thaw = [&](thaw_atom) { frozen_ = false; };
  while (!stop_requested_ && (frozen_ || has_next_message())) {
    if (frozen_) {
      receive(on_stop, on_freeze, on_thaw, caf::others >> drop_message);
    } else {
      bool idle = false;
      receive(on_stop, on_freeze, on_thaw, caf::others >> drop_message,
              caf::after(std::chrono::seconds(0)) >> [&] { idle = true; });
      if (idle) break;
    }
  }
  return stop_requested_;
}

caf::result<saved_section> vcpu_actor::freeze() {
  // An exit handled but not yet completed (an MMIO read's value sits in
  // the exit's data, the instruction has not retired) is finished by
  // running once more: with immediate_exit set, the backend completes it
  // and returns at once. Only then is the state consistent.
  if (!frozen_) {
    for (int tries = 0;; ++tries) {
      cpu_->request_immediate_exit();
      const hv::vcpu_exit exit = cpu_->run();
      cpu_->clear_immediate_exit();
      if (std::holds_alternative<hv::exits::interrupted>(exit)) break;
      if (const auto* failed = std::get_if<hv::exits::run_failed>(&exit); failed || tries == 8)
        return caf::make_error(caf::sec::runtime_error,
                               fmt::format("vCPU {}: cannot leave KVM_RUN to freeze: {}", cpu_->id(),
                                           failed ? std::strerror(failed->error) : "it keeps exiting"));
      if (handle_exit(exit) == step::stop) return caf::make_error(caf::sec::runtime_error, "the VM is ending");
    }
    frozen_ = true;
  }
  auto state = cpu_->save_state();
  if (!state)
    return caf::make_error(caf::sec::runtime_error, fmt::format("vCPU {}: {}", cpu_->id(), state.error().message));
  return saved_section{fmt::format("vcpu.{}", cpu_->id()), std::move(*state)};
}

void vcpu_actor::act() {
  install_kick_handler();
  sigset_t kick;
  sigemptyset(&kick);
  sigaddset(&kick, kick_signal());
  pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
  {
    std::lock_guard<std::mutex> lock(thread_mutex_);
    thread_ = pthread_self();
  }
  while (!drain_mailbox()) {
    const hv::vcpu_exit exit = cpu_->run();
    if (std::holds_alternative<hv::exits::interrupted>(exit)) {
      // A kick. Clearing before the next drain means a message that lands
      // after the drain sets it again: no kick is lost.
      cpu_->clear_immediate_exit();
      continue;
    }
    if (handle_exit(exit) == step::stop) break;
  }
  {
    std::lock_guard<std::mutex> lock(thread_mutex_);
    thread_.reset();
  }
  // Drop handles so no reference cycle outlives the actor system.
  machine_ = nullptr;
  routes_.reset();
}

void vcpu_actor::report_and_wait(guest_stop why) {
  caf::anon_send(machine_, std::move(why));
  while (!stop_requested_)
    receive([&](stop_atom) { stop_requested_ = true; }, caf::others >> drop_message);
}

vcpu_actor::step vcpu_actor::handle_exit(const hv::vcpu_exit& exit) {
  namespace ex = hv::exits;
  if (opts_.trace_exits) fmt::print(stderr, "smvm: vCPU {} exit: {}\n", cpu_->id(), hv::describe(exit));
  if (const auto* io = std::get_if<ex::port_io>(&exit)) return handle_pio(*io);
  if (const auto* mmio = std::get_if<ex::mmio>(&exit)) return handle_mmio(*mmio);
  if (std::holds_alternative<ex::interrupted>(exit)) return step::keep_running;
  report_and_wait(stop_for(cpu_->id(), exit));
  return step::stop;
}

guest_stop vcpu_actor::stop_for(unsigned id, const hv::vcpu_exit& exit) {
  namespace ex = hv::exits;
  return std::visit(
    [id](const auto& x) -> guest_stop {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, ex::shutdown>)
        // A triple fault: an x86 machine resets. Linux does this on purpose
        // with reboot=t; smvm ends the VM as for any reboot, and says so, for
        // with smvm's reboot=k it is more often a crash than a wish.
        return {0, false, "the guest reset the machine (triple fault)", false, true};
      else if constexpr (std::is_same_v<T, ex::system_event>)
        return {0, false, "the guest asked for a system reset or shutdown"};
      else if constexpr (std::is_same_v<T, ex::halt>)
        return {0, false, "the guest halted"};
      else if constexpr (std::is_same_v<T, ex::entry_failed>)
        return {125, true, fmt::format("vCPU {}: KVM could not enter the guest (hardware reason {:#x})", id, x.reason)};
      else if constexpr (std::is_same_v<T, ex::internal_error>)
        return {125, true, fmt::format("vCPU {}: KVM internal error (suberror {}){}", id, x.suberror,
                                       x.rip ? fmt::format(" at rip {:#x}", *x.rip) : std::string())};
      else if constexpr (std::is_same_v<T, ex::run_failed>)
        return {125, true, fmt::format("vCPU {}: KVM_RUN failed: {}", id, std::strerror(x.error))};
      else if constexpr (std::is_same_v<T, ex::unexpected>)
        return {125, true, fmt::format("vCPU {}: {}", id, x.what)};
      else  // I/O and kicks never end the VM
        return {125, true, fmt::format("vCPU {}: exit {} ended the VM", id, hv::describe(x))};
    },
    exit);
}

std::optional<std::uint64_t> vcpu_actor::read_from(const register_window& device, auto message) {
  std::uint64_t value = ~std::uint64_t{0};
  bool timed_out = false;
  auto reply = request(device, opts_.read_deadline, message);
  reply.receive([&](std::uint64_t v) { value = v; },
                // A device that is gone means the VM is ending: the read floats high.
                [&](caf::error& e) { timed_out = e == caf::sec::request_timeout; });
  if (!timed_out) {
    // CAF 0.17 sends the timeout even after the answer came; one per read
    // would pile up in the mailbox for the VM's lifetime.
    clock().cancel_request_timeout(this, reply.id());
    return value;
  }
  report_and_wait({125, true, fmt::format("vCPU {}: no answer from the device at {:#x} within {} ms", cpu_->id(),
                                          message_address(message), opts_.read_deadline.count())});
  return std::nullopt;
}

vcpu_actor::step vcpu_actor::handle_pio(const hv::exits::port_io& io) {
  if (io.port == post_port) return step::keep_running;
  const unsigned size = io.size;
  if (size != 1 && size != 2 && size != 4) {
    report_and_wait({125, true, fmt::format("vCPU {}: malformed port I/O exit (size {})", cpu_->id(), size)});
    return step::stop;
  }
  auto hit = routes_->ports.find(io.port, size);
  for (std::size_t i = 0; i < io.data.size() / size; ++i) {
    std::uint8_t* slot = io.data.data() + std::size_t{i} * size;
    if (!hit) {
      if (!io.write) store_le(slot, size, ~std::uint64_t{0});  // nothing there: the bus floats high
      continue;
    }
    pio_exit message{io.port, static_cast<std::uint8_t>(size), io.write, io.write ? load_le(slot, size) : 0};
    if (io.write) {
      caf::anon_send(*hit->target, message);  // the member anon_send names us as sender
    } else {
      auto value = read_from(*hit->target, message);
      if (!value) return step::stop;
      store_le(slot, size, *value);
    }
  }
  return step::keep_running;
}

vcpu_actor::step vcpu_actor::handle_mmio(const hv::exits::mmio& mmio) {
  const auto size = static_cast<unsigned>(mmio.data.size());
  auto hit = routes_->mmio.find(mmio.address, size);
  if (!hit) {
    if (!mmio.write) store_le(mmio.data.data(), size, ~std::uint64_t{0});
    return step::keep_running;
  }
  mmio_exit message{mmio.address, static_cast<std::uint8_t>(size), mmio.write,
                    mmio.write ? load_le(mmio.data.data(), size) : 0};
  if (mmio.write) {
    caf::anon_send(*hit->target, message);
  } else {
    auto value = read_from(*hit->target, message);
    if (!value) return step::stop;
    store_le(mmio.data.data(), size, *value);
  }
  return step::keep_running;
}

}  // namespace smvm::actors
