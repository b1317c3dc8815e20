#pragma once
// The library's front door: run one VM from its config, or VMs restored
// from a snapshot, to their end.

#include "actors/messages.hpp"
#include "config/vm_config.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>

namespace smvm::run {

using actors::smvm_failure_status;

struct vm_options {
  /// Serve the control socket (control/control_socket.hpp) here.
  std::optional<std::filesystem::path> control_socket;
};

/// Boots the VM, waits until it ends, and returns its exit status: what the
/// guest reported on the status port, 0 after a reboot, 128 + N after
/// signal N (SIGINT, SIGTERM) stopped it, or 125 when smvm failed, with the
/// reason on stderr.
int run_vm(const config::vm_config& config, const vm_options& options = {});

struct restore_request {
  std::filesystem::path snapshot;
  /// VMs to run from the one snapshot, in this process.
  unsigned clones = 1;
  /// Only for a single VM.
  std::optional<std::filesystem::path> control_socket;
  /// Where the console goes; clones take no input.
  config::console_section console;
  /// Print how long the restore took to stderr (tools/bench/restore).
  bool report_timing = false;
};

inline constexpr unsigned max_clones = 256;

/// Restores and runs the VMs, and returns as run_vm does: with several
/// clones, 0 when every one exited 0, else the first other status.
int restore_vm(const restore_request& request);

}  // namespace smvm::run
