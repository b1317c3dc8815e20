#include "devices/virtio/vsock/packet.hpp"

#include <algorithm>
#include <cstring>

namespace smvm::devices::virtio::vsock {

namespace {

template <class T>
void put(std::uint8_t*& at, T value) {
  std::memcpy(at, &value, sizeof value);  // x86-64 only: host order is little-endian
  at += sizeof value;
}
template <class T>
T get(const std::uint8_t*& at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  at += sizeof value;
  return value;
}

/// Copies up to out.size() readable bytes of `c`, starting `skip` bytes in.
std::size_t gather(const chain& c, std::size_t skip, std::span<std::uint8_t> out) {
  std::size_t got = 0;
  for (const auto& b : c.buffers) {
    if (b.device_writable || got == out.size()) continue;
    std::span<const std::uint8_t> bytes = b.bytes;
    if (skip >= bytes.size()) {
      skip -= bytes.size();
      continue;
    }
    bytes = bytes.subspan(skip);
    skip = 0;
    const std::size_t n = std::min(bytes.size(), out.size() - got);
    std::memcpy(out.data() + got, bytes.data(), n);
    got += n;
  }
  return got;
}

const char* op_name(std::uint16_t o) {
  switch (o) {
    case op::request: return "REQUEST";
    case op::response: return "RESPONSE";
    case op::rst: return "RST";
    case op::shutdown: return "SHUTDOWN";
    case op::rw: return "RW";
    case op::credit_update: return "CREDIT_UPDATE";
    case op::credit_request: return "CREDIT_REQUEST";
    default: return nullptr;
  }
}

}  // namespace

void header::encode(std::span<std::uint8_t, size> out) const {
  std::uint8_t* at = out.data();
  put(at, src_cid);
  put(at, dst_cid);
  put(at, src_port);
  put(at, dst_port);
  put(at, len);
  put(at, type);
  put(at, op);
  put(at, flags);
  put(at, buf_alloc);
  put(at, fwd_cnt);
}

header header::decode(std::span<const std::uint8_t, size> in) {
  const std::uint8_t* at = in.data();
  header h;
  h.src_cid = get<std::uint64_t>(at);
  h.dst_cid = get<std::uint64_t>(at);
  h.src_port = get<std::uint32_t>(at);
  h.dst_port = get<std::uint32_t>(at);
  h.len = get<std::uint32_t>(at);
  h.type = get<std::uint16_t>(at);
  h.op = get<std::uint16_t>(at);
  h.flags = get<std::uint32_t>(at);
  h.buf_alloc = get<std::uint32_t>(at);
  h.fwd_cnt = get<std::uint32_t>(at);
  return h;
}

result<guest_packet> read_packet(const chain& c, std::uint64_t guest_cid, header& hdr) {
  std::array<std::uint8_t, header::size> raw{};
  if (gather(c, 0, raw) < raw.size())
    return make_error("a packet of {} readable bytes, shorter than its {}-byte header", c.readable_bytes(),
                      header::size);
  hdr = header::decode(raw);
  if (hdr.type != type_stream) return make_error("socket type {}, not a stream (1)", hdr.type);
  if (!op_name(hdr.op)) return make_error("unknown op {}", hdr.op);
  if (hdr.src_cid != guest_cid) return make_error("source CID {}, not the guest's {}", hdr.src_cid, guest_cid);
  if (hdr.dst_cid != host_cid) return make_error("destination CID {}, not the host's ({})", hdr.dst_cid, host_cid);
  if (hdr.op != op::rw && hdr.len != 0) return make_error("{} with {} bytes of payload", op_name(hdr.op), hdr.len);
  if (hdr.len > max_payload) return make_error("a payload of {} bytes, more than {}", hdr.len, max_payload);
  guest_packet p{hdr, std::vector<std::uint8_t>(hdr.len)};
  if (gather(c, header::size, p.payload) < hdr.len)
    return make_error("a header saying {} bytes of payload in a chain holding {}", hdr.len,
                      c.readable_bytes() - header::size);
  return p;
}

std::size_t payload_room(const chain& c) {
  const std::size_t writable = c.writable_bytes();
  return writable > header::size ? writable - header::size : 0;
}

result<std::uint32_t> write_packet(const chain& c, const header& hdr, std::span<const std::uint8_t> payload) {
  if (c.writable_bytes() < header::size + payload.size())
    return make_error("a receive buffer of {} bytes, too small for a {}-byte header and {} bytes", c.writable_bytes(),
                      header::size, payload.size());
  std::array<std::uint8_t, header::size> raw{};
  hdr.encode(raw);
  std::span<const std::uint8_t> parts[2] = {raw, payload};
  std::size_t part = 0, offset = 0, written = 0;
  for (const auto& b : c.buffers) {
    if (!b.device_writable) continue;
    std::size_t at = 0;
    while (at < b.bytes.size() && part < 2) {
      const std::size_t n = std::min(b.bytes.size() - at, parts[part].size() - offset);
      std::memcpy(b.bytes.data() + at, parts[part].data() + offset, n);
      at += n;
      offset += n;
      written += n;
      if (offset == parts[part].size()) ++part, offset = 0;
    }
  }
  return static_cast<std::uint32_t>(written);
}

}  // namespace smvm::devices::virtio::vsock
