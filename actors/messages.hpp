#pragma once
// Every message smvm's actors exchange, and who answers it. This is the one
// page to read to learn the protocol.
//
//   sender            message            receiver        reply
//   ----------------  -----------------  --------------  ------------------------
//   vcpu              pio_exit (read)    device          uint64_t: the value read
//   vcpu              pio_exit (write)   device          none (sent anonymously;
//                                                        ordered per sender)
//   vcpu              mmio_exit          device          as pio_exit
//   console pump      console_input      device          none (a virtio console
//                                                        passes it to its receive
//                                                        queue's worker)
//   device            irq_line           irq             none (level: the UART)
//   notify reactor,   queue_notify       queue_worker    none
//   device
//   notify reactor    backend_atom       queue_worker    none; its server's backend
//                                                        (vsock's sockets) has work;
//                                                        the worker re-arms the watch
//   queue_worker      queue_notify       device          none; a sibling queue
//                                                        needs serving: the device
//                                                        passes it on
//   queue_worker      irq_raise          irq             none (an irqfd pulse)
//   queue_worker      queue_failed       device          none; the device sets
//                                                        NEEDS_RESET
//   device            queue_lease        queue_worker    none; the worker serves its
//                                                        queues with the server lent
//   device            quiesce_atom       lease collector queue_leases: the servers
//                                                        back by its deadline
//   lease collector   quiesce_atom       queue_worker    queue_lease: the server
//                                                        handed back, once no request
//                                                        is in flight; it then takes
//                                                        no descriptors
//   lease collector   queue_lease        device          none; a server handed back
//                                                        after the deadline
//   device, vcpu,     guest_stop         machine         none
//   signal watcher
//   machine           stop_atom          vcpu            none; the vcpu leaves
//                                                        KVM_RUN and terminates
//   machine           sync_atom          device          bool, after every earlier
//                                                        message was handled
//   signal watcher    workload_signal    machine         none; the machine passes it
//                                                        to the workload (smvm run)
//                                                        and stops the VM if the
//                                                        guest has not ended in 10 s
//   run_vm            run_atom           machine         int: the exit status,
//                                                        once the VM has ended
//   snapshot port     ready_atom         machine         none; the machine takes
//   device                                               vm.toml's [snapshot]
//   control socket    snapshot_request   machine         as the snapshotter's
//   control socket    pause_atom,        machine         bool, passed on to the
//                     resume_atom                        snapshotter
//   control socket    status_atom        machine         string: "running", "paused"
//   machine, control  snapshot_request   snapshotter     string: the path written, once
//   socket                                               the state and memory files are
//                                                        renamed into place; or an error
//   snapshotter       freeze_atom        vcpu            saved_section: the vCPU's state,
//                                                        once out of KVM_RUN with its
//                                                        last exit completed; it then
//                                                        waits for thaw or stop
//   snapshotter       thaw_atom          vcpu            none; back into KVM_RUN
//   snapshotter       freeze_atom        device          saved_section: the device's
//                                                        state, once its workers are
//                                                        idle; it then takes no
//                                                        descriptors until thaw
//   snapshotter       thaw_atom          device          none; it goes on
//   queue_worker      port_attach        switch          none; a card's worker plugs
//                                                        into the port it was given
//   queue_worker      net_frames         switch          none; frames a guest sent,
//                                                        within the port's credit
//   switch            net_frames         queue_worker    none; frames for the guest,
//                                                        within the card's credit
//   control socket    link_settings      switch          bool: false for no such port
//   control socket    stats_atom         switch          switch_stats

#include "network/impairment.hpp"

#include <caf/all.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace smvm::devices::virtio {
class queue_server;
}

