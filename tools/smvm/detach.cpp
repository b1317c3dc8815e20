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

split_args split_at_operand(const std::vector<std::string>& args, const std::set<std::string>& takes_value) {
  split_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // `-- OPERAND REST`: OPERAND is not an option even if it looks like one
      if (i + 1 < args.size()) out.options.push_back(args[i + 1]);
      if (i + 2 < args.size()) out.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 2, args.end());
      return out;
    }
    out.options.push_back(a);
    if (a.size() > 1 && a[0] == '-') {
      if (takes_value.count(a) && i + 1 < args.size()) out.options.push_back(args[++i]);
      continue;
    }
    std::size_t rest = i + 1;  // the operand: the rest is the command; a leading `--` only separates
    if (rest < args.size() && args[rest] == "--") ++rest;
    out.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(rest), args.end());
    return out;
  }
  return out;
}

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

int run_detached(const run_options& options, const std::vector<std::string>& run_args) {
  const std::string name = options.name.empty() ? run::new_vm_name() : options.name;
  run::vm_info info{options.image, options.command,
                    std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count(),
                    true};
  auto state = run::claim_vm_name(name, info);
  if (!state) {
    fmt::print(stderr, "smvm run: {}\n", state.error().message);
    return failure;
  }
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, state->stdout_log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_addopen(&files, 2, state->stderr_log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  std::vector<std::string> args{"smvm", "run"};
  args.insert(args.end(), run_args.begin(), run_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::setenv(detached_name_variable, name.c_str(), 1);
  pid_t child = 0;
  const int spawned = posix_spawn(&child, "/proc/self/exe", &files, &attributes, argv.data(), environ);
  ::unsetenv(detached_name_variable);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    fmt::print(stderr, "smvm run: cannot start the background smvm: {}\n", std::strerror(spawned));
    run::remove_vm_state(*state);
    return failure;
  }
  const auto deadline = std::chrono::steady_clock::now() + start_timeout();
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) {
      // It ended before the agent answered: a workload that was quick is
      // fine (docker run -d true); smvm failing is not.
      if (WIFEXITED(status) && WEXITSTATUS(status) != failure) {
        fmt::print("{}\n", name);
        return 0;
      }
      fmt::print(stderr, "smvm run: the VM {} did not start:\n", name);
      print_file(state->stderr_log());
      run::remove_vm_state(*state);  // it never ran: its name is free again
      return failure;
    }
    if (agent::ping(state->vsock(), std::chrono::seconds(2))) {
      fmt::print("{}\n", name);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fmt::print(stderr, "smvm run: the VM {}'s guest agent did not answer in {} s; it may still be starting (smvm ps)\n",
             name, start_timeout().count());
  return failure;
}

}  // namespace smvm::cli
