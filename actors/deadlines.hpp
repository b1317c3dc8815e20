#pragma once
// Every wait between smvm's actors, named once. Nothing waits forever: a
// part that does not answer within its deadline is named in an error, and
// the VM stops (a register read, a sync) or the snapshot fails with
// everything thawed (a freeze, a pause).

#include <chrono>

namespace smvm::actors::deadlines {

using namespace std::chrono_literals;

/// A device's answer to a vCPU's register read (pio_exit, mmio_exit). A
/// device actor answers at once; one that has not in this long is wedged.
/// Generous, because a nested host stalls for tens of seconds at times.
inline constexpr std::chrono::milliseconds register_read = 30s;
/// A device handling what the stopped vCPUs sent it, before the VM ends.
inline constexpr std::chrono::milliseconds device_sync = 5s;
/// A workload ending after smvm passed it a signal.
inline constexpr std::chrono::milliseconds workload_grace = 10s;
/// A vCPU leaving its run and replying with its state, for a snapshot.
inline constexpr std::chrono::milliseconds vcpu_freeze = 2s;
/// A device's workers finishing their requests, and its state, for a snapshot.
inline constexpr std::chrono::milliseconds device_freeze = 10s;
/// A queue worker finishing its request before its device resets.
inline constexpr std::chrono::milliseconds queue_pause = 30s;
/// A lease collector answering after its deadline (it answers at the
/// deadline; this covers a scheduler too busy to run it).
inline constexpr std::chrono::milliseconds lease_collector_slack = 5s;

}  // namespace smvm::actors::deadlines
