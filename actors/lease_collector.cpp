#include "actors/lease_collector.hpp"

#include <memory>

namespace smvm::actors {

namespace {

struct collector_state {
  std::vector<queue_worker_actor> workers;
  std::chrono::milliseconds deadline{0};
  caf::actor_addr device;
  queue_leases back;           // answered so far
  std::size_t waiting = 0;     // workers yet to answer
  caf::typed_response_promise<queue_leases> answer;
  bool answered = false;
  static inline const char* name = "lease_collector";
};

using collector_pointer = lease_collector_actor::stateful_pointer<collector_state>;

void answer_device(collector_pointer self) {
  auto& s = self->state;
  if (s.answered) return;
  s.answered = true;
  s.answer.deliver(std::move(s.back));
}

/// One more worker has answered (or ended): the last one ends the collector.
void one_answered(collector_pointer self) {
  if (--self->state.waiting > 0) return;
  answer_device(self);
  self->quit();
}

lease_collector_actor::behavior_type collector_behavior(collector_pointer self, std::vector<queue_worker_actor> workers,
                                                        std::chrono::milliseconds deadline, caf::actor_addr device) {
  self->state.workers = std::move(workers);
  self->state.deadline = deadline;
  self->state.device = std::move(device);
  return {
    [self](quiesce_atom) -> caf::result<queue_leases> {
      auto& s = self->state;
      s.answer = self->make_response_promise<queue_leases>();
      s.waiting = s.workers.size();
      if (s.waiting == 0) {
        answer_device(self);
        self->quit();
        return s.answer;
      }
      for (std::uint16_t w = 0; w < s.workers.size(); ++w)
        // No timeout: a stuck worker's server still comes back, only later.
        self->request(s.workers[w], caf::infinite, quiesce_atom_v)
          .then(
            [self, w](queue_lease& lease) {
              auto& s = self->state;
              lease.worker = w;
              if (lease.server && s.answered) {
                if (auto device = caf::actor_cast<queue_events>(s.device)) self->send(device, std::move(lease));
              } else if (lease.server) {
                s.back.leases.push_back(std::move(lease));
              }
              one_answered(self);
            },
            [self](caf::error&) { one_answered(self); });  // the worker ended with its device
      self->delayed_send(self, s.deadline, caf::timeout_atom_v);
      return s.answer;
    },
    // The deadline: answer with what is back; stay for the rest.
    [self](caf::timeout_atom) { answer_device(self); },
  };
}

}  // namespace

lease_collector_actor spawn_lease_collector(caf::actor_system& system, std::vector<queue_worker_actor> workers,
                                            std::chrono::milliseconds deadline, caf::actor_addr device) {
  return system.spawn(collector_behavior, std::move(workers), deadline, std::move(device));
}

}  // namespace smvm::actors
