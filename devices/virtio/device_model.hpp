#pragma once
// What a virtio device (blk, rng, console...) offers its transport, and the
// queue servers it lends its queue workers.

#include "common/result.hpp"
#include "devices/virtio/queue.hpp"
#include "devices/virtio/queue_server.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace smvm::devices::virtio {

namespace feature {
inline constexpr std::uint64_t ring_indirect_desc = 1ull << 28;
inline constexpr std::uint64_t ring_event_idx = 1ull << 29;
inline constexpr std::uint64_t version_1 = 1ull << 32;
}  // namespace feature

/// A device's control side (identity, features, configuration space,
/// activation and reset) and its queue servers, one per worker. activate(),
/// reset(), queues() and the saved state need every server home: the
/// device actor takes them back from its workers first.
class device_model {
 public:
  virtual ~device_model() = default;
  virtual std::uint32_t device_id() const = 0;
  /// Device-specific features; the transport adds VERSION_1.
  virtual std::uint64_t device_features() const = 0;
  /// How many queues, each at most max_queue_size entries.
  virtual std::uint16_t queue_count() const = 0;
  /// The device's configuration space as it reads now.
  virtual std::span<const std::uint8_t> config_space() const = 0;
  /// A driver write into configuration space (most devices ignore them).
  virtual void write_config(std::uint32_t /*offset*/, std::span<const std::uint8_t> /*bytes*/) {}
  /// The driver set DRIVER_OK with these features and queues.
  virtual result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) = 0;
  /// The driver wrote 0 to Status: forget everything activate() set up.
  virtual void reset() = 0;
  /// Which worker's server serves queue `index`. Queues whose serving
  /// shares state (the console's receive and control queues) name the same
  /// one, so that state has one owner; workers are numbered from 0 with no
  /// gap, one per server. By default each queue has a worker of its own.
  virtual std::uint16_t worker_of(std::uint16_t index) const { return index; }

  /// The device's queues in queue order, nullptr where a queue is not live,
  /// for a snapshot.
  virtual std::vector<queue*> queues() = 0;
  /// State beyond the queues (the console's connection and waiting input),
  /// as a snapshot section's bytes; most devices have none.
  virtual std::vector<std::uint8_t> save_extra() const { return {}; }
  /// Takes what save_extra() gave, after activate() and the queue cursors.
  /// The bytes come from a file: check them.
  virtual result<void> restore_extra(std::span<const std::uint8_t> bytes) {
    if (!bytes.empty()) return make_error("virtio device {}: {} bytes of state it does not keep", device_id(), bytes.size());
    return {};
  }

  /// How many queue servers (and so workers) the device has.
  std::uint16_t server_count() const { return static_cast<std::uint16_t>(servers_.size()); }
  /// Lends worker `worker` its server; null when it is lent already or
  /// there is no such worker.
  std::shared_ptr<queue_server> lend(std::uint16_t worker);
  /// Takes back a server lend() gave `worker` (its holder keeps no copy).
  void take_back(std::uint16_t worker, std::shared_ptr<queue_server> server);
  /// Every server is home: the model may be activated, reset or saved.
  bool all_home() const;
  /// Worker `worker`'s server's backend_fd() (while home), or -1.
  int backend_fd(std::uint16_t worker) const {
    return worker < servers_.size() && servers_[worker] ? servers_[worker]->backend_fd() : -1;
  }

  /// Serves queue `index` with its server, which must be home: for a
  /// caller that lends nothing (tests, tools). Like queue_server::serve().
  result<bool> process_queue(std::uint16_t index);
  /// The wakeups of every server at home (queue_server::take_wakeups()).
  std::uint32_t take_wakeups();

 protected:
  /// A kind's constructor hands over its servers, worker 0 first.
  void set_servers(std::vector<std::shared_ptr<queue_server>> servers) { servers_ = std::move(servers); }
  /// Worker `worker`'s server while home, as the kind made it; null while
  /// lent, so a model can never touch what a worker holds.
  template <class Server>
  Server* home(std::uint16_t worker) const {
    return worker < servers_.size() ? static_cast<Server*>(servers_[worker].get()) : nullptr;
  }

 private:
  std::vector<std::shared_ptr<queue_server>> servers_;
};

}  // namespace smvm::devices::virtio
