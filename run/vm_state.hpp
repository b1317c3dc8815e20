#pragma once
// Where running VMs are found: one folder per VM name under the runtime
// folder ($SMVM_RUNTIME_DIR, else /run/smvm for root, else
// $XDG_RUNTIME_DIR/smvm, else /tmp/smvm-UID). smvm exec, cp, ps, stop,
// logs and rm find a VM there by name:
//
//   NAME/info.json    image, command, created (written when the name is claimed)
//   NAME/pid          the smvm process running the VM, and its start time
//   NAME/vsock.sock   the VM's vsock (Firecracker's uds_path): the guest agent
//   NAME/control.sock the control socket (control/control_socket.hpp)
//   NAME/stdout.log   a detached VM's workload output (smvm logs)
//   NAME/stderr.log
//   NAME/exit         the exit status, once the VM has ended
//
// A name is claimed by creating its folder, so two VMs never share one.

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace smvm::run {

std::filesystem::path runtime_root();

struct vm_state {
  std::string name;
  std::filesystem::path dir;

  std::filesystem::path vsock() const { return dir / "vsock.sock"; }
  std::filesystem::path control() const { return dir / "control.sock"; }
  std::filesystem::path stdout_log() const { return dir / "stdout.log"; }
  std::filesystem::path stderr_log() const { return dir / "stderr.log"; }
};

struct vm_info {
  std::string image;
  std::vector<std::string> command;
  std::int64_t created = 0;  // seconds since the epoch
  bool detached = false;
  std::string logs;  // the folder of its stdout.log and stderr.log, when not its own (clones share one)
};

enum class vm_status { starting, running, exited, dead };

struct vm_entry {
  vm_state state;
  vm_info info;
  vm_status status = vm_status::dead;
  pid_t pid = 0;            // while running
  std::optional<int> exit;  // once exited
};

/// Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*, here at most 64 characters.
result<void> check_vm_name(const std::string& name);
/// "vm-" and eight hex digits, not in use.
std::string new_vm_name();

/// Claims `name` (its folder) and records `info`; an error when the name
/// is taken or the folder cannot be made.
result<vm_state> claim_vm_name(const std::string& name, const vm_info& info);
/// The state folder of a claimed name.
result<vm_state> open_vm_state(const std::string& name);
/// Records this process as the one running the VM.
result<void> record_running(const vm_state& state);
/// Claims `name` (or opens it, when the caller claimed it) and records this
/// process as running it; on failure, nothing is left claimed.
result<vm_state> register_vm(const std::string& name, const vm_info& info, bool claimed);
/// What is left of a VM once it ended: its exit status when `keep`, else nothing.
void unregister_vm(const vm_state& state, int status, bool keep);
/// Now, as info.json's "created" has it.
std::int64_t now_seconds();
/// Records how the VM ended.
void record_exit(const vm_state& state, int status);
/// Forgets the VM: its folder and all in it.
void remove_vm_state(const vm_state& state);

/// A VM by name; an error that says so when there is none.
result<vm_entry> find_vm(const std::string& name);
std::vector<vm_entry> list_vms();
/// Waits up to `limit` for the VM `name` to be no longer running; its
/// entry then (none when it is gone), or nothing when it still runs.
std::optional<std::optional<vm_entry>> wait_until_ended(const std::string& name, std::chrono::milliseconds limit);
/// "Up", "Exited (N)", ... as docker ps words it.
std::string describe(const vm_entry& e);

}  // namespace smvm::run
