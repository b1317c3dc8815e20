#include "actors/virtio_device_actor.hpp"

#include "actors/deadlines.hpp"
#include "actors/lease_collector.hpp"
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
  static inline const char* name = "virtio_device";
};

using device_pointer = device_actor::stateful_pointer<virtio_device_actor_state>;

/// Takes every lent queue server back from its worker, then runs
/// `then(all_home)` once each worker has answered or the deadline passed.
/// A worker answers once its request in flight is done, so all_home means
/// nothing is being served. The await holds back every other message
/// meanwhile, so the guest sees nothing half done.
void pause_workers(device_pointer self, std::function<void(bool)> then) {
  auto& s = self->state;
  if (s.spec.model->all_home()) return then(true);
  auto collector = spawn_lease_collector(self->system(), s.workers, s.spec.pause_deadline, self->address());
  // The collector answers by the deadline; this bound is only for a
  // collector that could not.
  self->request(collector, s.spec.pause_deadline + deadlines::lease_collector_slack, quiesce_atom_v)
    .await(
      [self, then](queue_leases& back) {
        for (auto& lease : back.leases) self->state.spec.model->take_back(lease.worker, std::move(lease.server));
        then(self->state.spec.model->all_home());
      },
      [self, then](caf::error&) { then(self->state.spec.model->all_home()); });
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

/// Lends each worker its server: the driver is running.
void resume_workers(device_pointer self) {
  auto& s = self->state;
  for (std::uint16_t w = 0; w < s.workers.size(); ++w)
    if (auto server = s.spec.model->lend(w)) self->send(s.workers[w], queue_lease{w, std::move(server)});
}

/// The driver is running and nothing broke: the workers serve.
bool serving(const virtio_device_actor_state& s) {
  return s.transport->active() && !(s.transport->status() & status_bit::needs_reset);
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
  if (!was_live && serving(s)) resume_workers(self);
  return std::uint64_t{0};
}

/// A card's port on its switch, or why there is none.
result<card_link> plug_card(const virtio_device_spec& spec, const std::shared_ptr<switch_registry>& net) {
  if (!net) return make_error("{}: this VM has no network to plug into", spec.name);
  auto link = net->plug(*spec.link, spec.name);
  if (!link) return make_error("{}: {}", spec.name, link.error().message);
  return link;
}

void spawn_workers(device_pointer self, const std::shared_ptr<notify_reactor>& reactor, const machine_actor& machine,
                   const std::shared_ptr<switch_registry>& net) {
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
  bool valid = workers == s.spec.model->server_count();
  for (std::uint16_t w = 0; w < workers; ++w)
    valid = valid && std::find(group.begin(), group.end(), w) != group.end();
  if (!valid) {  // a bug in the model, not the guest's doing
    group.clear();
    caf::anon_send(machine, guest_stop{125, true,
                                       fmt::format("{}: its model numbers {} queue workers with a gap or for {} "
                                                   "queue servers",
                                                   s.spec.name, workers, s.spec.model->server_count())});
    return;
  }

  for (std::uint16_t w = 0; w < workers; ++w) {
    queue_worker_spec spec;
    for (std::uint16_t q = 0; q < count; ++q)
      if (group[q] == w) spec.queues.push_back(q);
    spec.irq = interrupt;
    spec.device = self->address();
    if (s.spec.input_queue && *s.spec.input_queue < count && group[*s.spec.input_queue] == w)
      spec.input_queue = *s.spec.input_queue;
    spec.blocking = s.spec.blocking;
    spec.keep_alive = s.spec.model;
    const int backend = s.spec.model->backend_fd(w);
    if (backend >= 0) spec.rearm_backend = [reactor, backend] { reactor->rearm(backend); };
    if (s.spec.link && w == 0) {
      auto link = plug_card(s.spec, net);
      if (!link) caf::anon_send(machine, guest_stop{125, true, link.error().message});
      else spec.link = std::move(*link);
    }
    auto worker = spawn_queue_worker(self->system(), std::move(spec));
    self->link_to(worker);  // the workers end with their device
    s.workers.push_back(worker);
    if (backend >= 0)
      if (auto r = reactor->watch_backend(backend, worker); !r)
        caf::anon_send(machine, guest_stop{125, true, fmt::format("{}: {}", s.spec.name, r.error().message)});
  }
  for (std::uint16_t q = 0; q < count && q < s.spec.notify_fds.size(); ++q)
    if (auto r = reactor->watch(std::move(s.spec.notify_fds[q]), s.workers[group[q]], q); !r)
      caf::anon_send(machine, guest_stop{125, true, fmt::format("{}: queue {}: {}", s.spec.name, q, r.error().message)});
  s.spec.notify_fds.clear();
}

device_actor::behavior_type virtio_device_behavior(device_pointer self, virtio_device_spec spec, irq_actor irq,
                                                   std::shared_ptr<notify_reactor> reactor, machine_actor machine,
                                                   std::shared_ptr<switch_registry> net) {
  auto& s = self->state;
  s.spec = std::move(spec);
  auto interrupt = std::make_shared<devices::virtio::interrupt>(
    [irq, line = s.spec.irq_line] { caf::anon_send(irq, irq_raise{line}); });
  // A QueueNotify that traps (no ioeventfd matched it) takes the slow path.
  s.transport = std::make_unique<mmio_transport>(
    *s.spec.model, [self](std::uint16_t q) { notify_worker(self, q); }, interrupt);
  spawn_workers(self, reactor, machine, net);
  if (s.spec.restored) {
    // The transport's registers, the queues and their cursors as saved; a
    // live device's workers go on where they stopped.
    if (auto r = devices::virtio::device_part(*s.transport, *s.spec.model).restore(*s.spec.restored); !r)
      caf::anon_send(machine, guest_stop{125, true, fmt::format("{}: {}", s.spec.name, r.error().message)});
    else if (serving(s))
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
    // A worker that missed a pause's deadline has finished: its server is
    // home again, and a reset can go ahead.
    [self](queue_lease& x) { self->state.spec.model->take_back(x.worker, std::move(x.server)); },
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
      if (serving(s)) resume_workers(self);  // lends only what is home
    },
  };
}

}  // namespace

device_actor spawn_virtio_device(caf::actor_system& system, virtio_device_spec spec, irq_actor irq,
                                 std::shared_ptr<notify_reactor> reactor, machine_actor machine,
                                 std::shared_ptr<switch_registry> net) {
  return system.spawn(virtio_device_behavior, std::move(spec), std::move(irq), std::move(reactor),
                      std::move(machine), std::move(net));
}

}  // namespace smvm::actors
