#pragma once
// What a virtio device (blk, rng, console...) offers its transport.

#include "common/result.hpp"
#include "devices/virtio/queue.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace smvm::devices::virtio {

namespace feature {
inline constexpr std::uint64_t ring_indirect_desc = 1ull << 28;
inline constexpr std::uint64_t ring_event_idx = 1ull << 29;
inline constexpr std::uint64_t version_1 = 1ull << 32;
}  // namespace feature

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
  /// Serves what the driver made available on queue `index` since the last
  /// call. True when the driver wants an interrupt; an error when it broke
  /// the queue's rules (the transport then needs a reset). Callers make sure
  /// this never runs at the same time as activate() or reset(), and that
  /// queues with the same worker_of() are never served at once.
  virtual result<bool> process_queue(std::uint16_t index) = 0;
  /// Queues (a bit each) that process_queue() found need serving though
  /// the driver did not notify them (the console's receive queue, once the
  /// guest connects). Reading clears them; it is called right after
  /// process_queue(), by the same worker.
  virtual std::uint32_t take_wakeups() { return 0; }
  /// Which queue worker serves queue `index`. Queues whose serving shares
  /// state (the console's receive and control queues) name the same worker,
  /// so that state is owned by one actor and needs no lock; a device's
  /// workers are numbered from 0 with no gap. By default each queue has a
  /// worker of its own.
  virtual std::uint16_t worker_of(std::uint16_t index) const { return index; }

  /// The device's queues in queue order, nullptr where a queue is not live,
  /// for a snapshot. Callers make sure no queue is being served.
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
};

}  // namespace smvm::devices::virtio
