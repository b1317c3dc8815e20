#pragma once
// The library's front door: run one VM from its config, to its end.

#include "config/vm_config.hpp"

#include <cstdint>

namespace smvm::actors {

/// smvm's own failures (bad config, no KVM, a crashed vCPU) exit with this,
/// as Docker's do; guest statuses are 0-255 and pass through unchanged.
inline constexpr int smvm_failure_status = 125;

/// Boots the VM, waits until it ends, and returns its exit status: what the
/// guest reported on the status port, 0 after a reboot, 128 + N after
/// signal N (SIGINT, SIGTERM) stopped it, or 125 when smvm failed, with the
/// reason on stderr.
int run_vm(const config::vm_config& config);

}  // namespace smvm::actors
