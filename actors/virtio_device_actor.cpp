#include "actors/virtio_device_actor.hpp"

#include "actors/deadlines.hpp"
#include "actors/queue_worker.hpp"
#include "devices/virtio/device_state.hpp"
#include "devices/virtio/mmio_transport.hpp"
#include "common/state_codec.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace smvm::actors {

namespace {

using devices::virtio::mmio_transport;
namespace status_bit = devices::virtio::status_bit;

struct virtio_device_actor_state {
  virtio_device_spec spec;
  std::unique_ptr<mmio_transport> transport;
  std::vector<queue_worker_actor> workers;
  std::vector<std::uint16_t> worker_of;  // per queue: its index in workers
  bool workers_running = false;
  static inline const char* name = "virtio_device";
};

using device_pointer = device_actor::stateful_pointer<virtio_device_actor_state>;

/// Pauses every worker, then runs `then(all_paused)` once each has
/// answered or its deadline passed. The awaits hold back every other
/// message meanwhile, so the guest sees nothing half done.
void pause_workers(device_pointer self, std::function<void(bool)> then) {
  auto& s = self->state;
  if (!s.workers_running || s.workers.empty()) return then(true);
  s.workers_running = false;
  struct tally {
    std::size_t left;
    bool all_paused = true;
  };
  auto t = std::make_shared<tally>(tally{s.workers.size()});
  auto done = [t, then = std::move(then)](bool paused) {
    t->all_paused = t->all_paused && paused;
    if (--t->left == 0) then(t->all_paused);
  };
  for (auto& w : s.workers)
    self->request(w, s.spec.pause_deadline, quiesce_atom_v)
      .await([done](bool) { done(true); }, [done](caf::error&) { done(false); });
}

/// A worker still inside a request: the device's state is not whole, and
/// the guest must reset it before it is used again.
std::string mark_stuck(device_pointer self) {
  auto& s = self->state;
  s.transport->set_needs_reset();
  return fmt::format("{}: a queue worker did not finish its request within {} ms; the device needs a reset",
                     s.spec.name, s.spec.pause_deadline.count());
}

/// Passes a notification to queue `q`'s worker (queues the device lacks
/// are ignored).
void notify_worker(device_pointer self, std::uint16_t q) {
  auto& s = self->state;
  if (q < s.worker_of.size()) self->send(s.workers[s.worker_of[q]], queue_notify{q});
}

void resume_workers(device_pointer self) {
  auto& s = self->state;
  s.workers_running = true;
  for (auto& w : s.workers) self->send(w, serve_atom_v);
}

/// A Status write: a reset waits for the workers; DRIVER_OK starts them.
caf::result<std::uint64_t> write_status(device_pointer self, std::uint32_t value) {
  auto& s = self->state;
  if (value == 0) {
    auto promise = self->make_response_promise<std::uint64_t>();
    pause_workers(self, [self, promise](bool paused) mutable {
      // Never reset a model under a request in flight.
      if (paused) self->state.transport->write(devices::virtio::mmio_reg::status, 4, 0);
      else fmt::print(stderr, "smvm: {}\n", mark_stuck(self));
      promise.deliver(std::uint64_t{0});
    });
    return promise;
  }
  const bool was_live = s.transport->active();
  s.transport->write(devices::virtio::mmio_reg::status, 4, value);
  const bool live = s.transport->active() && !(s.transport->status() & status_bit::needs_reset);
  if (!was_live && live) resume_workers(self);
  return std::uint64_t{0};
}

void spawn_workers(device_pointer self, notify_reactor& reactor, const machine_actor& machine) {
  auto& s = self->state;
  auto interrupt = s.transport->interrupt();
  const std::uint16_t count = s.spec.model->queue_count();
  // The model groups queues that share state under one worker (worker_of).
  auto& group = s.worker_of;
  group.assign(count, 0);
  std::uint16_t workers = 0;
  for (std::uint16_t q = 0; q < count; ++q) {
    group[q] = s.spec.model->worker_of(q);
    workers = std::max<std::uint16_t>(workers, group[q] + 1);
  }
  bool valid = true;
  for (std::uint16_t w = 0; w < workers; ++w)
    valid = valid && std::find(group.begin(), group.end(), w) != group.end();
  if (!valid) {  // a bug in the model, not the guest's doing
    group.clear();
    caf::anon_send(machine, guest_stop{125, true, fmt::format("{}: its model numbers its queue workers with a gap",
                                                              s.spec.name)});
    return;
  }

  for (std::uint16_t w = 0; w < workers; ++w) {
    queue_worker_spec spec;
    spec.model = s.spec.model;
    for (std::uint16_t q = 0; q < count; ++q)
      if (group[q] == w) spec.queues.push_back(q);
    spec.irq = interrupt;
    spec.device = self->address();
    if (s.spec.input_queue && *s.spec.input_queue < count && group[*s.spec.input_queue] == w) {
      spec.input = s.spec.input;
      spec.input_queue = *s.spec.input_queue;
    }
    spec.blocking = s.spec.blocking;
    auto worker = spawn_queue_worker(self->system(), std::move(spec));
    self->link_to(worker);  // the workers end with their device
    s.workers.push_back(worker);
  }
  for (std::uint16_t q = 0; q < count && q < s.spec.notify_fds.size(); ++q)
    if (auto r = reactor.watch(std::move(s.spec.notify_fds[q]), s.workers[group[q]], q); !r)
      caf::anon_send(machine, guest_stop{125, true, fmt::format("{}: queue {}: {}", s.spec.name, q, r.error().message)});
  s.spec.notify_fds.clear();
}

device_actor::behavior_type virtio_device_behavior(device_pointer self, virtio_device_spec spec, irq_actor irq,
                                                   std::shared_ptr<notify_reactor> reactor, machine_actor machine) {
  auto& s = self->state;
  s.spec = std::move(spec);
  auto interrupt = std::make_shared<devices::virtio::interrupt>(
    [irq, line = s.spec.irq_line] { caf::anon_send(irq, irq_raise{line}); });
  // A QueueNotify that traps (no ioeventfd matched it) takes the slow path.
  s.transport = std::make_unique<mmio_transport>(
    *s.spec.model, [self](std::uint16_t q) { notify_worker(self, q); }, interrupt);
  spawn_workers(self, *reactor, machine);
  if (s.spec.restored) {
    // The transport's registers, the queues and their cursors as saved; a
    // live device's workers go on where they stopped.
    if (auto r = devices::virtio::device_part(*s.transport, *s.spec.model).restore(*s.spec.restored); !r)
      caf::anon_send(machine, guest_stop{125, true, fmt::format("{}: {}", s.spec.name, r.error().message)});
    else if (s.transport->active() && !(s.transport->status() & status_bit::needs_reset))
      resume_workers(self);
    s.spec.restored.reset();
  }

  return {
    [](const pio_exit&) -> std::uint64_t { return ~std::uint64_t{0}; },  // not on the port bus
    [self](const mmio_exit& x) -> caf::result<std::uint64_t> {
      auto& s = self->state;
      const std::uint64_t offset = x.address - s.spec.base;
      if (!x.is_write) return s.transport->read(offset, x.size);
      if (offset == devices::virtio::mmio_reg::status && x.size == 4)
        return write_status(self, static_cast<std::uint32_t>(x.data));
      s.transport->write(offset, x.size, x.data);
      return std::uint64_t{0};
    },
    [self](const console_input& x) {
      auto& s = self->state;
      if (s.spec.input_queue && *s.spec.input_queue < s.worker_of.size())
        self->send(s.workers[s.worker_of[*s.spec.input_queue]], x);
    },
    [self](const queue_notify& x) { notify_worker(self, x.queue); },
    [self](const queue_failed& x) {
      auto& s = self->state;
      fmt::print(stderr, "smvm: {}: queue {}: {}; the device needs a reset\n", s.spec.name, x.queue, x.description);
      s.transport->set_needs_reset();
    },
    // Once every worker is idle, everything the guest handed over is done.
    [self](sync_atom) -> caf::result<bool> {
      auto promise = self->make_response_promise<bool>();
      pause_workers(self, [self, promise](bool paused) mutable {
        if (!paused) fmt::print(stderr, "smvm: {}\n", mark_stuck(self));
        promise.deliver(paused);
      });
      return promise;
    },
    // With the vCPUs frozen, the workers finish what is in flight (a block
    // write is on disk or has failed) and pause; then the state is whole.
    [self](freeze_atom) -> caf::result<saved_section> {
      auto promise = self->make_response_promise<saved_section>();
      pause_workers(self, [self, promise](bool paused) mutable {
        if (!paused) {
          promise.deliver(caf::make_error(caf::sec::runtime_error, mark_stuck(self)));
          return;
        }
        auto& s = self->state;
        promise.deliver(
          saved_section{s.spec.section, save_section(devices::virtio::device_part(*s.transport, *s.spec.model))});
      });
      return promise;
    },
    [self](thaw_atom) {
      auto& s = self->state;
      if (!s.workers_running && s.transport->active() && !(s.transport->status() & status_bit::needs_reset))
        resume_workers(self);
    },
  };
}

}  // namespace

device_actor spawn_virtio_device(caf::actor_system& system, virtio_device_spec spec, irq_actor irq,
                                 std::shared_ptr<notify_reactor> reactor, machine_actor machine) {
  return system.spawn(virtio_device_behavior, std::move(spec), std::move(irq), std::move(reactor),
                      std::move(machine));
}

}  // namespace smvm::actors
