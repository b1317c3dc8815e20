#pragma once
// The actor of one virtio-mmio device: it owns the transport (register
// window, feature negotiation, status) and its device model's control side,
// and spawns one queue_worker per virtqueue for the data side.
//
// Register accesses arrive as mmio_exit. QueueNotify does not: KVM signals
// the queue's ioeventfd and the notify reactor messages the worker. Before
// While the driver runs, the model's queue servers are lent to the
// workers; before a reset or a snapshot the actor takes each back
// (quiesce), which a worker answers once its request in flight is done, so
// the model is never reset or saved under a request. A worker that does
// not answer in time leaves the device NEEDS_RESET, and a freeze of it
// fails: neither goes on as if the worker had stopped.

#include "actors/deadlines.hpp"
#include "actors/messages.hpp"
#include "actors/switch_registry.hpp"
#include "actors/notify_reactor.hpp"
#include "devices/virtio/device_model.hpp"
#include "devices/virtio/device_state.hpp"
#include "common/unique_fd.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace smvm::actors {

struct virtio_device_spec {
  std::string name;     // "virtio-blk disk[0]", for messages
  std::string section;  // its snapshot section, "virtio.0"
  std::shared_ptr<devices::virtio::device_model> model;
  std::uint64_t base = 0;          // the register window's guest-physical address
  std::uint32_t irq_line = 0;      // bound to an irqfd the irq actor owns
  std::vector<unique_fd> notify_fds;  // one ioeventfd per queue, in order
  bool blocking = false;           // the backend blocks (disk I/O): workers get threads
  /// Host input (console_input) goes to this queue's worker and server.
  std::optional<std::uint16_t> input_queue;
  /// A network card's link: its worker 0 plugs into it.
  std::optional<devices::virtio::frame_link> link;
  /// How long a worker may take to finish its request when paused; one that
  /// does not leaves the device NEEDS_RESET.
  std::chrono::milliseconds pause_deadline = deadlines::queue_pause;
  /// A restored device starts from this state instead of reset.
  std::optional<devices::virtio::virtio_device_state> restored;
};

/// `net`: where a card's link goes (null when the VM has no card).
device_actor spawn_virtio_device(caf::actor_system& system, virtio_device_spec spec, irq_actor irq,
                                 std::shared_ptr<notify_reactor> reactor, machine_actor machine,
                                 std::shared_ptr<switch_registry> net = nullptr);

}  // namespace smvm::actors
