#include "run/vm_state.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <signal.h>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace smvm::run {

namespace fs = std::filesystem;

namespace {

/// A live process's start time (clock ticks since boot, /proc/PID/stat
/// field 22): with the pid, it tells the VM's smvm from a later process that
/// got the same pid. Nothing for a zombie: it has ended.
std::optional<unsigned long long> start_time(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i < 22 && fields >> field; ++i)
    if (i == 3 && (field == "Z" || field == "X")) return std::nullopt;
  unsigned long long ticks = 0;
  if (!(fields >> ticks)) return std::nullopt;
  return ticks;
}

std::optional<std::string> read_text(const fs::path& p) {
  std::ifstream in(p);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

/// Writes beside and renames over, so a reader sees all or nothing.
result<void> write_text(const fs::path& p, const std::string& text) {
  const fs::path temp = p.string() + ".new";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    if (!out.flush()) return make_error("{}: cannot write it", temp.string());
  }
  std::error_code ec;
  fs::rename(temp, p, ec);
  if (ec) return make_error("{}: {}", p.string(), ec.message());
  return {};
}

vm_entry read_entry(const vm_state& state) {
  vm_entry e{state, {}, vm_status::dead, 0, std::nullopt};
  if (auto text = read_text(state.dir / "info.json")) {
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_object()) {
      e.info.image = j.value("image", "");
      e.info.command = j.value("command", std::vector<std::string>{});
      e.info.created = j.value("created", std::int64_t{0});
      e.info.detached = j.value("detached", false);
      e.info.logs = j.value("logs", "");
    }
  }
  if (auto text = read_text(state.dir / "exit")) {
    e.status = vm_status::exited;
    e.exit = std::atoi(text->c_str());
    return e;
  }
  auto text = read_text(state.dir / "pid");
  if (!text) {
    const auto age = std::chrono::system_clock::now().time_since_epoch() - std::chrono::seconds(e.info.created);
    e.status = age < std::chrono::minutes(10) ? vm_status::starting : vm_status::dead;
    return e;
  }
  long long pid = 0;
  unsigned long long started = 0;
  std::istringstream fields(*text);
  if (fields >> pid >> started && pid > 0 && start_time(static_cast<pid_t>(pid)) == started) {
    e.status = vm_status::running;
    e.pid = static_cast<pid_t>(pid);
  }
  return e;
}

}  // namespace

fs::path runtime_root() {
  if (const char* dir = std::getenv("SMVM_RUNTIME_DIR"); dir && *dir) return dir;
  if (::geteuid() == 0) return "/run/smvm";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) return fs::path(xdg) / "smvm";
  return fmt::format("/tmp/smvm-{}", ::geteuid());
}

result<void> check_vm_name(const std::string& name) {
  auto ok = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (!first && (c == '_' || c == '.' || c == '-'));
  };
  bool valid = !name.empty() && name.size() <= 64;
  for (std::size_t i = 0; valid && i < name.size(); ++i) valid = ok(name[i], i == 0);
  if (!valid)
    return make_error("invalid VM name '{}': use letters, digits, _ . and - (not first), at most 64 characters", name);
  return {};
}

std::string new_vm_name() {
  std::random_device random;
  for (;;) {
    auto name = fmt::format("vm-{:08x}", random());
    std::error_code ec;
    if (!fs::exists(runtime_root() / name, ec)) return name;
  }
}

result<vm_state> claim_vm_name(const std::string& name, const vm_info& info) {
  if (auto ok = check_vm_name(name); !ok) return ok.error();
  const fs::path root = runtime_root();
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return make_error("cannot make the runtime folder {}: {}", root.string(), ec.message());
  vm_state state{name, root / name};
  if (::mkdir(state.dir.c_str(), 0700) != 0) {
    if (errno == EEXIST)
      return make_error("the name '{}' is in use by another VM (smvm ps -a lists them; smvm rm {} frees it)", name, name);
    return make_error("cannot make {}: {}", state.dir.string(), std::strerror(errno));
  }
  nlohmann::json j{{"image", info.image},
                   {"command", info.command},
                   {"created", info.created},
                   {"detached", info.detached},
                   {"logs", info.logs}};
  if (auto w = write_text(state.dir / "info.json", j.dump() + "\n"); !w) {
    remove_vm_state(state);
    return w.error();
  }
  return state;
}

result<vm_state> open_vm_state(const std::string& name) {
  if (auto ok = check_vm_name(name); !ok) return ok.error();
  vm_state state{name, runtime_root() / name};
  std::error_code ec;
  if (!fs::is_directory(state.dir, ec)) return make_error("no VM named '{}' (smvm ps -a lists them)", name);
  return state;
}

result<void> record_running(const vm_state& state) {
  const pid_t self = ::getpid();
  auto started = start_time(self);
  if (!started) return make_error("cannot read this process's start time from /proc");
  return write_text(state.dir / "pid", fmt::format("{} {}\n", self, *started));
}

result<vm_state> register_vm(const std::string& name, const vm_info& info, bool claimed) {
  auto state = claimed ? open_vm_state(name) : claim_vm_name(name, info);
  if (!state) return state.error();
  if (auto r = record_running(*state); !r) {
    if (!claimed) remove_vm_state(*state);
    return r.error();
  }
  return state;
}

void unregister_vm(const vm_state& state, int status, bool keep) {
  if (keep) record_exit(state, status);
  else remove_vm_state(state);
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void record_exit(const vm_state& state, int status) {
  (void)write_text(state.dir / "exit", fmt::format("{}\n", status));
}

void remove_vm_state(const vm_state& state) {
  std::error_code ec;
  fs::remove_all(state.dir, ec);
}

result<vm_entry> find_vm(const std::string& name) {
  auto state = open_vm_state(name);
  if (!state) return state.error();
  return read_entry(*state);
}

std::vector<vm_entry> list_vms() {
  std::vector<vm_entry> out;
  std::error_code ec;
  for (const auto& d : fs::directory_iterator(runtime_root(), ec))
    if (d.is_directory(ec) && check_vm_name(d.path().filename().string()))
      out.push_back(read_entry({d.path().filename().string(), d.path()}));
  std::sort(out.begin(), out.end(), [](const vm_entry& a, const vm_entry& b) { return a.info.created > b.info.created; });
  return out;
}

std::optional<std::optional<vm_entry>> wait_until_ended(const std::string& name, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    auto vm = find_vm(name);
    if (!vm) return std::optional<vm_entry>{};
    if (vm->status != vm_status::running) return std::optional<vm_entry>{std::move(*vm)};
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string describe(const vm_entry& e) {
  switch (e.status) {
    case vm_status::starting: return "Starting";
    case vm_status::running: return "Up";
    case vm_status::exited: return fmt::format("Exited ({})", e.exit.value_or(0));
    case vm_status::dead: return "Dead";
  }
  return "";
}

}  // namespace smvm::run
