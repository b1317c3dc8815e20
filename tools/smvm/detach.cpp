// smvm run -d: the VM runs in a background smvm (its own session, stdio in
// the VM's log files); this one returns once the guest agent answers, so an
// exec right after works, as after docker run -d.

#include "tools/smvm/commands.hpp"

#include "agent/channel.hpp"
#include "run/run_vm.hpp"
#include "run/vm_state.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

extern char** environ;

namespace smvm::cli {

namespace {

constexpr const char* detached_name_variable = "SMVM_DETACHED_NAME";
constexpr int failure = run::smvm_failure_status;

/// How long run -d waits for the guest agent: SMVM_START_TIMEOUT seconds,
/// default 120 (a nested boot is slow).
std::chrono::seconds start_timeout() {
  const char* text = std::getenv("SMVM_START_TIMEOUT");
  const long seconds = text ? std::atol(text) : 0;
  return std::chrono::seconds(seconds > 0 ? seconds : 120);
}

void print_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line)) fmt::print(stderr, "{}\n", line);
}

}  // namespace

bool is_detached_child() {
  const char* name = std::getenv(detached_name_variable);
  return name && *name;
}

void adopt_detached_name(run_options& options) {
  options.name = std::getenv(detached_name_variable);
  options.name_claimed = true;
  options.keep_state = true;
  options.interactive = false;  // its stdin is /dev/null
  ::unsetenv(detached_name_variable);  // not for anything it starts
}

namespace {

/// True when every VM's control socket is there: its machine runs.
bool all_controls_up(const std::vector<run::vm_state>& states) {
  std::error_code ec;
  for (const auto& s : states)
    if (!std::filesystem::exists(s.control(), ec)) return false;
  return true;
}

/// Starts `child_args` as a background smvm for the VMs `states`, claimed
/// already, and told `base_name` as its --name: in its own session, stdin
/// /dev/null, stdout and stderr into the first VM's logs. Waits until they
/// are up: their guest agents answer (`wait_for_agent`: a booting VM) or
/// their control sockets are there (a restored one). Prints their names.
int start_detached(const std::vector<run::vm_state>& states, const std::string& base_name, std::vector<std::string> child_args,
                   bool wait_for_agent) {
  auto forget_all = [&] {
    for (const auto& s : states) run::remove_vm_state(s);  // they never ran: their names are free again
  };
  const auto& logs = states.front();
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, logs.stdout_log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&files, 2, logs.stderr_log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  // Nothing else of ours: a pipe or fifo end held by the long-lived VM
  // would keep its reader from ever seeing EOF.
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  child_args.insert(child_args.begin(), "smvm");
  std::vector<char*> argv;
  for (auto& a : child_args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::setenv(detached_name_variable, base_name.c_str(), 1);
  pid_t child = 0;
  const int spawned = posix_spawn(&child, "/proc/self/exe", &files, &attributes, argv.data(), environ);
  ::unsetenv(detached_name_variable);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    fmt::print(stderr, "smvm: cannot start the background smvm: {}\n", std::strerror(spawned));
    forget_all();
    return failure;
  }
  auto print_names = [&] {
    for (const auto& s : states) fmt::print("{}\n", s.name);
    return 0;
  };
  const auto deadline = std::chrono::steady_clock::now() + start_timeout();
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) {
      // It ended before it was up: a workload that was quick is fine
      // (docker run -d true); smvm failing is not.
      if (WIFEXITED(status) && WEXITSTATUS(status) != failure) return print_names();
      fmt::print(stderr, "smvm: {} did not start:\n", logs.name);
      print_file(logs.stderr_log());
      forget_all();
      return failure;
    }
    if (wait_for_agent ? bool(agent::ping(logs.vsock(), std::chrono::seconds(2))) : all_controls_up(states))
      return print_names();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "smvm: {} was not up in {} s; it may still be starting (smvm ps)\n", logs.name,
             start_timeout().count());
  return failure;
}

}  // namespace

int run_detached(const run_options& options, const std::vector<std::string>& run_args) {
  const std::string name = options.name.empty() ? run::new_vm_name() : options.name;
  auto state = run::claim_vm_name(name, {options.image, options.command, run::now_seconds(), true, ""});
  if (!state) {
    fmt::print(stderr, "smvm run: {}\n", state.error().message);
    return failure;
  }
  std::vector<std::string> args{"run"};
  args.insert(args.end(), run_args.begin(), run_args.end());
  return start_detached({*state}, name, args, true);
}

int restore_detached(run::restore_request request, const std::vector<std::string>& restore_args) {
  if (request.name.empty()) request.name = run::new_vm_name();
  const auto names = run::restore_names(request);
  std::vector<run::vm_state> states;
  for (const auto& name : names) {
    run::vm_info info{"snapshot " + std::filesystem::absolute(request.snapshot).string(), {}, run::now_seconds(), true,
                      states.empty() ? "" : states.front().dir.string()};
    auto state = run::claim_vm_name(name, info);
    if (!state) {
      fmt::print(stderr, "smvm restore: {}\n", state.error().message);
      for (const auto& s : states) run::remove_vm_state(s);
      return failure;
    }
    states.push_back(std::move(*state));
  }
  std::vector<std::string> args{"restore"};
  args.insert(args.end(), restore_args.begin(), restore_args.end());
  return start_detached(states, request.name, args, false);
}

bool adopt_detached_name(run::restore_request& request) {
  if (!is_detached_child()) return false;
  request.name = std::getenv(detached_name_variable);
  request.name_claimed = true;
  request.keep_state = true;
  ::unsetenv(detached_name_variable);
  return true;
}

}  // namespace smvm::cli
