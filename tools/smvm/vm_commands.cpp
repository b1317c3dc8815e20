// smvm ps, stop, logs and rm: the VMs in the runtime folder
// (run/vm_state.hpp), as docker's verbs of those names.

#include "tools/smvm/commands.hpp"

#include "include/smvm/vm.hpp"
#include "run/run_vm.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace smvm::cli {

namespace {

using namespace std::chrono_literals;
constexpr int failure = run::smvm_failure_status;

std::string ago(std::int64_t created) {
  const auto s = run::now_seconds() - created;
  if (s < 60) return fmt::format("{} seconds ago", s);
  if (s < 3600) return fmt::format("{} minutes ago", s / 60);
  if (s < 86400) return fmt::format("{} hours ago", s / 3600);
  return fmt::format("{} days ago", s / 86400);
}

/// Docker's stop: SIGTERM for the workload, time to end, then the VM is
/// stopped (smvm's second signal), then killed. Ends with the VM gone.
void stop_vm(const run::vm_entry& vm, std::chrono::seconds grace) {
  if (vm.status != run::vm_status::running) return;
  ::kill(vm.pid, SIGTERM);  // smvm passes the first one to the workload
  if (run::wait_until_ended(vm.state.name, grace)) return;
  ::kill(vm.pid, SIGTERM);  // the second ends the VM
  if (run::wait_until_ended(vm.state.name, 10s)) return;
  ::kill(vm.pid, SIGKILL);
  (void)run::wait_until_ended(vm.state.name, 5s);
  if (vm.info.detached) run::record_exit(vm.state, 128 + SIGKILL);
}

/// Copies what is new in `file` from `offset` to `out`.
void copy_new(const std::filesystem::path& file, std::uint64_t& offset, std::FILE* out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return;
  in.seekg(static_cast<std::streamoff>(offset));
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    std::fwrite(buffer, 1, static_cast<std::size_t>(in.gcount()), out);
    offset += static_cast<std::uint64_t>(in.gcount());
  }
  std::fflush(out);
}

}  // namespace

int ps_command(bool all, bool quiet) {
  auto vms = run::list_vms();
  if (!quiet) fmt::print("{:<20} {:<40} {:<30} {:<18} {}\n", "NAME", "IMAGE", "COMMAND", "CREATED", "STATUS");
  for (const auto& vm : vms) {
    if (!all && vm.status != run::vm_status::running && vm.status != run::vm_status::starting) continue;
    if (quiet) {
      fmt::print("{}\n", vm.state.name);
      continue;
    }
    std::string command = fmt::format("\"{}\"", fmt::join(vm.info.command, " "));
    if (command.size() > 30) command = command.substr(0, 26) + "...\"";
    fmt::print("{:<20} {:<40} {:<30} {:<18} {}\n", vm.state.name, vm.info.image, command, ago(vm.info.created),
               run::describe(vm));
  }
  return 0;
}

int stop_command(const std::vector<std::string>& names, int seconds) {
  int status = 0;
  for (const auto& name : names) {
    auto vm = run::find_vm(name);
    if (!vm) {
      fmt::print(stderr, "smvm stop: {}\n", vm.error().message);
      status = 1;
      continue;
    }
    stop_vm(*vm, std::chrono::seconds(seconds));
    fmt::print("{}\n", name);
  }
  return status;
}

int logs_command(const std::string& name, bool follow) {
  auto vm = run::find_vm(name);
  if (!vm) {
    fmt::print(stderr, "smvm logs: {}\n", vm.error().message);
    return 1;
  }
  if (!vm->info.detached) {
    fmt::print(stderr, "smvm logs: the VM '{}' runs in the foreground: its output goes to its own terminal\n", name);
    return 1;
  }
  // Clones of one restore share their process's logs, in the first one's folder.
  const run::vm_state logs{name, vm->info.logs.empty() ? vm->state.dir : std::filesystem::path(vm->info.logs)};
  std::uint64_t out = 0, err = 0;
  for (;;) {
    auto now = run::find_vm(name);
    const bool was_running = follow && now && now->status == run::vm_status::running;
    copy_new(logs.stdout_log(), out, stdout);
    copy_new(logs.stderr_log(), err, stderr);
    if (!was_running) return 0;  // one more pass after it ended took the last of it
    std::this_thread::sleep_for(100ms);
  }
}

int snapshot_command(const std::string& name, const std::string& path) {
  auto vm = smvm::vm::attach(name);
  if (!vm) {
    fmt::print(stderr, "smvm snapshot: {}\n", vm.error().message);
    return failure;
  }
  if (auto r = vm->snapshot(path); !r) {
    fmt::print(stderr, "smvm snapshot: {}: {}\n", name, r.error().message);
    return failure;
  }
  fmt::print("{}\n", path);
  return 0;
}

int rm_command(const std::vector<std::string>& names, bool force) {
  int status = 0;
  for (const auto& name : names) {
    auto vm = run::find_vm(name);
    if (!vm) {
      fmt::print(stderr, "smvm rm: {}\n", vm.error().message);
      status = 1;
      continue;
    }
    if (vm->status == run::vm_status::running || vm->status == run::vm_status::starting) {
      if (!force) {
        fmt::print(stderr, "smvm rm: the VM '{}' is running: stop it first, or use rm -f\n", name);
        status = 1;
        continue;
      }
      stop_vm(*vm, 0s);
    }
    run::remove_vm_state(vm->state);
    fmt::print("{}\n", name);
  }
  return status;
}

}  // namespace smvm::cli