namespace smvm::actors {

/// smvm's own failures (bad config, no KVM, a crashed vCPU) exit with this,
/// as Docker's do; guest statuses are 0-255 and pass through unchanged.
inline constexpr int smvm_failure_status = 125;

/// A guest access to an I/O port, as KVM_EXIT_IO reports it.
struct pio_exit {
  std::uint16_t port = 0;
  std::uint8_t size = 0;  // 1, 2 or 4
  bool is_write = false;
  std::uint64_t data = 0;  // the value written; unused for a read
};

/// A guest access to an address no RAM backs, as KVM_EXIT_MMIO reports it.
struct mmio_exit {
  std::uint64_t address = 0;
  std::uint8_t size = 0;  // 1, 2, 4 or 8
  bool is_write = false;
  std::uint64_t data = 0;
};

/// A signal smvm received, for the workload of a `smvm run` guest.
struct workload_signal {
  std::int32_t number = 0;
};

/// Host bytes for a console device to hand to the guest.
struct console_input {
  std::vector<std::uint8_t> bytes;
};

/// The level of one interrupt line of the in-kernel irqchip.
struct irq_line {
  std::uint32_t line = 0;
  bool high = false;
};

/// The driver made buffers available on virtqueue `queue` (a QueueNotify
/// write, caught by an ioeventfd or trapped as an MMIO write).
struct queue_notify {
  std::uint16_t queue = 0;
};

/// Pulse an edge-triggered interrupt line through its irqfd.
struct irq_raise {
  std::uint32_t line = 0;
};

/// A virtqueue's worker met a request that broke the queue's rules.
struct queue_failed {
  std::uint16_t queue = 0;
  std::string description;
};

/// A virtio device's queue server (devices/virtio/queue_server.hpp), lent
/// to its worker `worker` or handed back by it. Whoever sent it keeps no
/// copy: the server has one user at a time. Null: nothing lent (a worker
/// that held nothing). It never leaves the process.
struct queue_lease {
  std::uint16_t worker = 0;
  std::shared_ptr<devices::virtio::queue_server> server;
};

/// The servers a lease collector took back, in worker order (a worker that
/// has not answered by the deadline is missing).
struct queue_leases {
  std::vector<queue_lease> leases;
};

/// One part's state in a snapshot: the section name ("vcpu.0", "serial")
/// and its bytes (common/state_codec.hpp).
struct saved_section {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

/// Take a snapshot to `path` (and guest memory to `path`.mem); leave the
/// VM frozen afterwards (the caller then stops it) or let it run on.
struct snapshot_request {
  std::string path;
  bool leave_frozen = false;
};

/// How much a receiver's mailbox may hold of frames sent to it (bytes,
/// counting each frame's bookkeeping too); senders drop what does not fit,
/// as a full queue on a wire would, and the receiver gives the room back
/// as it handles them. Shared by a sender and its receiver only.
class frame_credit {
 public:
  explicit frame_credit(std::size_t limit) : limit_(limit) {}
  /// Room for a frame of `bytes`: true and taken, or false and counted as a drop.
  bool take(std::size_t bytes);
  void give_back(std::size_t bytes) { used_.fetch_sub(bytes + overhead); }
  std::uint64_t dropped() const { return dropped_.load(); }
  static constexpr std::size_t overhead = 64;

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

/// Ethernet frames on a link: from a card's worker to its switch port
/// (`port`), or from the switch to the card (`port` unused). Sent within
/// the receiver's frame_credit, which it gives back on handling them.
struct net_frames {
  std::uint32_t port = 0;
  std::vector<std::vector<std::uint8_t>> frames;
};

/// A card's worker plugs into `port` of a switch: frames for the card go
/// to `card` within `card_credit`; the card's frames come within
/// `port_credit`. In process only, like queue_lease.
struct port_attach {
  std::uint32_t port = 0;
  std::string name;  // "vm1 net[0] 02:00:00:00:00:01", for messages and stats
  caf::actor card;
  std::shared_ptr<frame_credit> card_credit, port_credit;
};

/// New impairments for the link of a switch's port (network/impairment.hpp),
/// both ways.
struct link_settings {
  std::uint32_t port = 0;
  network::impairment_config config;
};

/// One port's counters: frames from its card (in) and to it (out).
struct port_stats {
  std::uint32_t port = 0;
  std::string name;
  std::uint64_t in_frames = 0, in_bytes = 0, out_frames = 0, out_bytes = 0;
  std::uint64_t dropped = 0;  // a full queue or credit, either way
  std::uint64_t lost = 0;     // by the link's impairments (loss, down), either way
};

struct switch_stats {
  std::vector<port_stats> ports;
};

/// Why a VM ends. `exit_status` becomes smvm's exit status.
struct guest_stop {
  std::int32_t exit_status = 0;
  bool failure = false;     // true: `description` is an error for stderr
  std::string description;  // "the guest reported status 3", "KVM_RUN: ..."
  bool by_host = false;     // true: smvm's side ended the VM (a signal), not the guest
  bool noted = false;       // true: `description` goes to stderr though the status is the guest's
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pio_exit& x) {
  return f(caf::meta::type_name("pio_exit"), x.port, x.size, x.is_write, x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mmio_exit& x) {
  return f(caf::meta::type_name("mmio_exit"), x.address, x.size, x.is_write, x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, workload_signal& x) {
  return f(caf::meta::type_name("workload_signal"), x.number);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, console_input& x) {
  return f(caf::meta::type_name("console_input"), x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, irq_line& x) {
  return f(caf::meta::type_name("irq_line"), x.line, x.high);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_notify& x) {
  return f(caf::meta::type_name("queue_notify"), x.queue);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, irq_raise& x) {
  return f(caf::meta::type_name("irq_raise"), x.line);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_failed& x) {
  return f(caf::meta::type_name("queue_failed"), x.queue, x.description);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_lease& x) {
  return f(caf::meta::type_name("queue_lease"), x.worker);  // the server is not data
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, queue_leases& x) {
  return f(caf::meta::type_name("queue_leases"), x.leases);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot_request& x) {
  return f(caf::meta::type_name("snapshot_request"), x.path, x.leave_frozen);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, saved_section& x) {
  return f(caf::meta::type_name("saved_section"), x.name, x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, net_frames& x) {
  return f(caf::meta::type_name("net_frames"), x.port, x.frames);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, port_attach& x) {
  return f(caf::meta::type_name("port_attach"), x.port, x.name);  // the handles are not data
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_settings& x) {
  auto& c = x.config;
  return f(caf::meta::type_name("link_settings"), x.port, c.delay_us, c.jitter_us, c.loss, c.duplicate, c.reorder,
           c.rate_bits, c.down, c.seed);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, port_stats& x) {
  return f(caf::meta::type_name("port_stats"), x.port, x.name, x.in_frames, x.in_bytes, x.out_frames, x.out_bytes,
           x.dropped, x.lost);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, switch_stats& x) {
  return f(caf::meta::type_name("switch_stats"), x.ports);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_stop& x) {
  return f(caf::meta::type_name("guest_stop"), x.exit_status, x.failure, x.description, x.by_host,
           x.noted);
}

}  // namespace smvm::actors

CAF_BEGIN_TYPE_ID_BLOCK(smvm, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(smvm, (smvm::actors::pio_exit))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::mmio_exit))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::console_input))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::workload_signal))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::irq_line))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::guest_stop))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::queue_notify))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::irq_raise))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::queue_failed))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::queue_lease))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::queue_leases))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::saved_section))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::snapshot_request))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::net_frames))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::port_attach))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::link_settings))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::port_stats))
CAF_ADD_TYPE_ID(smvm, (smvm::actors::switch_stats))
CAF_ADD_ATOM(smvm, smvm::actors, run_atom, "run")
CAF_ADD_ATOM(smvm, smvm::actors, stop_atom, "stop")
CAF_ADD_ATOM(smvm, smvm::actors, sync_atom, "sync")
CAF_ADD_ATOM(smvm, smvm::actors, pause_atom, "pause")
CAF_ADD_ATOM(smvm, smvm::actors, resume_atom, "resume")
CAF_ADD_ATOM(smvm, smvm::actors, freeze_atom, "freeze")
CAF_ADD_ATOM(smvm, smvm::actors, thaw_atom, "thaw")
CAF_ADD_ATOM(smvm, smvm::actors, quiesce_atom, "quiesce")
CAF_ADD_ATOM(smvm, smvm::actors, backend_atom, "backend")
CAF_ADD_ATOM(smvm, smvm::actors, ready_atom, "ready")
CAF_ADD_ATOM(smvm, smvm::actors, status_atom, "status")
CAF_ADD_ATOM(smvm, smvm::actors, stats_atom, "stats")
CAF_ADD_ATOM(smvm, smvm::actors, tick_atom, "tick")
CAF_END_TYPE_ID_BLOCK(smvm)

