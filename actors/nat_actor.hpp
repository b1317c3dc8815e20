#pragma once
// The NAT actor: a card's link to the host's network through libslirp
// (network/slirp_stack), with no privilege, as QEMU's -netdev user. The
// card's worker plugs in as into a switch (port_attach) and sends it what
// its guest transmits; the stack's thread sends the card what comes back,
// within the card's credit. The actor only adapts: the stack owns libslirp.

#include "actors/messages.hpp"
#include "common/result.hpp"
#include "network/port_forward.hpp"

#include <vector>

namespace smvm::actors {

/// A NAT segment whose host listens on `publish`'s ports; an error names
/// the port it cannot bind. The stack stops when the actor does.
result<link_peer> spawn_nat(caf::actor_system& system, const std::vector<network::port_forward>& publish);

}  // namespace smvm::actors
