#pragma once
// The queue_worker actor: serves virtqueues of one virtio device (one, or
// those the model groups under one worker). It calls the device model's
// process_queue() when the driver notifies, and raises the device's
// interrupt when the driver wants one.
//
// The device actor owns activation and reset; it pauses every worker of the
// device before either, so the model is never set up and served at once.

#include "actors/messages.hpp"
#include "devices/virtio/device_model.hpp"
#include "devices/virtio/interrupt.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace smvm::actors {

struct queue_worker_spec {
  std::shared_ptr<devices::virtio::device_model> model;
  /// The queues this worker serves (those the model's worker_of() gives it).
  std::vector<std::uint16_t> queues;
  std::shared_ptr<devices::virtio::interrupt> irq;
  /// Where queue_failed goes; weak, so worker and device hold no cycle.
  caf::actor_addr device;
  /// Host input for queue `input_queue` (virtio-console's receiveq): hands
  /// bytes to the model and says how many it took. Empty for other workers.
  std::function<std::size_t(std::span<const std::uint8_t>)> input;
  std::uint16_t input_queue = 0;
  /// Blocking backends (disk I/O) get a thread of their own.
  bool blocking = false;
};

/// Spawned paused: it serves nothing until the device resumes it.
queue_worker_actor spawn_queue_worker(caf::actor_system& system, queue_worker_spec spec);

}  // namespace smvm::actors
