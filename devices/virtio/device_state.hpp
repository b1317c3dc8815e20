#pragma once
// A virtio-mmio device in a snapshot: the transport's registers, where the
// device stood in each live queue, and the device's own extra state.

#include "common/persist.hpp"
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

/// A virtio-mmio device as one part of a snapshot (common/persist.hpp):
/// its transport and model together.
class device_part {
 public:
  using saved_state = virtio_device_state;
  device_part(mmio_transport& transport, device_model& model) : transport_(transport), model_(model) {}

  /// Saves a device whose queues nobody is serving (its workers are paused).
  saved_state save() const;
  /// Restores into a freshly built transport and device of the same kind:
  /// the registers, then activate() as at DRIVER_OK, then the cursors and
  /// the extra state. A state that does not fit the device is an error.
  result<void> restore(const saved_state& state);

 private:
  mmio_transport& transport_;
  device_model& model_;
};

}  // namespace smvm::devices::virtio
