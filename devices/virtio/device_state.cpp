#include "devices/virtio/device_state.hpp"

namespace smvm::devices::virtio {

static_assert(persistent<device_part>);

virtio_device_state device_part::save() const {
  auto& transport = transport_;
  auto& device = model_;
  virtio_device_state s;
  s.transport = transport.save();
  for (queue* q : device.queues()) {
    saved_queue saved;
    if (q) {
      const auto c = q->cursors();
      saved = {c.next_avail, c.next_used, c.signalled_used, 1, 0};
    }
    s.queues.push_back(saved);
  }
  s.extra = device.save_extra();
  return s;
}

result<void> device_part::restore(const virtio_device_state& s) {
  auto& transport = transport_;
  auto& device = model_;
  const auto where = [&](result<void> r) {
    return with_context(std::move(r), fmt::format("restoring virtio device {}", device.device_id()));
  };
  if (auto r = transport.restore(s.transport); !r) return r;
  if (transport.active())
    if (auto r = device.activate(transport.negotiated_features(), transport.live_queues()); !r) return where(r);
  const auto queues = device.queues();
  if (s.queues.size() != queues.size())
    return where(make_error("{} queue slots saved, the device has {}", s.queues.size(), queues.size()));
  for (std::size_t i = 0; i < queues.size(); ++i) {
    if (s.queues[i].live > 1 || (s.queues[i].live == 1) != (queues[i] != nullptr))
      return where(make_error("queue {} was {} but is {} after activation", i, s.queues[i].live ? "live" : "not live",
                              queues[i] ? "live" : "not live"));
    if (queues[i]) queues[i]->restore({s.queues[i].next_avail, s.queues[i].next_used, s.queues[i].signalled_used});
  }
  return where(device.restore_extra(s.extra));
}

}  // namespace smvm::devices::virtio
