#pragma once
// An actor system on CAF's deterministic scheduler, for tests/actors/: the
// test runs each message itself (test_coordinator::try_run_once).

#include "actors/messages.hpp"

#include <caf/scheduler/test_coordinator.hpp>

namespace smvm::test {

/// smvm's configuration with the "testing" scheduler policy.
inline caf::actor_system_config& deterministic(caf::actor_system_config& cfg) {
  actors::configure(cfg);
  cfg.set("scheduler.policy", caf::atom("testing"));
  return cfg;
}

}  // namespace smvm::test
