#pragma once
// The header in front of every virtio-net frame (virtio 1.2, section
// 5.1.6): with VIRTIO_F_VERSION_1 it is always 12 bytes, num_buffers
// included. smvm offers no checksum or segmentation offload, so a
// transmitted header must ask for neither; a received one says "one plain
// frame in num_buffers buffers".

#include "common/result.hpp"

#include <cstdint>
#include <span>

namespace smvm::devices::virtio::net {

namespace feature {
inline constexpr std::uint64_t mac = 1ull << 5;        // VIRTIO_NET_F_MAC: config space holds the MAC
inline constexpr std::uint64_t mrg_rxbuf = 1ull << 15; // a received frame may span several buffers
inline constexpr std::uint64_t status = 1ull << 16;    // config space holds the link status
}  // namespace feature

struct header {
  static constexpr std::size_t size = 12;
  std::uint8_t flags = 0;
  std::uint8_t gso_type = 0;
  std::uint16_t hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;
  std::uint16_t num_buffers = 0;

  /// Reads a header from its 12 little-endian bytes.
  static header decode(std::span<const std::uint8_t, size> bytes);
  void encode(std::span<std::uint8_t, size> out) const;
};

/// A header the guest put in front of a frame it sends: what it asks for
/// must be something smvm offered (no checksum to finish, no segmentation).
result<void> check_transmit(const header& h);

/// The largest frame either direction carries: a 64 KiB IP packet, its
/// Ethernet header and a VLAN tag (a guest may raise its MTU that far,
/// since smvm does not announce one).
inline constexpr std::size_t max_frame = 65535 + 14 + 4;
/// The smallest: an Ethernet header.
inline constexpr std::size_t min_frame = 14;

}  // namespace smvm::devices::virtio::net
