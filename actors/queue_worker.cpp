#include "actors/queue_worker.hpp"

#include "devices/virtio/queue_server.hpp"

#include <algorithm>
#include <vector>

namespace smvm::actors {

namespace {

/// Host input beyond this, waiting for a guest that reads nothing, is dropped.
constexpr std::size_t max_waiting_input = 1 << 20;

struct worker_state {
  queue_worker_spec spec;
  queue_lease lease;     // the server, while the device lends it
  bool failed = false;   // the driver broke a queue's rules: serve no more until the next lease
  bool backend_armed = true;  // the backend's watch will send backend_atom
  std::vector<std::uint8_t> input;  // host input the server has not taken yet
  std::shared_ptr<frame_credit> inbound;  // a card's: room for frames from its link
  static inline const char* name = "queue_worker";
};

using worker_pointer = queue_worker_actor::stateful_pointer<worker_state>;

bool serves(const worker_state& s, std::uint16_t q) {
  return std::find(s.spec.queues.begin(), s.spec.queues.end(), q) != s.spec.queues.end();
}

/// Watches the server's backend again, unless it waits for the guest.
void rearm_backend(worker_state& s) {
  if (!s.spec.rearm_backend || s.backend_armed || !s.lease.server || s.failed) return;
  if (!s.lease.server->backend_wanted()) return;
  s.backend_armed = true;
  s.spec.rearm_backend();
}

void report_failure(worker_pointer self, std::uint16_t q, const smvm::error& e) {
  auto& s = self->state;
  s.failed = true;
  if (auto device = caf::actor_cast<queue_events>(s.spec.device)) caf::anon_send(device, queue_failed{q, e.message});
}

/// Hands waiting input to the server; returns how much it took.
std::size_t feed_input(worker_state& s) {
  if (s.input.empty()) return 0;
  std::size_t taken = s.lease.server->receive(s.input);
  s.input.erase(s.input.begin(), s.input.begin() + static_cast<std::ptrdiff_t>(taken));
  return taken;
}

/// Sends what the guest transmitted to the card's link, within its credit.
void send_frames(worker_state& s) {
  if (!s.spec.link || !s.lease.server) return;
  auto frames = s.lease.server->take_frames();
  if (frames.empty()) return;
  net_frames out{s.spec.link->port, {}};
  for (auto& f : frames)
    if (s.spec.link->port_credit->take(f.size())) out.frames.push_back(std::move(f));
  if (!out.frames.empty()) caf::anon_send(s.spec.link->peer, std::move(out));
}

void serve(worker_pointer self, std::uint16_t q) {
  auto& s = self->state;
  for (bool more = true; more && s.lease.server && !s.failed;) {
    const std::size_t fed = q == s.spec.input_queue ? feed_input(s) : 0;
    auto used = s.lease.server->serve(q);
    if (!used) return report_failure(self, q, used.error());  // serve no more until the driver resets
    if (*used) s.spec.irq->raise(devices::virtio::interrupt_bit::used_buffer);
    send_frames(s);
    // Serving this queue can make another one ready (a console that has
    // just connected can take the input held for it): this worker's own
    // queues come back to it, another worker's go through the device.
    if (std::uint32_t wake = s.lease.server->take_wakeups())
      for (std::uint16_t w = 0; w < 32; ++w) {
        if (!(wake & (1u << w))) continue;
        if (serves(s, w)) self->send(self, queue_notify{w});
        else if (auto device = caf::actor_cast<queue_events>(s.spec.device)) self->send(device, queue_notify{w});
      }
    // The server's input buffer was full: serving may have made room.
    more = fed > 0 && !s.input.empty();
  }
  rearm_backend(s);  // the guest may have offered the buffers the backend waited for
}

void serve_backend(worker_pointer self) {
  auto& s = self->state;
  if (!s.lease.server || s.failed) return;  // the next lease serves it
  auto used = s.lease.server->serve_backend();
  if (!used) return report_failure(self, s.spec.queues.front(), used.error());
  if (*used) s.spec.irq->raise(devices::virtio::interrupt_bit::used_buffer);
  send_frames(s);
  rearm_backend(s);
}

/// Frames from the card's link, for the guest; dropped while the driver
/// is not running (no server lent), as a card that is down would.
void receive_frames(worker_pointer self, net_frames& x) {
  auto& s = self->state;
  if (s.inbound)
    for (auto& f : x.frames) s.inbound->give_back(f.size());
  if (!s.lease.server || s.failed) return;
  auto used = s.lease.server->receive_frames(x.frames);
  if (!used) return report_failure(self, s.spec.queues.front(), used.error());
  if (*used) s.spec.irq->raise(devices::virtio::interrupt_bit::used_buffer);
}

queue_worker_actor::behavior_type worker_behavior(worker_pointer self, queue_worker_spec spec) {
  self->state.spec = std::move(spec);
  if (auto& link = self->state.spec.link) {  // a card plugs into its switch port
    self->state.inbound = std::make_shared<frame_credit>(card_credit_bytes);
    caf::anon_send(link->peer, port_attach{link->port, link->name, caf::actor_cast<caf::actor>(self),
                                           self->state.inbound, link->port_credit});
  }
  return {
    [self](const queue_notify& n) {
      if (serves(self->state, n.queue)) serve(self, n.queue);
    },
    [self](const console_input& x) {
      auto& s = self->state;
      if (!s.spec.input_queue) return;
      const std::size_t room = max_waiting_input - std::min(max_waiting_input, s.input.size());
      s.input.insert(s.input.end(), x.bytes.begin(), x.bytes.begin() + std::min(room, x.bytes.size()));
      serve(self, *s.spec.input_queue);
    },
    [self](queue_lease& lease) {
      auto& s = self->state;
      s.lease = std::move(lease);
      s.failed = false;
      for (auto q : s.spec.queues) serve(self, q);  // whatever the driver queued while we held nothing
      serve_backend(self);                            // and what the host side did meanwhile
    },
    [self](net_frames& x) { receive_frames(self, x); },
    [self](backend_atom) {
      self->state.backend_armed = false;
      serve_backend(self);
    },
    // Messages are handled one at a time, so no request is in flight here.
    [self](quiesce_atom) { return std::exchange(self->state.lease, queue_lease{}); },
  };
}

}  // namespace

queue_worker_actor spawn_queue_worker(caf::actor_system& system, queue_worker_spec spec) {
  if (spec.blocking) return system.spawn<caf::detached>(worker_behavior, std::move(spec));
  return system.spawn(worker_behavior, std::move(spec));
}

}  // namespace smvm::actors
