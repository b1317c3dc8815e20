#pragma once
// The lease collector: takes a virtio device's queue servers back from its
// workers for a reset or a snapshot. It answers the device once every
// worker has handed its server back, or at the deadline with those that
// have; a server handed back later (a worker that was stuck in a slow disk
// request) goes to the device as a plain queue_lease. So the device never
// waits past its deadline, and no server is lost to a late answer, which
// CAF would drop. One collector serves one pause and then ends.

#include "actors/messages.hpp"

#include <chrono>
#include <vector>

namespace smvm::actors {

lease_collector_actor spawn_lease_collector(caf::actor_system& system, std::vector<queue_worker_actor> workers,
                                            std::chrono::milliseconds deadline, caf::actor_addr device);

}  // namespace smvm::actors
