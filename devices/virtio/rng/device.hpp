#pragma once
// virtio-rng (virtio 1.2, section 5.4): one queue of device-writable buffers
// that the device fills from the host's random source.

#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"

#include <functional>
#include <optional>

namespace smvm::devices::virtio::rng {

class device final : public device_model {
 public:
  static constexpr std::uint32_t id = 4;
  /// Fills bytes with entropy; the default reads getrandom(2).
  using entropy_fn = std::function<result<void>(std::span<std::uint8_t>)>;
  static result<void> host_entropy(std::span<std::uint8_t> out);

  explicit device(const memory_view& memory, entropy_fn entropy = host_entropy)
      : memory_(memory), entropy_(std::move(entropy)) {}

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override { return virtio::feature::ring_event_idx | virtio::feature::ring_indirect_desc; }
  std::uint16_t queue_count() const override { return 1; }
  std::span<const std::uint8_t> config_space() const override { return {}; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override { queue_.reset(); }

  /// Serves every pending request. True when the driver wants an
  /// interrupt; an error when the driver broke the queue's rules (the
  /// transport then needs a reset).
  result<bool> process();
  result<bool> process_queue(std::uint16_t) override { return process(); }
  std::vector<queue*> queues() override { return {queue_ ? &*queue_ : nullptr}; }

 private:
  const memory_view& memory_;
  entropy_fn entropy_;
  std::optional<queue> queue_;
};

}  // namespace smvm::devices::virtio::rng
