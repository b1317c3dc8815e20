#include "devices/virtio/net/header.hpp"

namespace smvm::devices::virtio::net {

namespace {

std::uint16_t load16(std::span<const std::uint8_t, header::size> b, std::size_t at) {
  return static_cast<std::uint16_t>(b[at] | b[at + 1] << 8);
}

void store16(std::span<std::uint8_t, header::size> b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::uint8_t>(v);
  b[at + 1] = static_cast<std::uint8_t>(v >> 8);
}

}  // namespace

header header::decode(std::span<const std::uint8_t, size> b) {
  return {b[0], b[1], load16(b, 2), load16(b, 4), load16(b, 6), load16(b, 8), load16(b, 10)};
}

void header::encode(std::span<std::uint8_t, size> out) const {
  out[0] = flags;
  out[1] = gso_type;
  store16(out, 2, hdr_len);
  store16(out, 4, gso_size);
  store16(out, 6, csum_start);
  store16(out, 8, csum_offset);
  store16(out, 10, num_buffers);
}

result<void> check_transmit(const header& h) {
  // VIRTIO_NET_HDR_F_NEEDS_CSUM needs VIRTIO_NET_F_CSUM, any gso_type but
  // VIRTIO_NET_HDR_GSO_NONE a GSO feature: smvm offered neither.
  if (h.flags != 0) return make_error("a transmit header with flags {:#x}, though no checksum offload was offered", h.flags);
  if (h.gso_type != 0)
    return make_error("a transmit header with gso_type {}, though no segmentation offload was offered", h.gso_type);
  return {};
}

}  // namespace smvm::devices::virtio::net
