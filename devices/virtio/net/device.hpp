#pragma once
// virtio-net (virtio 1.2, section 5.1): an Ethernet card with a receive
// queue (0) and a transmit queue (1), its MAC and link status in
// configuration space. One worker serves both (frame_server), and its
// frames go to the card's link: a switch port or a NAT, wired by the
// builder.

#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"
#include "devices/virtio/net/frame_server.hpp"

#include <array>
#include <memory>

namespace smvm::devices::virtio::net {

using mac_address = std::array<std::uint8_t, 6>;

class device final : public device_model {
 public:
  static constexpr std::uint32_t id = 1;

  device(const memory_view& memory, mac_address mac);

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override {
    return feature::mac | feature::status | feature::mrg_rxbuf | virtio::feature::ring_event_idx |
           virtio::feature::ring_indirect_desc;
  }
  std::uint16_t queue_count() const override { return 2; }
  /// mac[6], then status (VIRTIO_NET_S_LINK_UP), little-endian.
  std::span<const std::uint8_t> config_space() const override { return config_; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override;
  std::uint16_t worker_of(std::uint16_t) const override { return 0; }
  std::vector<queue*> queues() override;
  // Frames in flight are not kept: a restored card starts with an empty
  // backlog, as a cable pulled and put back would.

 private:
  const memory_view& memory_;
  std::array<std::uint8_t, 8> config_{};
};

/// "02:00:00:00:00:01" as bytes, or an error saying what is wrong with it.
result<mac_address> parse_mac(std::string_view text);

}  // namespace smvm::devices::virtio::net
