#pragma once
// A virtio-mmio device in a snapshot: the transport's registers, where the
// device stood in each live queue, and the device's own extra state.

#include "devices/virtio/device_model.hpp"
#include "devices/virtio/mmio_transport.hpp"

#include <cstdint>
#include <vector>

namespace smvm::devices::virtio {

/// One queue slot: live or not, and its cursors. Explicitly padded.
struct saved_queue {
  std::uint16_t next_avail = 0, next_used = 0, signalled_used = 0;
  std::uint8_t live = 0;
  std::uint8_t padding = 0;
};
static_assert(sizeof(saved_queue) == 8);

struct virtio_device_state {
  mmio_transport_state transport;
  std::vector<saved_queue> queues;
  std::vector<std::uint8_t> extra;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.nested("transport", s.transport) && v.list("queues", s.queues) && v.list("extra", s.extra);
  }
};

/// Saves a device whose queues nobody is serving (its workers are paused).
virtio_device_state save_virtio_device(const mmio_transport& transport, device_model& device);

/// Restores into a freshly built transport and device of the same kind: the
/// registers, then activate() as at DRIVER_OK, then the cursors and the
/// extra state. A state that does not fit the device is an error.
result<void> restore_virtio_device(mmio_transport& transport, device_model& device, const virtio_device_state& state);

}  // namespace smvm::devices::virtio
