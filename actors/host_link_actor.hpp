#pragma once
// The host link actor: a card's link to something outside the process's
// switches, an endpoint with a thread of its own (network/frame_endpoint):
// a NAT through libslirp (mode "slirp", as QEMU's -netdev user) or a TAP
// device (mode "tap"). The card's worker plugs in as into a switch
// (port_attach) and sends it what its guest transmits; the endpoint's
// thread sends the card what comes back, within the card's credit. The
// actor only adapts: the endpoint owns libslirp or the TAP's descriptor,
// and stops with the actor.

#include "actors/messages.hpp"
#include "common/result.hpp"
#include "network/port_forward.hpp"

#include <string>
#include <vector>

namespace smvm::actors {

/// A NAT segment whose host listens on `publish`'s ports; an error names
/// the port it cannot bind.
result<link_peer> spawn_nat(caf::actor_system& system, const std::vector<network::port_forward>& publish);

/// A link to the host's TAP device `name`; an error says why it cannot open.
result<link_peer> spawn_tap(caf::actor_system& system, const std::string& name);

}  // namespace smvm::actors
