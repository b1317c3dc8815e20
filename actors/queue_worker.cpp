#include "actors/queue_worker.hpp"

#include <algorithm>
#include <vector>

namespace smvm::actors {

namespace {

/// Host input beyond this, waiting for a guest that reads nothing, is dropped.
constexpr std::size_t max_waiting_input = 1 << 20;

struct worker_state {
  queue_worker_spec spec;
  bool active = false;
  std::vector<std::uint8_t> input;  // host input the model has not taken yet
  static inline const char* name = "queue_worker";
};

using worker_pointer = queue_worker_actor::stateful_pointer<worker_state>;

/// Hands waiting input to the model; returns how much it took.
std::size_t feed_input(worker_state& s) {
  if (!s.spec.input || s.input.empty()) return 0;
  std::size_t taken = s.spec.input(s.input);
  s.input.erase(s.input.begin(), s.input.begin() + static_cast<std::ptrdiff_t>(taken));
  return taken;
}

bool serves(const worker_state& s, std::uint16_t q) {
  return std::find(s.spec.queues.begin(), s.spec.queues.end(), q) != s.spec.queues.end();
}

void serve(worker_pointer self, std::uint16_t q) {
  auto& s = self->state;
  for (bool more = true; more && s.active;) {
    const std::size_t fed = q == s.spec.input_queue ? feed_input(s) : 0;
    auto used = s.spec.model->process_queue(q);
    if (!used) {
      // The driver broke the queue's rules: stop serving until it resets.
      s.active = false;
      if (auto device = caf::actor_cast<queue_events>(s.spec.device))
        caf::anon_send(device, queue_failed{q, used.error().message});
      return;
    }
    if (*used) s.spec.irq->raise(devices::virtio::interrupt_bit::used_buffer);
    // Serving this queue can make another one ready (a console that has
    // just connected can take the input held for it).
    if (std::uint32_t wake = s.spec.model->take_wakeups())
      if (auto device = caf::actor_cast<queue_events>(s.spec.device))
        for (std::uint16_t q = 0; q < 32; ++q)
          if (wake & (1u << q)) self->send(device, queue_notify{q});
    // The model's input buffer was full: serving may have made room.
    more = fed > 0 && !s.input.empty();
  }
}

queue_worker_actor::behavior_type worker_behavior(worker_pointer self, queue_worker_spec spec) {
  self->state.spec = std::move(spec);
  return {
    [self](const queue_notify& n) {
      if (serves(self->state, n.queue)) serve(self, n.queue);
    },
    [self](const console_input& x) {
      auto& s = self->state;
      if (!s.spec.input) return;
      const std::size_t room = max_waiting_input - std::min(max_waiting_input, s.input.size());
      s.input.insert(s.input.end(), x.bytes.begin(), x.bytes.begin() + std::min(room, x.bytes.size()));
      serve(self, s.spec.input_queue);
    },
    // Messages are handled one at a time, so no request is in flight here.
    [self](quiesce_atom) {
      self->state.active = false;
      return true;
    },
    [self](serve_atom) {
      self->state.active = true;
      for (auto q : self->state.spec.queues) serve(self, q);  // whatever the driver queued while we were paused
    },
  };
}

}  // namespace

queue_worker_actor spawn_queue_worker(caf::actor_system& system, queue_worker_spec spec) {
  if (spec.blocking) return system.spawn<caf::detached>(worker_behavior, std::move(spec));
  return system.spawn(worker_behavior, std::move(spec));
}

}  // namespace smvm::actors
