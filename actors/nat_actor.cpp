#include "actors/nat_actor.hpp"

#include "network/slirp_stack.hpp"

#include <mutex>

namespace smvm::actors {

namespace {

/// The card the stack's thread sends frames to, once its worker plugs in.
struct plugged_card {
  std::mutex mutex;  // the actor plugs it in; the stack's thread sends to it
  std::optional<frame_port> card;
  std::shared_ptr<frame_credit> credit;       // the card's: room for what the stack sends it
  std::shared_ptr<frame_credit> credit_back;  // this actor's: given back as it takes the card's frames

  void deliver(std::vector<network::frame_bytes> frames) {
    std::lock_guard lock(mutex);
    if (!card) return;  // no card yet: as a cable not plugged in
    net_frames out;
    for (auto& f : frames)
      if (credit->take(f.size())) out.frames.push_back(std::move(f));
    if (!out.frames.empty()) caf::anon_send(*card, std::move(out));
  }
};

struct nat_state {
  std::shared_ptr<plugged_card> plugged;
  std::shared_ptr<network::slirp_stack> stack;  // the only owner: the stack stops with the actor
  static inline const char* name = "nat";
};

using nat_pointer = link_peer::stateful_pointer<nat_state>;

link_peer::behavior_type nat_behavior(nat_pointer self, std::shared_ptr<plugged_card> plugged,
                                      std::shared_ptr<network::slirp_stack> stack) {
  self->state.plugged = std::move(plugged);
  self->state.stack = std::move(stack);
  return {
    [self](net_frames& x) {
      if (auto credit = self->state.plugged->credit_back)
        for (auto& f : x.frames) credit->give_back(f.size());
      self->state.stack->send(std::move(x.frames));
    },
    [self](port_attach& x) {
      auto card = caf::actor_cast<frame_port>(x.card);
      if (!card) return;
      auto& p = *self->state.plugged;
      std::lock_guard lock(p.mutex);
      p.card = card;  // a worker made again after a reset plugs in again
      p.credit = x.card_credit;
      p.credit_back = x.port_credit;
    },
  };
}

}  // namespace

result<link_peer> spawn_nat(caf::actor_system& system, const std::vector<network::port_forward>& publish) {
  auto plugged = std::make_shared<plugged_card>();
  auto stack = network::slirp_stack::start(publish, [plugged](std::vector<network::frame_bytes> frames) {
    plugged->deliver(std::move(frames));
  });
  if (!stack) return stack.error();
  return system.spawn(nat_behavior, std::move(plugged), std::shared_ptr<network::slirp_stack>(std::move(*stack)));
}

}  // namespace smvm::actors
