#pragma once
// The control socket's requests about the process's switches:
//
//   {"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:01",
//    "down": true, "loss": 0.1, "delay_us": 2000, ...}
//       {"ok": true}: the card's link carries frames so from now on
//   {"action": "switch", "switch": "lan0"}
//       {"ok": true, "ports": [{"port": 1, "name": "...", "in_frames": ...}]}
//
// A link's settings (network/impairment.hpp) are all optional and replace
// the previous ones whole: down (true/false), loss, duplicate and reorder
// (shares from 0 to 1), delay_us and jitter_us (microseconds), rate_bits
// (bits per second, 0 for no limit) and seed.

#include "actors/switch_registry.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace smvm::control {

/// The reply line of a request that failed: {"ok": false, "error": WHY}.
std::string failure_reply(const std::string& why);

/// The reply line to a "link" or "switch" request; `net` may be null (a
/// VM with no network card).
std::string network_request(caf::actor_system& system, const actors::switch_registry* net, const nlohmann::json& request);

}  // namespace smvm::control
