#pragma once
// virtio-rng (virtio 1.2, section 5.4): one queue of device-writable buffers
// that the device fills from the host's random source.

#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"

#include <functional>
#include <optional>

namespace smvm::devices::virtio::rng {

/// Fills bytes with entropy.
using entropy_fn = std::function<result<void>(std::span<std::uint8_t>)>;

/// The request queue and the entropy source: what its worker holds.
class request_server final : public queue_server {
 public:
  explicit request_server(entropy_fn entropy) : entropy_(std::move(entropy)) {}
  result<bool> serve(std::uint16_t index) override;

  std::optional<queue> requests;

 private:
  entropy_fn entropy_;
};

class device final : public device_model {
 public:
  static constexpr std::uint32_t id = 4;
  /// The default source: getrandom(2).
  static result<void> host_entropy(std::span<std::uint8_t> out);

  explicit device(const memory_view& memory, entropy_fn entropy = host_entropy);

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override { return virtio::feature::ring_event_idx | virtio::feature::ring_indirect_desc; }
  std::uint16_t queue_count() const override { return 1; }
  std::span<const std::uint8_t> config_space() const override { return {}; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override;
  std::vector<queue*> queues() override;

 private:
  const memory_view& memory_;
};

}  // namespace smvm::devices::virtio::rng
