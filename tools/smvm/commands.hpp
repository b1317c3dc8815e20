#pragma once
// The verbs that reach a running VM by name (run/vm_state.hpp): run -d's
// background start, exec, cp, ps, stop, logs and rm.

#include "include/smvm/smvm.hpp"
#include "run/run_vm.hpp"
#include "run/vm_state.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace smvm::cli {

/// Options come before the first operand; from it on, everything is the
/// command (operands included), as with docker run and docker exec. A
/// `--` ends the options.
struct split_args {
  std::vector<std::string> options;  // the options and the first operand, for CLI11
  std::vector<std::string> rest;
};
split_args split_at_operand(const std::vector<std::string>& args, const std::set<std::string>& takes_value);
/// Parses split_args' options with `app`; the status to exit with when
/// that is all (--help: 0, a bad option: 125, said on stderr), else nothing.
std::optional<int> parse_options(CLI::App& app, const std::vector<std::string>& options);

/// smvm run -d: starts the VM in a background smvm of its own, waits
/// until its guest agent answers (or it has ended), prints its name.
int run_detached(const run_options& options, const std::vector<std::string>& run_args);
/// smvm restore -d: the same for restored VMs (and clones), up once their
/// control sockets are.
int restore_detached(run::restore_request request, const std::vector<std::string>& restore_args);
/// The background smvm's side: `options` as parsed, its name claimed.
bool is_detached_child();
void adopt_detached_name(run_options& options);
bool adopt_detached_name(run::restore_request& request);

/// The VM `name`, running; otherwise an error that says why not.
result<run::vm_entry> running_vm(const std::string& name);

int exec_command(const std::vector<std::string>& args);
int cp_command(const std::string& source, const std::string& destination);
int ps_command(bool all, bool quiet);
int stop_command(const std::vector<std::string>& names, int seconds);
int logs_command(const std::string& name, bool follow);
/// smvm snapshot NAME PATH: through the VM's control socket.
int snapshot_command(const std::string& name, const std::string& path);
int rm_command(const std::vector<std::string>& names, bool force);

}  // namespace smvm::cli
