#include "actors/machine_actor.hpp"

#include "actors/console_input.hpp"
#include "actors/deadlines.hpp"
#include "actors/device_actor.hpp"
#include "actors/irq_actor.hpp"
#include "actors/notify_reactor.hpp"
#include "actors/snapshotter.hpp"
#include "actors/virtio_device_actor.hpp"
#include "actors/vcpu_actor.hpp"
#include "common/stream_frames.hpp"
#include "devices/i8042.hpp"
#include "devices/serial.hpp"
#include "devices/snapshot_port.hpp"
#include "devices/status_port.hpp"
#include "devices/virtio/mmio_transport.hpp"
#include "common/persist.hpp"
#include "snapshot/memory_file.hpp"

#include <unistd.h>

#include <fmt/format.h>

namespace smvm::actors {

namespace {

struct machine_state {
  machine_parts parts;
  machine_options options;
  irq_actor irq;
  std::vector<device_actor> devices;
  std::vector<vcpu_handle> vcpus;
  std::size_t vcpus_running = 0;
  std::size_t devices_unsynced = 0;
  std::unique_ptr<console_input_pump> input;
  console_port console_device;  // where console input goes
  std::shared_ptr<notify_reactor> reactor;
  caf::typed_response_promise<std::int32_t> done;
  std::optional<guest_stop> outcome;
  snapshotter_actor snapshotter;
  bool paused = false;
  /// What the snapshot port reads as 1: a snapshot was written, or this VM
  /// is a restored one.
  std::shared_ptr<std::atomic<bool>> snapshot_taken = std::make_shared<std::atomic<bool>>(false);
  static inline const char* name = "machine";
};

using machine_pointer = machine_actor::stateful_pointer<machine_state>;

/// How long a workload has to end after smvm passed it a signal.
constexpr auto workload_grace_period = deadlines::workload_grace;

/// `smvm run`: a status is the workload's only if the guest's EXIT frame,
/// which follows all of its output, arrived with it. A guest that reset,
/// panicked or powered off first ran a workload whose end nobody saw.
void settle_workload_outcome(machine_state& s) {
  const auto& channel = s.parts.channel;
  auto& outcome = *s.outcome;
  if (!channel) return;
  if (auto lost = channel->failure()) {
    outcome = {smvm_failure_status, true, *lost, outcome.by_host};
    return;
  }
  if (outcome.failure || outcome.by_host) return;
  const auto reported = channel->exit_status();
  if (reported && *reported == outcome.exit_status) return;
  std::string why = reported            ? fmt::format("the guest's init reported status {} on its channel, but the "
                                                      "VM ended with: {}", *reported, outcome.description)
                     : channel->init_up() ? fmt::format("the guest stopped before its init reported the workload's "
                                                      "status ({}); the workload's output may be cut short",
                                                      outcome.description)
                                          : fmt::format("the guest stopped before its init was up ({}); the "
                                                      "workload did not start", outcome.description);
  if (const auto log = s.parts.console->tail(); !log.empty())
    why += fmt::format("\nthe end of the guest's kernel log:\n{}", log);
  outcome = {smvm_failure_status, true, std::move(why)};
}

void finish(machine_pointer self) {
  auto& s = self->state;
  s.input.reset();
  if (s.reactor) s.reactor->stop();
  settle_workload_outcome(s);
  if (s.outcome->failure || s.outcome->noted) fmt::print(stderr, "smvm: {}\n", s.outcome->description);
  s.done.deliver(s.outcome->exit_status);
  for (auto& d : s.devices) self->send_exit(d, caf::exit_reason::user_shutdown);
  self->send_exit(s.irq, caf::exit_reason::user_shutdown);
  if (s.snapshotter) self->send_exit(s.snapshotter, caf::exit_reason::user_shutdown);
  self->quit();
}

/// With no vCPU running, nothing new reaches a device: once each has
/// answered a sync, everything the guest sent (its last console bytes)
/// has been handled.
void sync_devices_then_finish(machine_pointer self) {
  auto& s = self->state;
  s.devices_unsynced = s.devices.size();
  if (s.devices.empty()) return finish(self);
  // No wait here for a slow reader of smvm run's stdout: the guest's init
  // reports only after tcdrain, when every byte is already written.
  for (auto& d : s.devices)
    self->request(d, deadlines::device_sync, sync_atom_v).then(
      [self](bool) {
        if (--self->state.devices_unsynced == 0) finish(self);
      },
      [self](caf::error&) {
        if (--self->state.devices_unsynced == 0) finish(self);
      });
}

void stop(machine_pointer self, guest_stop why) {
  auto& s = self->state;
  if (s.outcome) return;  // the first reason to stop is the one reported
  s.outcome = std::move(why);
  for (auto& v : s.vcpus) caf::anon_send(v, stop_atom_v);
  if (s.vcpus_running == 0) sync_devices_then_finish(self);
}

/// A restored VM's UART and i8042 take their saved state.
result<void> restore_ports(const machine_parts& parts, devices::serial& uart, devices::i8042& kbc) {
  if (parts.device_states.empty()) return {};
  if (auto r = restore_section(uart, parts.device_states.at("serial"), "serial"); !r) return r;
  return restore_section(kbc, parts.device_states.at("i8042"), "i8042");
}

/// The snapshotter of this VM: every vCPU and device, and the machine's own
/// sections.
void spawn_snapshotter(machine_pointer self) {
  auto& s = self->state;
  snapshot_target target;
  target.vcpus.assign(s.vcpus.begin(), s.vcpus.end());
  target.devices.assign(s.devices.begin(), s.devices.end());
  target.capture = s.parts.capture;
  target.discard = [](const std::string& path) {
    std::error_code ignored;
    std::filesystem::remove(snapshot::memory_file_of(path), ignored);
  };
  s.snapshotter = actors::spawn_snapshotter(self->system(), std::move(target));
}

/// The guest called smvm-ready: take vm.toml's snapshot, then stop or go on.
void take_ready_snapshot(machine_pointer self) {
  auto& s = self->state;
  if (!s.options.snapshot || s.outcome || !s.snapshotter) return;
  const auto snap = *s.options.snapshot;
  self->request(s.snapshotter, caf::infinite, snapshot_request{snap.path.string(), snap.stop_after})
    .then(
      [self, snap](std::string& path) {
        fmt::print(stderr, "smvm: snapshot written to {} (memory: {})\n", path, snapshot::memory_file_of(path));
        if (snap.stop_after) stop(self, {0, false, "stopped after the snapshot"});
        else self->state.snapshot_taken->store(true);
      },
      [self, snap](caf::error& e) {
        // A VM that was to stop after its snapshot must not run on silently.
        if (snap.stop_after) stop(self, {125, true, error_text(e)});
        else fmt::print(stderr, "smvm: {}\n", error_text(e));
      });
}

/// The legacy devices on the port bus: the UART (ttyS0), the i8042 (its
/// reset line), the status port (smvm-exit) and the snapshot port.
void spawn_port_devices(machine_pointer self, io_routes& routes) {
  auto& s = self->state;
  auto& system = self->system();
  auto me = caf::actor_cast<machine_actor>(self);
  auto sink = s.parts.console;
  auto uart = std::make_unique<devices::serial>(
    [sink](std::span<const std::uint8_t> bytes) { sink->write(bytes); },
    [irq = s.irq](bool high) { caf::anon_send(irq, irq_line{devices::serial::com1_irq, high}); });
  auto* uart_model = uart.get();
  auto serial = spawn_device(system, {std::move(uart), devices::serial::com1_base,
                                      [uart_model](std::span<const std::uint8_t> b) { uart_model->receive(b); },
                                      "serial", [uart_model] { return save_section(*uart_model); }, true});

  auto kbc = std::make_unique<devices::i8042>([me] { caf::anon_send(me, guest_stop{0, false, "the guest rebooted"}); });
  auto* kbc_model = kbc.get();
  if (auto r = restore_ports(s.parts, *uart_model, *kbc_model); !r) {
    caf::anon_send(me, guest_stop{125, true, r.error().message});
  }
  auto keyboard = spawn_device(system, {std::move(kbc), devices::i8042::base, {}, "i8042",
                                        [kbc_model] { return save_section(*kbc_model); }});
  auto status = spawn_device(
    system, {std::make_unique<devices::status_port>([me](std::uint8_t code) {
               caf::anon_send(me, guest_stop{code, false, fmt::format("the guest reported status {}", code)});
             }),
             devices::status_port::port, {}, {}, {}});  // no state: no section
  auto ready = spawn_device(
    system, {std::make_unique<devices::snapshot_port>([me] { caf::anon_send(me, ready_atom_v); }, s.snapshot_taken,
                                                          s.options.on_guest_running),
             devices::snapshot_port::port, {}, {}, {}});
  s.snapshot_taken->store(!s.parts.device_states.empty());

  // Fixed, non-overlapping windows: adding them cannot fail.
  (void)routes.ports.add(devices::serial::com1_base, devices::serial::window_size, serial);
  (void)routes.ports.add(devices::i8042::base, devices::i8042::window_size, keyboard);
  (void)routes.ports.add(devices::status_port::port, devices::status_port::window_size, status);
  (void)routes.ports.add(devices::snapshot_port::port, devices::snapshot_port::window_size, ready);
  s.devices = {serial, keyboard, status, ready};
  s.console_device = serial;
}

/// The virtio devices on the MMIO bus, as the builder wired them. One whose
/// kind takes host console input (virtio-console) gets it instead of the UART.
void spawn_virtio_devices(machine_pointer self, io_routes& routes) {
  auto& s = self->state;
  auto me = caf::actor_cast<machine_actor>(self);
  s.reactor = std::make_shared<notify_reactor>();
  for (auto& spec : s.parts.virtio.devices) {
    const std::uint64_t base = spec.base;
    const bool takes_input = spec.input_queue.has_value();
    auto device = spawn_virtio_device(self->system(), std::move(spec), s.irq, s.reactor, me, s.options.net);
    // Windows were laid out one after another by the wiring: adding cannot fail.
    (void)routes.mmio.add(base, devices::virtio::mmio_transport::window_size, device);
    s.devices.push_back(device);
    if (takes_input) s.console_device = device;
  }
  s.parts.virtio.devices.clear();
}

/// Every device, the irq actor and the console's input pump; the buses the
/// vCPUs will route their exits on.
std::shared_ptr<io_routes> spawn_devices(machine_pointer self) {
  auto& s = self->state;
  auto me = caf::actor_cast<machine_actor>(self);
  s.irq = spawn_irq(self->system(), s.parts.vm, std::move(s.parts.virtio.irqfds));
  auto routes = std::make_shared<io_routes>();
  spawn_port_devices(self, *routes);
  spawn_virtio_devices(self, *routes);
  if (s.parts.channel)  // output nobody can take: stop the workload rather than run it for nothing
    s.parts.channel->on_failure(
      [me](const std::string& why) { caf::anon_send(me, guest_stop{smvm_failure_status, true, why}); });
  if (s.options.console.input == config::console_input::stdin_stream)
    s.input = std::make_unique<console_input_pump>(STDIN_FILENO, s.console_device, s.options.console.workload_streams,
                                                   s.parts.channel ? s.parts.channel->ready_fd() : -1);
  return routes;
}

machine_actor::behavior_type machine_behavior(machine_pointer self, machine_parts parts, machine_options options) {
  self->state.parts = std::move(parts);
  self->state.options = std::move(options);
  self->set_down_handler([self](caf::down_msg& down) {
    auto& s = self->state;
    --s.vcpus_running;
    if (!s.outcome)
      stop(self, {125, true, fmt::format("a vCPU stopped unexpectedly: {}", caf::to_string(down.reason))});
    else if (s.vcpus_running == 0)
      sync_devices_then_finish(self);
  });
  return {
    [self](run_atom) -> caf::result<std::int32_t> {
      auto& s = self->state;
      s.done = self->make_response_promise<std::int32_t>();
      std::shared_ptr<const io_routes> routes = spawn_devices(self);
      auto me = caf::actor_cast<machine_actor>(self);
      for (auto& cpu : s.parts.vcpus) {
        auto v = self->system().spawn<vcpu_actor, caf::detached>(cpu, routes, me);
        self->monitor(v);
        s.vcpus.push_back(caf::actor_cast<vcpu_handle>(v));
        ++s.vcpus_running;
      }
      spawn_snapshotter(self);
      return s.done;
    },
    [self](ready_atom) { take_ready_snapshot(self); },
    [self](snapshot_request& request) -> caf::result<std::string> {
      auto& s = self->state;
      if (s.outcome || !s.snapshotter) return caf::make_error(caf::sec::runtime_error, "the VM is not running");
      return self->delegate(s.snapshotter, std::move(request));
    },
    [self](pause_atom) -> caf::result<bool> {
      auto& s = self->state;
      if (s.outcome || !s.snapshotter) return caf::make_error(caf::sec::runtime_error, "the VM is not running");
      auto promise = self->make_response_promise<bool>();
      self->request(s.snapshotter, caf::infinite, pause_atom_v)
        .then([self, promise](bool) mutable { self->state.paused = true; promise.deliver(true); },
              [promise](caf::error& e) mutable { promise.deliver(std::move(e)); });
      return promise;
    },
    [self](resume_atom) -> caf::result<bool> {
      auto& s = self->state;
      if (s.outcome || !s.snapshotter) return caf::make_error(caf::sec::runtime_error, "the VM is not running");
      auto promise = self->make_response_promise<bool>();
      self->request(s.snapshotter, caf::infinite, resume_atom_v)
        .then([self, promise](bool was_paused) mutable { self->state.paused = false; promise.deliver(was_paused); },
              [promise](caf::error& e) mutable { promise.deliver(std::move(e)); });
      return promise;
    },
    [self](status_atom) -> std::string {
      auto& s = self->state;
      if (s.outcome) return "stopping";
      return s.paused ? "paused" : "running";
    },
    [self](guest_stop& why) { stop(self, std::move(why)); },
    [self](workload_signal sig) {
      auto& s = self->state;
      const guest_stop hard{128 + sig.number, false, fmt::format("stopped by signal {}", sig.number), true};
      if (!s.options.console.workload_streams || !s.console_device) return stop(self, hard);
      const std::uint8_t number = static_cast<std::uint8_t>(sig.number);
      self->send(s.console_device, console_input{encode_frame(SMVM_FRAME_SIGNAL, {&number, 1})});
      self->delayed_send(self, workload_grace_period, hard);
    },
  };
}

}  // namespace

machine_actor spawn_machine(caf::actor_system& system, machine_parts parts, machine_options options) {
  return system.spawn(machine_behavior, std::move(parts), std::move(options));
}

}  // namespace smvm::actors
