#pragma once
// The queue_worker actor: serves the virtqueues of one virtio device that
// share a queue server (one queue, or those the model groups under one
// worker). The device lends it the server when the driver is running and
// takes it back (quiesce) before a reset or a snapshot; only the holder
// touches the server, so the device model needs no lock. The worker calls
// the server when the driver notifies and raises the device's interrupt
// when the driver wants one.

#include "actors/messages.hpp"
#include "actors/switch_registry.hpp"
#include "devices/virtio/interrupt.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace smvm::actors {

struct queue_worker_spec {
  /// The queues this worker serves (those the model's worker_of() gives it).
  std::vector<std::uint16_t> queues;
  std::shared_ptr<devices::virtio::interrupt> irq;
  /// Where queue_failed goes; weak, so worker and device hold no cycle.
  caf::actor_addr device;
  /// The queue host input (console_input) is for, when it is one of this
  /// worker's: the input waits here until the server takes it.
  std::optional<std::uint16_t> input_queue;
  /// Blocking backends (disk I/O) get a thread of their own.
  bool blocking = false;
  /// What a lent server points into (guest memory), kept alive as long as
  /// the worker, which may outlive its device by one message.
  std::shared_ptr<const void> keep_alive;
  /// For a server with a backend (queue_server::backend_fd()): watches it
  /// again after a backend_atom. Empty for the others. The watch starts
  /// armed.
  std::function<void()> rearm_backend;
  /// A network card's worker: the switch port its guest's frames go to.
  /// It plugs in (port_attach) when spawned.
  std::optional<card_link> link = std::nullopt;
};

/// Room for frames in a card worker's mailbox.
inline constexpr std::size_t card_credit_bytes = 4u << 20;

/// Spawned holding nothing: it serves nothing until the device lends it
/// its server.
queue_worker_actor spawn_queue_worker(caf::actor_system& system, queue_worker_spec spec);

}  // namespace smvm::actors
