#pragma once
// The vcpu actor: a detached blocking actor that sits in its vCPU's run()
// (hv/vcpu_runner.hpp: KVM_RUN, or a test's stand-in) and turns each exit
// into a message to the device that serves the address.
//
// A vCPU inside KVM_RUN cannot read its mailbox, so delivering a message
// also kicks it: `immediate_exit` is set and its thread gets a real-time
// signal with an empty handler, as Firecracker does.
//
// `freeze` takes the vCPU out of KVM_RUN for good: it finishes the exit in
// progress, replies with the vCPU's state, and waits for `thaw` (back into
// KVM_RUN) or `stop`.

#include "actors/deadlines.hpp"
#include "actors/messages.hpp"
#include "devices/bus.hpp"
#include "hv/vcpu_runner.hpp"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <vector>

namespace smvm::actors {

/// Which device serves which port or MMIO window.
struct io_routes {
  devices::bus<register_window> ports;
  devices::bus<register_window> mmio;
};

struct vcpu_options {
  /// SMVM_TRACE_EXITS=1: every exit to stderr, for debugging guests.
  bool trace_exits = std::getenv("SMVM_TRACE_EXITS") != nullptr;
  /// A device that has not answered a register read by then stops the VM.
  std::chrono::milliseconds read_deadline = deadlines::register_read;
};

class vcpu_actor : public caf::blocking_actor {
 public:
  vcpu_actor(caf::actor_config& cfg, std::shared_ptr<hv::vcpu_runner> cpu, std::shared_ptr<const io_routes> routes,
             machine_actor machine, vcpu_options opts = {});

  void act() override;
  void enqueue(caf::mailbox_element_ptr element, caf::execution_unit* unit) override;
  const char* name() const override { return "vcpu"; }

  /// The signal that interrupts KVM_RUN; its handler does nothing.
  static int kick_signal();
  /// Why an exit other than I/O or a kick ends the VM, and with what status.
  static guest_stop stop_for(unsigned id, const hv::vcpu_exit& exit);

 private:
  enum class step { keep_running, stop };
  step handle_exit(const hv::vcpu_exit& exit);
  step handle_pio(const hv::exits::port_io& io);
  step handle_mmio(const hv::exits::mmio& mmio);
  /// Reports why the VM must end and waits for the machine's stop.
  void report_and_wait(guest_stop why);
  bool drain_mailbox();  // true once a stop has arrived; blocks while frozen
  caf::result<saved_section> freeze();
  /// The device's answer; none when it did not answer in time (the VM
  /// has been told to stop).
  std::optional<std::uint64_t> read_from(const register_window& device, auto message);

  std::shared_ptr<hv::vcpu_runner> cpu_;
  std::shared_ptr<const io_routes> routes_;
  machine_actor machine_;
  vcpu_options opts_;
  bool stop_requested_ = false;
  bool frozen_ = false;

  std::mutex thread_mutex_;  // guards thread_ against the thread's exit
  std::optional<pthread_t> thread_;
};

}  // namespace smvm::actors