namespace smvm::actors {

// Interfaces: each a few messages that mean one thing. An actor's handle
// type is the sum of the interfaces it serves (extend_with), and whoever
// holds a handle holds only the interface it uses, so a test's stand-in
// implements only what it stands in for.

/// Port I/O and MMIO on a register window: what a vCPU's buses hold.
using register_window = caf::typed_actor<caf::replies_to<pio_exit>::with<std::uint64_t>,
                                         caf::replies_to<mmio_exit>::with<std::uint64_t>>;
/// Host console bytes for the guest: what the console pump and the
/// workload's signals go to.
using console_port = caf::typed_actor<caf::reacts_to<console_input>>;
/// What a virtio device's queue workers tell it (a server handed back
/// after its collector's deadline comes as a plain queue_lease).
using queue_events =
  caf::typed_actor<caf::reacts_to<queue_failed>, caf::reacts_to<queue_notify>, caf::reacts_to<queue_lease>>;
/// Answers once every earlier message is handled: the machine's last wait
/// before it exits.
using syncable = caf::typed_actor<caf::replies_to<sync_atom>::with<bool>>;
/// Stops and answers with its saved state, then waits for thaw: what the
/// snapshotter drives, vCPUs and devices alike.
using freezable = caf::typed_actor<caf::replies_to<freeze_atom>::with<saved_section>, caf::reacts_to<thaw_atom>>;

/// A device model behind its actor.
using device_actor = register_window::extend_with<console_port, queue_events, syncable, freezable>;

/// A vCPU. Its actor is a detached blocking actor (it sits in KVM_RUN), so
/// it is untyped inside; this handle is what the machine and the
/// snapshotter may send it.
using vcpu_handle = freezable::extend<caf::reacts_to<stop_atom>>;

/// Takes Ethernet frames: a card's worker, a switch, a NAT.
using frame_port = caf::typed_actor<caf::reacts_to<net_frames>>;

/// What a network card plugs into: a switch (or a NAT) that takes its
/// frames and the port_attach that tells where to send the card's.
using link_peer = frame_port::extend<caf::reacts_to<port_attach>>;

/// The serving of one virtio device's queues that share a server.
using queue_worker_actor = caf::typed_actor<caf::reacts_to<queue_notify>,
                                            caf::reacts_to<console_input>,
                                            caf::reacts_to<queue_lease>,
                                            caf::replies_to<quiesce_atom>::with<queue_lease>,
                                            caf::reacts_to<backend_atom>>::extend_with<frame_port>;

/// An L2 segment of this process: cards plug into its ports; it learns
/// where each MAC is, floods what it does not know, and impairs links as
/// told. tick_atom: its own timer, for impaired links' frames.
using switch_actor = link_peer::extend<caf::replies_to<link_settings>::with<bool>,
                                        caf::replies_to<stats_atom>::with<switch_stats>,
                                        caf::reacts_to<tick_atom>>;

/// Takes one device's queue servers back from its workers (quiesce) and
/// answers with those back by its deadline; later ones go to the device.
/// timeout_atom: its own deadline, sent to itself.
using lease_collector_actor =
  caf::typed_actor<caf::replies_to<quiesce_atom>::with<queue_leases>, caf::reacts_to<caf::timeout_atom>>;

/// The quiesce-then-serialize protocol for one VM: replies with the path
/// written, or an error naming the step and the part that failed.
/// pause: true once every part is frozen; resume: true if it was paused.
using snapshotter_actor = caf::typed_actor<caf::replies_to<snapshot_request>::with<std::string>,
                                           caf::replies_to<pause_atom>::with<bool>,
                                           caf::replies_to<resume_atom>::with<bool>>;

/// The interrupt lines of one VM.
using irq_actor = caf::typed_actor<caf::reacts_to<irq_line>, caf::reacts_to<irq_raise>>;

/// The supervisor of one VM.
using machine_actor = caf::typed_actor<caf::replies_to<run_atom>::with<std::int32_t>,
                                       caf::reacts_to<guest_stop>, caf::reacts_to<workload_signal>,
                                       caf::reacts_to<ready_atom>,
                                       caf::replies_to<snapshot_request>::with<std::string>,
                                       caf::replies_to<pause_atom>::with<bool>,
                                       caf::replies_to<resume_atom>::with<bool>,
                                       caf::replies_to<status_atom>::with<std::string>>;

/// An actor system configuration with smvm's message types and the
/// scheduler tuned for latency (see ARCHITECTURE.md).
void configure(caf::actor_system_config& config);

/// The text of an error an actor answered with: the reason it was made
/// with, without CAF's wrapping.
std::string error_text(const caf::error& e);

}  // namespace smvm::actors
