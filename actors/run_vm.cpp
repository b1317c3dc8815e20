#include "actors/run_vm.hpp"

#include "actors/machine_actor.hpp"
#include "actors/machine_builder.hpp"

#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace smvm::actors {

namespace {

/// Turns SIGINT and SIGTERM into a clean stop of the machine. The signals
/// are blocked in every thread (CAF's inherit the mask) and collected here.
class stop_signal_watcher {
 public:
  explicit stop_signal_watcher(machine_actor machine) {
    thread_ = std::thread([this, machine = std::move(machine)] {
      sigset_t set = stop_signals();
      timespec tick{0, 100'000'000};
      while (!done_) {
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig <= 0) continue;
        // The first signal is the workload's to handle (smvm run); a second one stops the VM.
        if (signals_++ == 0) caf::anon_send(machine, workload_signal{sig});
        else caf::anon_send(machine, guest_stop{128 + sig, false, fmt::format("stopped by signal {}", sig)});
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

}  // namespace

int run_vm(const config::vm_config& config) {
  auto parts = build_machine(config);
  if (!parts) {
    fmt::print(stderr, "smvm: {}\n", parts.error().message);
    return smvm_failure_status;
  }
  sigset_t stop = stop_signal_watcher::stop_signals(), previous;
  pthread_sigmask(SIG_BLOCK, &stop, &previous);
  int status = smvm_failure_status;
  {
    caf::actor_system_config cfg;
    configure(cfg);
    caf::actor_system system{cfg};
    auto machine = spawn_machine(system, std::move(*parts), config.console);
    stop_signal_watcher watcher{machine};
    caf::scoped_actor self{system};
    self->request(machine, caf::infinite, run_atom_v)
      .receive([&](std::int32_t s) { status = s; },
               [&](caf::error& e) { fmt::print(stderr, "smvm: the machine failed: {}\n", caf::to_string(e)); });
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return status;
}

}  // namespace smvm::actors
