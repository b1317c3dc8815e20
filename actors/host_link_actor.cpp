#include "actors/host_link_actor.hpp"

#include "network/slirp_stack.hpp"
#include "network/tap_device.hpp"

#include <mutex>

namespace smvm::actors {

namespace {

/// The card the endpoint's thread sends frames to, once its worker plugs in.
struct plugged_card {
  std::mutex mutex;  // the actor plugs it in; the endpoint's thread sends to it
  std::optional<frame_port> card;
  std::shared_ptr<frame_credit> credit;       // the card's: room for what the endpoint sends it
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

struct host_link_state {
  std::shared_ptr<plugged_card> plugged;
  std::shared_ptr<network::frame_endpoint> endpoint;  // the only owner: it stops with the actor
  static inline const char* name = "host_link";
};

using host_link_pointer = link_peer::stateful_pointer<host_link_state>;

link_peer::behavior_type host_link_behavior(host_link_pointer self, std::shared_ptr<plugged_card> plugged,
                                            std::shared_ptr<network::frame_endpoint> endpoint) {
  self->state.plugged = std::move(plugged);
  self->state.endpoint = std::move(endpoint);
  return {
    [self](net_frames& x) {
      if (auto& credit = self->state.plugged->credit_back)
        for (auto& f : x.frames) credit->give_back(f.size());
      self->state.endpoint->send(std::move(x.frames));
    },
    [self](port_attach& x) {
      auto card = caf::actor_cast<frame_port>(x.card);
      if (!card) return;
      auto& p = *self->state.plugged;
      std::lock_guard lock(p.mutex);
      p.card = card;  // a worker made again plugs in again
      p.credit = x.card_credit;
      p.credit_back = x.port_credit;
    },
  };
}

/// Spawns the actor for the endpoint `open` makes, given where its frames go.
template <class Open>
result<link_peer> spawn_host_link(caf::actor_system& system, Open open) {
  auto plugged = std::make_shared<plugged_card>();
  auto endpoint = open([plugged](std::vector<network::frame_bytes> frames) { plugged->deliver(std::move(frames)); });
  if (!endpoint) return endpoint.error();
  return system.spawn(host_link_behavior, std::move(plugged),
                      std::shared_ptr<network::frame_endpoint>(std::move(*endpoint)));
}

}  // namespace

result<link_peer> spawn_nat(caf::actor_system& system, const std::vector<network::port_forward>& publish) {
  return spawn_host_link(system, [&](network::deliver_fn deliver) {
    return network::slirp_stack::start(publish, std::move(deliver));
  });
}

result<link_peer> spawn_tap(caf::actor_system& system, const std::string& name) {
  return spawn_host_link(system, [&](network::deliver_fn deliver) {
    return network::tap_device::open(name, std::move(deliver));
  });
}

}  // namespace smvm::actors
