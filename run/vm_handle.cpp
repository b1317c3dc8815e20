// smvm::vm (include/smvm/vm.hpp): a VM held by a program. It reaches the VM
// only through the runtime folder's sockets (the guest agent's vsock, the
// control socket), so a VM started here and one attached by name are the
// same to every call but stop.

#include "include/smvm/vm.hpp"

#include "agent/channel.hpp"
#include "agent/exec.hpp"
#include "agent/files.hpp"
#include "config/vm_config.hpp"
#include "run/run_vm.hpp"
#include "run/vm_state.hpp"

#include <nlohmann/json.hpp>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <thread>

namespace smvm {

namespace {

using namespace std::chrono_literals;
constexpr auto connect_timeout = 10s;

/// An anonymous file in memory: stdin to give, output to collect.
result<unique_fd> memory_file(std::string_view contents = {}) {
  unique_fd fd{::memfd_create("smvm-exec", MFD_CLOEXEC)};
  if (!fd.valid()) return make_error("memfd_create: {}", std::strerror(errno));
  if (!contents.empty())
    if (auto w = agent::write_all(fd.get(), {reinterpret_cast<const std::uint8_t*>(contents.data()), contents.size()},
                                  "a memory file");
        !w)
      return w.error();
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string contents_of(int fd) {
  std::string out;
  ::lseek(fd, 0, SEEK_SET);
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

/// One request on the VM's control socket (control/control_socket.hpp).
result<nlohmann::json> control_request(const std::filesystem::path& socket_path, const nlohmann::json& request) {
  const std::string where = socket_path.string();
  auto connected = agent::connect_unix(socket_path);
  if (!connected) return connected.error();
  unique_fd fd = std::move(*connected);
  const std::string line = request.dump() + "\n";
  if (auto w = agent::send_all_to_socket(fd.get(), {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, where); !w)
    return w.error();
  std::string reply;
  char c;
  while (reply.size() < 65536) {
    const ssize_t n = ::read(fd.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    reply.push_back(c);
  }
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (!j.is_object()) return make_error("{}: no answer from the VM's control socket", where);
  if (!j.value("ok", false)) return make_error("{}", j.value("error", std::string("the VM refused the request")));
  return j;
}

}  // namespace

struct vm::state {
  run::vm_state paths;
  std::thread runner;            // a VM started here runs on this thread
  std::future<int> exit_status;  // and ends with this
  std::optional<int> ended;      // once taken from exit_status
  bool started_here = false;

  /// A VM started here that has ended: its status (the thread joined).
  std::optional<int> finished(std::chrono::milliseconds wait = std::chrono::milliseconds(0)) {
    if (!ended && exit_status.valid() && exit_status.wait_for(wait) == std::future_status::ready) {
      ended = exit_status.get();
      if (runner.joinable()) runner.join();
    }
    return ended;
  }
};

vm::vm(std::unique_ptr<state> s) : state_(std::move(s)) {}
vm::vm(vm&&) noexcept = default;
vm& vm::operator=(vm&&) noexcept = default;

vm::~vm() {
  if (!state_ || !state_->started_here) return;
  if (!state_->finished()) (void)stop();
  if (state_->runner.joinable()) state_->runner.join();
}

const std::string& vm::name() const { return state_->paths.name; }

result<vm> vm::launch(const std::string& name, std::function<int()> run, bool agent, std::chrono::seconds timeout,
                      const std::string& what) {
  auto s = std::make_unique<state>();
  s->paths = {name, run::runtime_root() / name};
  s->started_here = true;
  std::packaged_task<int()> task(std::move(run));
  s->exit_status = task.get_future();
  s->runner = std::thread(std::move(task));
  vm handle{std::move(s)};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = handle.state_->finished())
      return make_error("the VM {} ({}) ended before it was up, with exit status {} (its reasons are on stderr)", name,
                        what, *status);
    std::error_code ec;
    const bool up = agent ? bool(agent::ping(handle.state_->paths.vsock(), 2s))
                          : std::filesystem::exists(handle.state_->paths.control(), ec);
    if (up) return handle;
    std::this_thread::sleep_for(50ms);
  }
  return make_error("the VM {} ({}) was not up in {} s", name, what, timeout.count());  // ~vm stops it
}

/// A name given is checked; none given is a new one.
static result<std::string> name_or_new(std::string name) {
  if (name.empty()) return run::new_vm_name();
  if (auto ok = run::check_vm_name(name); !ok) return ok.error();
  return name;
}

result<vm> vm::start(run_options options, std::chrono::seconds timeout) {
  auto name = name_or_new(options.name);
  if (!name) return name.error();
  options.name = *name;
  options.keep_state = false;
  options.name_claimed = false;
  return launch(*name, [options] { return run_image(options); }, true, timeout, "image " + options.image);
}

result<vm> vm::boot(const std::filesystem::path& vm_toml, std::string name_asked, std::chrono::seconds timeout) {
  auto name = name_or_new(std::move(name_asked));
  if (!name) return name.error();
  auto config = config::load_vm_config(vm_toml);
  if (!config) return config.error();
  std::optional<std::filesystem::path> uds;
  for (const auto& d : config->devices)
    if (d.kind->name == "virtio-vsock") uds = d.settings.text("uds_path");
  const std::string what = "vm.toml " + std::filesystem::absolute(vm_toml).string();
  auto run = [config = std::move(*config), name = *name, uds, what]() {
    auto state = run::register_vm(name, {what, {}, run::now_seconds(), false, ""}, false);
    if (!state) {
      fmt::print(stderr, "smvm: {}\n", state.error().message);
      return run::smvm_failure_status;
    }
    std::error_code ec;
    if (uds) std::filesystem::create_symlink(*uds, state->vsock(), ec);  // smvm exec NAME finds its agent there
    const int status = run::run_vm(config, {state->control()});
    run::unregister_vm(*state, status, false);
    return status;
  };
  return launch(*name, std::move(run), uds.has_value(), timeout, what);
}

result<vm> vm::restore(const std::filesystem::path& snapshot, std::string name_asked, std::chrono::seconds timeout) {
  auto name = name_or_new(std::move(name_asked));
  if (!name) return name.error();
  run::restore_request request;
  request.snapshot = snapshot;
  request.name = *name;
  request.console.input = config::console_input::none;
  // A restored guest runs at once: the VM is up when its control socket is.
  return launch(*name, [request] { return run::restore_vm(request); }, false, timeout, "snapshot " + snapshot.string());
}

result<vm> vm::attach(const std::string& name) {
  auto entry = run::find_vm(name);
  if (!entry) return entry.error();
  if (entry->status != run::vm_status::running)
    return make_error("the VM '{}' is not running ({})", name, run::describe(*entry));
  auto s = std::make_unique<state>();
  s->paths = entry->state;
  return vm{std::move(s)};
}

result<void> vm::write_file(const std::string& path, std::string_view contents, std::uint32_t mode) const {
  auto source = memory_file(contents);
  if (!source) return source.error();
  return agent::write_file(state_->paths.vsock(), path, source->get(), {mode, 0, 0}, "", connect_timeout);
}

result<std::string> vm::read_file(const std::string& path) const {
  auto sink = memory_file();
  if (!sink) return sink.error();
  if (auto r = agent::read_file(state_->paths.vsock(), path, sink->get(), connect_timeout); !r) return r.error();
  return contents_of(sink->get());
}

result<int> vm::connect(std::uint16_t port) const {
  auto fd = agent::connect_tcp(state_->paths.vsock(), port, connect_timeout);
  if (!fd) return fd.error();
  return fd->release();
}

result<void> vm::snapshot(const std::filesystem::path& path) const {
  auto r = control_request(state_->paths.control(),
                           {{"action", "snapshot"}, {"path", std::filesystem::absolute(path).string()}});
  if (!r) return r.error();
  return {};
}

result<int> vm::stop() {
  if (state_->started_here)
    if (auto status = state_->finished()) return *status;
  if (auto r = control_request(state_->paths.control(), {{"action", "stop"}}); !r) {
    if (state_->started_here)  // it may have ended meanwhile
      if (auto status = state_->finished(5s)) return *status;
    return r.error();
  }
  if (state_->started_here) return *state_->finished(std::chrono::hours(24 * 365));
  if (auto ended = run::wait_until_ended(name(), 60s)) return *ended && (*ended)->exit ? *(*ended)->exit : 0;
  return make_error("the VM '{}' did not end within 60 s of being stopped", name());
}

exec_builder::exec_builder(const vm& owner, std::vector<std::string> command)
    : vm_(owner), command_(std::move(command)) {}
exec_builder& exec_builder::env(std::string name_value) {
  env_.push_back(std::move(name_value));
  return *this;
}
exec_builder& exec_builder::workdir(std::string folder) {
  workdir_ = std::move(folder);
  return *this;
}
exec_builder& exec_builder::user(std::string user) {
  user_ = std::move(user);
  return *this;
}
exec_builder& exec_builder::input(std::string bytes) {
  input_ = std::move(bytes);
  has_input_ = true;
  return *this;
}
exec_builder& exec_builder::tty(bool on) {
  tty_ = on;
  return *this;
}

result<int> exec_builder::run(int in, int out, int err) {
  agent::exec_request request{command_, env_, workdir_, user_, tty_, 24, 80};
  auto r = agent::exec(vm_.state_->paths.vsock(), request, {in, out, err, -1}, connect_timeout);
  if (!r) return r.error();
  if (!r->error.empty()) return make_error("{}", r->error);
  return r->status;
}

result<exec_result> exec_builder::run() {
  auto out = memory_file(), err = memory_file();
  if (!out) return out.error();
  if (!err) return err.error();
  std::optional<unique_fd> in;
  if (has_input_) {
    auto f = memory_file(input_);
    if (!f) return f.error();
    in = std::move(*f);
  }
  agent::exec_request request{command_, env_, workdir_, user_, tty_, 24, 80};
  auto r = agent::exec(vm_.state_->paths.vsock(), request, {in ? in->get() : -1, out->get(), err->get(), -1},
                       connect_timeout);
  if (!r) return r.error();
  return exec_result{r->status, contents_of(out->get()), contents_of(err->get()), r->error};
}

}  // namespace smvm
