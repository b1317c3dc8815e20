#pragma once
// virtio-vsock packets (virtio 1.2, section 5.10.6): the 44-byte header in
// front of every packet on the receive and transmit queues, and how one is
// read from a guest's transmit chain or written into a receive chain.
//
// Every field of a guest's header is checked before anything acts on it:
// a bad packet is an error for that packet (the device answers with a
// reset of that connection), never more.

#include "common/result.hpp"
#include "devices/virtio/queue.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace smvm::devices::virtio::vsock {

/// The host's CID, where a guest connects to reach smvm's Unix sockets.
inline constexpr std::uint64_t host_cid = 2;
/// The most payload one packet carries (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE).
inline constexpr std::uint32_t max_payload = 64 * 1024;

namespace op {
inline constexpr std::uint16_t request = 1, response = 2, rst = 3, shutdown = 4, rw = 5, credit_update = 6,
                               credit_request = 7;
}
inline constexpr std::uint16_t type_stream = 1;
namespace shutdown_flag {
inline constexpr std::uint32_t receive = 1, send = 2, both = 3;
}

/// struct virtio_vsock_hdr, in host order.
struct header {
  std::uint64_t src_cid = 0, dst_cid = 0;
  std::uint32_t src_port = 0, dst_port = 0;
  std::uint32_t len = 0;
  std::uint16_t type = type_stream, op = 0;
  std::uint32_t flags = 0;
  std::uint32_t buf_alloc = 0, fwd_cnt = 0;

  static constexpr std::size_t size = 44;
  void encode(std::span<std::uint8_t, size> out) const;
  static header decode(std::span<const std::uint8_t, size> in);
};

/// A packet the guest sent: its header and payload, copied out of guest
/// memory (at most max_payload bytes).
struct guest_packet {
  header hdr;
  std::vector<std::uint8_t> payload;
};

/// Reads a packet from a transmit chain, checking it against the guest's
/// CID: a stream packet from `guest_cid` to the host, a known op, a length
/// that the chain holds and no more than max_payload. The error says which
/// rule it broke; `hdr` is filled as far as it could be read, so the
/// caller can reset the connection it names.
result<guest_packet> read_packet(const chain& c, std::uint64_t guest_cid, header& hdr);

/// Writes `hdr` and `payload` into a receive chain's writable buffers;
/// returns the bytes written, or an error when they do not fit.
result<std::uint32_t> write_packet(const chain& c, const header& hdr, std::span<const std::uint8_t> payload);

/// The room a receive chain has for payload after the header.
std::size_t payload_room(const chain& c);

}  // namespace smvm::devices::virtio::vsock
