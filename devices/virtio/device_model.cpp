#include "devices/virtio/device_model.hpp"

#include <algorithm>

namespace smvm::devices::virtio {

std::shared_ptr<queue_server> device_model::lend(std::uint16_t worker) {
  if (worker >= servers_.size()) return nullptr;
  return std::move(servers_[worker]);
}

void device_model::take_back(std::uint16_t worker, std::shared_ptr<queue_server> server) {
  if (worker < servers_.size() && !servers_[worker]) servers_[worker] = std::move(server);
}

bool device_model::all_home() const {
  return std::all_of(servers_.begin(), servers_.end(), [](const auto& s) { return s != nullptr; });
}

result<bool> device_model::process_queue(std::uint16_t index) {
  const std::uint16_t worker = worker_of(index);
  if (index >= queue_count() || worker >= servers_.size())
    return make_error("virtio device {}: no queue {}", device_id(), index);
  if (!servers_[worker]) return make_error("virtio device {}: queue {} is lent to its worker", device_id(), index);
  return servers_[worker]->serve(index);
}

std::uint32_t device_model::take_wakeups() {
  std::uint32_t wakeups = 0;
  for (auto& s : servers_)
    if (s) wakeups |= s->take_wakeups();
  return wakeups;
}

}  // namespace smvm::devices::virtio
