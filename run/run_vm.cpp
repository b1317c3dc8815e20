#include "run/run_vm.hpp"

#include "actors/machine_actor.hpp"
#include "control/control_socket.hpp"
#include "run/vm_state.hpp"
#include "vmm/machine_builder.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

namespace smvm::run {

namespace {

using actors::guest_stop;
using actors::machine_actor;
using actors::machine_options;
using actors::workload_signal;

/// Turns SIGINT and SIGTERM into a clean stop of the machine. The signals
/// are blocked in every thread (CAF's inherit the mask) and collected here.
class stop_signal_watcher {
 public:
  explicit stop_signal_watcher(std::vector<machine_actor> machines) {
    thread_ = std::thread([this, machines = std::move(machines)] {
      sigset_t set = stop_signals();
      timespec tick{0, 100'000'000};
      while (!done_) {
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig <= 0) continue;
        // The first signal is the workload's to handle (smvm run); a second one stops the VM.
        const bool first = signals_++ == 0;
        for (auto& machine : machines)
          if (first) caf::anon_send(machine, workload_signal{sig});
          else caf::anon_send(machine, guest_stop{128 + sig, false, fmt::format("stopped by signal {}", sig), true});
      }
    });
  }
  ~stop_signal_watcher() {
    done_ = true;
    thread_.join();
  }
  static sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
  }

 private:
  std::atomic<bool> done_{false};
  unsigned signals_ = 0;
  std::thread thread_;
};

/// One VM of this process.
struct vm_run {
  actors::machine_parts parts;
  machine_options options;
  std::optional<std::filesystem::path> control;  // its control socket
};

/// The first non-zero status by index, or 0.
int combined(const std::vector<int>& statuses) {
  for (int s : statuses)
    if (s != 0) return s;
  return 0;
}

/// Runs the VMs in one actor system until every one has ended; returns
/// each one's status.
std::vector<int> run_machines(std::vector<vm_run> vms, const char* noun = "clone") {
  sigset_t stop = stop_signal_watcher::stop_signals(), previous;
  pthread_sigmask(SIG_BLOCK, &stop, &previous);
  std::vector<int> statuses(vms.size(), smvm_failure_status);
  {
    caf::actor_system_config cfg;
    actors::configure(cfg);
    caf::actor_system system{cfg};
    // The switches every VM's cards share; stopped before the system ends.
    auto net = std::make_shared<actors::switch_registry>(system);
    std::vector<machine_actor> machines;
    for (auto& vm : vms) {
      vm.options.net = net;
      machines.push_back(actors::spawn_machine(system, std::move(vm.parts), std::move(vm.options)));
    }
    stop_signal_watcher watcher{machines};
    caf::scoped_actor self{system};
    using run_handle = decltype(self->request(machines.front(), caf::infinite, actors::run_atom_v));
    std::vector<run_handle> runs;
    for (auto& machine : machines) runs.push_back(self->request(machine, caf::infinite, actors::run_atom_v));
    std::vector<std::unique_ptr<control::control_socket>> control;
    for (std::size_t i = 0; i < machines.size(); ++i) {
      if (!vms[i].control) continue;  // still here: spawning moved only the parts and options
      auto opened = control::control_socket::open(*vms[i].control, system, machines[i], net);
      if (!opened) {
        fmt::print(stderr, "smvm: {}\n", opened.error().message);
        for (auto& machine : machines) self->send(machine, guest_stop{smvm_failure_status, false, "", true});
        break;
      }
      control.push_back(std::move(*opened));
    }
    for (std::size_t i = 0; i < runs.size(); ++i)
      runs[i].receive([&](std::int32_t s) { statuses[i] = s; },
                      [&](caf::error& e) { fmt::print(stderr, "smvm: the machine failed: {}\n", caf::to_string(e)); });
    control.clear();
    net.reset();  // stops the switches before the system waits for its actors
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (statuses.size() > 1)
    for (std::size_t i = 0; i < statuses.size(); ++i) fmt::print(stderr, "smvm: {} {} exited {}\n", noun, i, statuses[i]);
  return statuses;
}

/// Builds `config`'s VM into `vms`, serving `control` if given; false, with
/// the reason on stderr, when it cannot be built.
bool add_built(std::vector<vm_run>& vms, const config::vm_config& config,
               std::optional<std::filesystem::path> control) {
  auto parts = vmm::build_machine(config);
  if (!parts) {
    fmt::print(stderr, "smvm: {}\n", parts.error().message);
    return false;
  }
  vms.push_back({std::move(parts->parts), {config.console, config.snapshot, {}}, std::move(control)});
  return true;
}

}  // namespace

