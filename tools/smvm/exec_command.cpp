// smvm exec [-i] [-t] [-e NAME=value] [-w DIR] [-u USER] NAME COMMAND...:
// a command in a running VM, through its guest agent, as docker exec.

#include "tools/smvm/commands.hpp"

#include "agent/exec.hpp"
#include "run/run_vm.hpp"
#include "run/vm_state.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <csignal>

namespace smvm::cli {

namespace {

constexpr int failure = run::smvm_failure_status;

/// Puts a terminal in raw mode (keys go to the command's terminal as typed,
/// ^C included) and back when done.
class raw_terminal {
 public:
  explicit raw_terminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
  }
  ~raw_terminal() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace

/// The VM `name`, running; otherwise an error for `verb` that says why not.
result<run::vm_entry> running_vm(const std::string& name) {
  auto vm = run::find_vm(name);
  if (!vm) return vm.error();
  if (vm->status == run::vm_status::starting) return make_error("the VM '{}' is still starting", name);
  if (vm->status != run::vm_status::running)
    return make_error("the VM '{}' is not running ({})", name, run::describe(*vm));
  return vm;
}

int exec_command(const std::vector<std::string>& args) {
  auto split = split_at_operand(args, {"-e", "--env", "-w", "--workdir", "-u", "--user"});
  CLI::App app{"Run a command in a running VM", "smvm exec"};
  std::string name;
  bool interactive = false, tty = false;
  agent::exec_request request;
  app.add_option("name", name, "The VM (smvm ps)")->required();
  app.add_flag("-i,--interactive", interactive, "Pass smvm's stdin to the command");
  app.add_flag("-t,--tty", tty, "Run the command on a terminal");
  app.add_option("-e,--env", request.env, "Set NAME=value in the command's environment");
  app.add_option("-w,--workdir", request.cwd, "Working folder inside the VM (absolute)");
  app.add_option("-u,--user", request.user, "User: name, uid, name:group or uid:gid");
  app.footer("Options go before NAME; what follows NAME is the command.\n"
             "Exit status: the command's; 125 when smvm failed, 126/127 when the command cannot run.");
  if (auto done = smvm::cli::parse_options(app, split.options)) return *done;
  if (split.rest.empty()) {
    fmt::print(stderr, "smvm exec: no command: give one after the VM's name\n");
    return failure;
  }
  for (const auto& e : request.env)
    if (e.empty() || e.front() == '=') {
      fmt::print(stderr, "smvm exec: -e {}: expected NAME=value\n", e);
      return failure;
    }
  if (!request.cwd.empty() && request.cwd.front() != '/') {
    fmt::print(stderr, "smvm exec: -w {}: the working folder must be an absolute path\n", request.cwd);
    return failure;
  }
  auto vm = running_vm(name);
  if (!vm) {
    fmt::print(stderr, "smvm exec: {}\n", vm.error().message);
    return failure;
  }
  request.argv = split.rest;
  request.tty = tty;
  winsize size{};
  if (tty && ::ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0) {
    request.rows = size.ws_row;
    request.cols = size.ws_col;
  }
  // Signals to smvm go to the command; a terminal's resize to its terminal.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH}) sigaddset(&forwarded, s);
  sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  const int signals = ::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
  std::optional<raw_terminal> raw;
  if (tty && interactive && ::isatty(STDIN_FILENO)) raw.emplace(STDIN_FILENO);
  auto outcome = agent::exec(vm->state.vsock(), request, {interactive ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO, signals},
                             std::chrono::seconds(10));
  raw.reset();
  ::close(signals);
  if (!outcome) {
    fmt::print(stderr, "smvm exec: {}\n", outcome.error().message);
    return failure;
  }
  if (!outcome->error.empty()) fmt::print(stderr, "smvm exec: {}\n", outcome->error);
  return outcome->status;
}

}  // namespace smvm::cli
