#pragma once
// The library's front door: run one VM from its config, or VMs restored
// from a snapshot, to their end.

#include "actors/messages.hpp"
#include "config/vm_config.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

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

/// Boots several VMs in one process, one actor system: their network cards
/// share switches by name. The first takes stdin and `options`' control
/// socket (which reaches every switch); the others neither. Returns 0 when
/// every one exited 0, else the first other status (each VM's status goes
/// to stderr).
int run_vms(std::vector<config::vm_config> configs, const vm_options& options = {});

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
  /// Each VM's name in the runtime folder (run/vm_state.hpp): this one, or
  /// NAME-0 ... NAME-N-1 for clones; default: a new one. Its Unix sockets
  /// (vsock's) go into its folder there, so clones never share one, and
  /// its control socket too, unless control_socket says otherwise.
  std::string name;
  bool keep_state = false;    // keep the entries once the VMs end (smvm restore -d)
  bool name_claimed = false;  // the caller claimed the names already
};

/// The names restore_vm gives `request`'s VMs.
std::vector<std::string> restore_names(const restore_request& request);

inline constexpr unsigned max_clones = 256;

/// Restores and runs the VMs, and returns as run_vm does: with several
/// clones, 0 when every one exited 0, else the first other status.
int restore_vm(const restore_request& request);

}  // namespace smvm::run