int run_vm(const config::vm_config& config, const vm_options& options) {
  std::vector<vm_run> vms;
  if (!add_built(vms, config, options.control_socket)) return smvm_failure_status;
  return combined(run_machines(std::move(vms)));
}

int run_vms(std::vector<config::vm_config> configs, const vm_options& options) {
  std::vector<vm_run> vms;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    if (i > 0) configs[i].console.input = config::console_input::none;  // one stdin
    if (!add_built(vms, configs[i], i == 0 ? options.control_socket : std::nullopt)) return smvm_failure_status;
  }
  return combined(run_machines(std::move(vms), "VM"));
}

std::vector<std::string> restore_names(const restore_request& request) {
  const std::string base = request.name.empty() ? new_vm_name() : request.name;
  if (request.clones <= 1) return {base};
  std::vector<std::string> names;
  for (unsigned i = 0; i < request.clones; ++i) names.push_back(fmt::format("{}-{}", base, i));
  return names;
}

int restore_vm(const restore_request& request) {
  using clock = std::chrono::steady_clock;
  const auto began = clock::now();
  auto micros = [began] { return std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - began).count(); };
  // Every VM is registered by name first: its folder holds its sockets.
  std::vector<vm_state> states;
  auto forget = [&](int status) {
    for (const auto& s : states) unregister_vm(s, status, request.keep_state);
    return status;
  };
  const vm_info info{"snapshot " + std::filesystem::absolute(request.snapshot).string(), {}, now_seconds(),
                     request.keep_state, ""};
  for (const auto& name : restore_names(request)) {
    auto state = register_vm(name, info, request.name_claimed);
    if (!state) {
      fmt::print(stderr, "smvm: {}\n", state.error().message);
      return forget(smvm_failure_status);
    }
    states.push_back(std::move(*state));
  }
  std::vector<vm_run> vms;
  for (unsigned i = 0; i < request.clones; ++i) {
    vmm::restore_options options{request.console, states[i].dir, i};
    if (i > 0 || request.clones > 1) options.console.input = config::console_input::none;
    auto parts = vmm::restore_machine(request.snapshot, options);
    if (!parts) {
      fmt::print(stderr, "smvm: {}\n", parts.error().message);
      return forget(smvm_failure_status);
    }
    if (request.clones > 1)
      if (auto conflict = vmm::clone_conflict(parts->record, request.snapshot.string())) {
        fmt::print(stderr, "smvm: {}: {} clones cannot share it: {}\n", request.snapshot.string(), request.clones,
                   *conflict);
        return forget(smvm_failure_status);
      }
    machine_options machine{parts->console, std::nullopt, {}};
    if (request.report_timing && i == 0) {
      const auto built = micros();
      machine.on_guest_running = [built, micros] {
        fmt::print(stderr, "smvm: restore timing: VM built in {} us, guest running {} us after the restore began\n",
                   built, micros());
      };
    }
    vms.push_back({std::move(parts->parts), std::move(machine),
                   request.control_socket ? request.control_socket : std::optional(states[i].control())});
  }
  const auto statuses = run_machines(std::move(vms));
  for (std::size_t i = 0; i < states.size(); ++i) unregister_vm(states[i], statuses[i], request.keep_state);
  return combined(statuses);
}

}  // namespace smvm::run
