#pragma once
// The switch actor: one L2 segment of this process. Each card's worker
// plugs into a port (port_attach) and sends it what its guest transmits;
// the switch learns which port each source MAC is on (network/mac_table),
// sends unicast to the port that has it, and floods broadcast, multicast
// and unknown destinations to every port but the one they came from. Each
// link may be impaired both ways (network/impairment). Every queue on the
// way is bounded: a card's frames come within its port's credit and go
// within the card's, so a guest that floods fills its own share and the
// other ports go on.

#include "actors/messages.hpp"

#include <string>

namespace smvm::actors {

/// Room for frames in the switch's mailbox, per port.
inline constexpr std::size_t port_credit_bytes = 4u << 20;

switch_actor spawn_switch(caf::actor_system& system, std::string name);

}  // namespace smvm::actors
