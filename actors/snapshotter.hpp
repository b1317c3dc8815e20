#pragma once
// The snapshotter: quiesce, then serialize (ARCHITECTURE.md, "Snapshot").
//
//   1. freeze every vCPU (each finishes its exit and replies with its state)
//   2. freeze every device (each waits for its in-flight requests)
//   3. capture the VM: irqchip, PIT, clock, and guest memory to its file
//   4. write the state file (temporary name, fsync, rename)
//   5. thaw, or leave the VM frozen for the machine to stop
//
// Every step has a deadline. A step that fails or times out thaws all that
// was frozen and answers with the reason: the running VM loses nothing.
//
// Pause is steps 1 and 2 alone, and the VM stays frozen until resume; a
// snapshot of a paused VM leaves it paused.

#include "actors/deadlines.hpp"
#include "actors/messages.hpp"
#include "common/result.hpp"
#include "snapshot/snapshot_file.hpp"

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace smvm::actors {

/// What the snapshotter works on: one VM's actors and what only the
/// machine can capture.
struct snapshot_target {
  std::vector<freezable> vcpus;
  std::vector<freezable> devices;
  /// Called with everything frozen: the VM's own sections ("vm", "memory",
  /// "machine"), the memory file written beside `path`.
  std::function<result<std::vector<snapshot::section>>(const std::string& path)> capture;
  /// How the state file is written (tests make it fail).
  snapshot::file_io io = snapshot::file_io::system();
  /// Removes what `capture` wrote for `path` when the state file could not
  /// be written.
  std::function<void(const std::string& path)> discard;
  std::chrono::milliseconds vcpu_deadline = deadlines::vcpu_freeze;
  std::chrono::milliseconds device_deadline = deadlines::device_freeze;
  /// Writing guest memory takes seconds for a large guest: the snapshotter
  /// gets a thread of its own, so the scheduler's threads (two on a 2-core
  /// host, shared by every VM of the process) never wait on the disk. Tests
  /// on the deterministic scheduler turn it off.
  bool own_thread = true;
};

snapshotter_actor spawn_snapshotter(caf::actor_system& system, snapshot_target target);

}  // namespace smvm::actors
