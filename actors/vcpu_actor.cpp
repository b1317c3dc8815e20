#include "actors/vcpu_actor.hpp"

#include "hv/x86/vcpu_state.hpp"
#include "snapshot/state_codec.hpp"

#include <fmt/format.h>

#include <sys/ioctl.h>

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

caf::result<caf::message> drop_message(caf::message_view&) { return caf::message{}; }

// Port 0x80 takes POST codes and the kernel's I/O delay writes: nothing to do.
constexpr std::uint16_t post_port = 0x80;

}  // namespace

int vcpu_actor::kick_signal() { return SIGRTMIN; }

void vcpu_actor::trace_exit(const kvm_run& run) const {
  if (run.exit_reason == KVM_EXIT_IO)
    fmt::print(stderr, "smvm: vCPU {} exit: port {} {:#x} size {} count {}\n", cpu_->id(),
               run.io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run.io.port, run.io.size, run.io.count);
  else if (run.exit_reason == KVM_EXIT_MMIO)
    fmt::print(stderr, "smvm: vCPU {} exit: mmio {} {:#x} size {}\n", cpu_->id(), run.mmio.is_write ? "write" : "read",
               run.mmio.phys_addr, run.mmio.len);
  else
    fmt::print(stderr, "smvm: vCPU {} exit: reason {}\n", cpu_->id(), run.exit_reason);
}

vcpu_actor::vcpu_actor(caf::actor_config& cfg, std::shared_ptr<hv::vcpu> cpu,
                       std::shared_ptr<const std::vector<std::uint32_t>> saved_msrs,
                       std::shared_ptr<const io_routes> routes, machine_actor machine)
    : caf::blocking_actor(cfg),
      cpu_(std::move(cpu)),
      saved_msrs_(std::move(saved_msrs)),
      routes_(std::move(routes)),
      machine_(std::move(machine)),
      trace_exits_(std::getenv("SMVM_TRACE_EXITS") != nullptr) {}

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
  while (!stop_requested_ && (frozen_ || has_next_message()))
    receive([&](stop_atom) { stop_requested_ = true; },
            [&](freeze_atom) { return freeze(); },
            [&](thaw_atom) { frozen_ = false; },
            caf::others >> drop_message);
  return stop_requested_;
}

