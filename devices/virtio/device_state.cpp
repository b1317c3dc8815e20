#include "devices/virtio/device_state.hpp"

namespace smvm::devices::virtio {

static_assert(persistent<device_part>);

virtio_device_state device_part::save() const {
  virtio_device_state s;
  s.transport = transport_.save();
  for (queue* q : model_.queues()) {
    saved_queue saved;
    if (q) {
      const auto c = q->cursors();
      saved = {c.next_avail, c.next_used, c.signalled_used, 1, 0};
    }
    s.queues.push_back(saved);
  }
  s.extra = model_.save_extra();
  return s;
}

result<void> device_part::restore(const virtio_device_state& s) {
  const auto where = [&](result<void> r) {
    return with_context(std::move(r), fmt::format("restoring virtio device {}", model_.device_id()));
  };
  if (auto r = transport_.restore(s.transport); !r) return r;
  if (transport_.active())
    if (auto r = model_.activate(transport_.negotiated_features(), transport_.live_queues()); !r) return where(r);
  const auto queues = model_.queues();
  if (s.queues.size() != queues.size())
    return where(make_error("{} queue slots saved, the device has {}", s.queues.size(), queues.size()));
  for (std::size_t i = 0; i < queues.size(); ++i) {
    if (s.queues[i].live > 1 || (s.queues[i].live == 1) != (queues[i] != nullptr))
      return where(make_error("queue {} was {} but is {} after activation", i, s.queues[i].live ? "live" : "not live",
                              queues[i] ? "live" : "not live"));
    if (queues[i]) queues[i]->restore({s.queues[i].next_avail, s.queues[i].next_used, s.queues[i].signalled_used});
  }
  return where(model_.restore_extra(s.extra));
}

}  // namespace smvm::devices::virtio