caf::result<saved_section> vcpu_actor::freeze() {
  // An exit handled but not yet completed (an MMIO read's value sits in
  // kvm_run, the instruction has not retired) is finished by entering
  // KVM_RUN once more: with immediate_exit set, KVM completes it and
  // returns at once. Only then is the state consistent.
  if (!frozen_) {
    for (int tries = 0;; ++tries) {
      cpu_->request_immediate_exit();
      const int rc = cpu_->run();
      cpu_->clear_immediate_exit();
      if (rc == -EINTR || rc == -EAGAIN) break;
      if (rc < 0 || tries == 8)
        return caf::make_error(caf::sec::runtime_error,
                               fmt::format("vCPU {}: cannot leave KVM_RUN to freeze: {}", cpu_->id(),
                                           rc < 0 ? std::strerror(-rc) : "it keeps exiting"));
      if (handle_exit() == step::stop) return caf::make_error(caf::sec::runtime_error, "the VM is ending");
    }
    frozen_ = true;
  }
  auto state = hv::x86::save_vcpu_state(*cpu_, *saved_msrs_);
  if (!state)
    return caf::make_error(caf::sec::runtime_error, fmt::format("vCPU {}: {}", cpu_->id(), state.error().message));
  return saved_section{fmt::format("vcpu.{}", cpu_->id()), snapshot::encode_state(*state)};
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
    int rc = cpu_->run();
    if (rc == -EINTR || rc == -EAGAIN) {
      // A kick. Clearing before the next drain means a message that lands
      // after the drain sets it again: no kick is lost.
      cpu_->clear_immediate_exit();
      continue;
    }
    if (rc < 0) {
      report_and_wait({125, true, fmt::format("vCPU {}: KVM_RUN failed: {}", cpu_->id(), std::strerror(-rc))});
      break;
    }
    if (handle_exit() == step::stop) break;
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

vcpu_actor::step vcpu_actor::handle_exit() {
  kvm_run* run = cpu_->run_state();
  if (trace_exits_) trace_exit(*run);
  switch (run->exit_reason) {
    case KVM_EXIT_IO:
      return handle_pio();
    case KVM_EXIT_MMIO:
      return handle_mmio();
    case KVM_EXIT_INTR:
      return step::keep_running;
    case KVM_EXIT_SHUTDOWN:
      // A triple fault: an x86 machine resets. Linux does this on purpose
      // with reboot=t; smvm ends the VM as for any reboot.
      report_and_wait({0, false, "the guest reset the machine (triple fault)"});
      return step::stop;
    case KVM_EXIT_SYSTEM_EVENT:
      report_and_wait({0, false, "the guest asked for a system reset or shutdown"});
      return step::stop;
    case KVM_EXIT_HLT:
      report_and_wait({0, false, "the guest halted"});
      return step::stop;
    case KVM_EXIT_FAIL_ENTRY:
      report_and_wait({125, true,
                       fmt::format("vCPU {}: KVM could not enter the guest (hardware reason {:#x})", cpu_->id(),
                                   run->fail_entry.hardware_entry_failure_reason)});
      return step::stop;
    case KVM_EXIT_INTERNAL_ERROR: {
      // Where the guest was says most about why KVM gave up (an emulation
      // failure names an instruction at that address).
      kvm_regs regs{};
      const bool have_regs = ::ioctl(cpu_->fd(), KVM_GET_REGS, &regs) == 0;
      report_and_wait({125, true,
                       fmt::format("vCPU {}: KVM internal error (suberror {}){}", cpu_->id(), run->internal.suberror,
                                   have_regs ? fmt::format(" at rip {:#x}", regs.rip) : std::string())});
      return step::stop;
    }
    default:
      report_and_wait({125, true, fmt::format("vCPU {}: unexpected KVM exit {}", cpu_->id(), run->exit_reason)});
      return step::stop;
  }
}

std::uint64_t vcpu_actor::read_from(const device_actor& device, auto message) {
  std::uint64_t value = ~std::uint64_t{0};
  request(device, caf::infinite, message)
    .receive([&](std::uint64_t v) { value = v; },
             [&](caf::error&) { /* the device is gone: the VM is ending; reads float high */ });
  return value;
}

vcpu_actor::step vcpu_actor::handle_pio() {
  kvm_run* run = cpu_->run_state();
  auto& io = run->io;
  const unsigned size = io.size;
  if ((size != 1 && size != 2 && size != 4) ||
      io.data_offset + std::uint64_t{io.count} * size > cpu_->run_size()) {
    report_and_wait({125, true, fmt::format("vCPU {}: malformed port I/O exit", cpu_->id())});
    return step::stop;
  }
  auto* data = reinterpret_cast<std::uint8_t*>(run) + io.data_offset;
  const bool is_write = io.direction == KVM_EXIT_IO_OUT;
  if (io.port == post_port) return step::keep_running;
  auto hit = routes_->ports.find(io.port, size);
  for (std::uint32_t i = 0; i < io.count; ++i) {
    std::uint8_t* slot = data + i * size;
    if (!hit) {
      if (!is_write) store_le(slot, size, ~std::uint64_t{0});  // nothing there: the bus floats high
      continue;
    }
    pio_exit message{io.port, static_cast<std::uint8_t>(size), is_write, is_write ? load_le(slot, size) : 0};
    if (is_write) caf::anon_send(*hit->target, message);  // the member anon_send names us as sender
    else store_le(slot, size, read_from(*hit->target, message));
  }
  return step::keep_running;
}

vcpu_actor::step vcpu_actor::handle_mmio() {
  auto& mmio = cpu_->run_state()->mmio;
  const unsigned size = mmio.len;
  if (size == 0 || size > 8) {
    report_and_wait({125, true, fmt::format("vCPU {}: malformed MMIO exit", cpu_->id())});
    return step::stop;
  }
  auto hit = routes_->mmio.find(mmio.phys_addr, size);
  if (!hit) {
    if (!mmio.is_write) store_le(mmio.data, size, ~std::uint64_t{0});
    return step::keep_running;
  }
  mmio_exit message{mmio.phys_addr, static_cast<std::uint8_t>(size), mmio.is_write != 0,
                    mmio.is_write ? load_le(mmio.data, size) : 0};
  if (mmio.is_write) caf::anon_send(*hit->target, message);
  else store_le(mmio.data, size, read_from(*hit->target, message));
  return step::keep_running;
}

}  // namespace smvm::actors
