#include "devices/virtio/blk/request.hpp"

#include <fmt/format.h>

#include <cstring>

namespace smvm::devices::virtio::blk {

namespace {

constexpr std::size_t header_bytes = 16;

/// The bytes of the chain's readable (or writable) buffers, in order, with
/// the first `skip` bytes and the last `drop` bytes left out.
std::vector<std::span<std::uint8_t>> spans(const chain& c, bool writable, std::size_t skip, std::size_t drop,
                                           std::uint64_t& total) {
  std::size_t available = writable ? c.writable_bytes() : c.readable_bytes();
  std::size_t end = available - std::min(available, drop);
  std::vector<std::span<std::uint8_t>> out;
  std::size_t at = 0;
  total = 0;
  for (auto& b : c.buffers) {
    if (b.device_writable != writable) continue;
    std::size_t from = std::max(at, skip), to = std::min(at + b.bytes.size(), end);
    if (from < to) {
      out.push_back(b.bytes.subspan(from - at, to - from));
      total += to - from;
    }
    at += b.bytes.size();
  }
  return out;
}

}  // namespace

request parse_request(const chain& c, std::uint64_t capacity_sectors, bool read_only) {
  request r;
  auto refuse = [&](std::uint8_t status, std::string why) {
    r.error = std::move(why);
    r.error_status = status;
    return r;
  };
  // The status byte is the last writable byte.
  for (auto it = c.buffers.rbegin(); it != c.buffers.rend(); ++it)
    if (it->device_writable && !it->bytes.empty()) {
      r.status = &it->bytes.back();
      break;
    }
  if (!r.status) return refuse(status_byte::io_error, "the request has no status byte");

  std::uint64_t header_total = 0;
  auto header_spans = spans(c, false, 0, c.readable_bytes() - std::min(c.readable_bytes(), header_bytes), header_total);
  if (header_total < header_bytes)
    return refuse(status_byte::io_error, fmt::format("the request header is {} bytes, not 16", header_total));
  std::uint8_t header[header_bytes];
  std::size_t filled = 0;
  for (auto& s : header_spans) {
    std::memcpy(header + filled, s.data(), s.size());
    filled += s.size();
  }
  std::uint32_t type;
  std::memcpy(&type, header, 4);
  std::memcpy(&r.sector, header + 8, 8);

  switch (type) {
    case static_cast<std::uint32_t>(operation::read):
    case static_cast<std::uint32_t>(operation::get_id):
      r.op = static_cast<operation>(type);
      r.data = spans(c, true, 0, 1, r.data_bytes);
      break;
    case static_cast<std::uint32_t>(operation::write):
      r.op = operation::write;
      if (read_only) return refuse(status_byte::io_error, "a write to a read-only disk");
      r.data = spans(c, false, header_bytes, 0, r.data_bytes);
      break;
    case static_cast<std::uint32_t>(operation::flush):
      r.op = operation::flush;
      return r;
    default:
      return refuse(status_byte::unsupported, fmt::format("request type {} is not supported", type));
  }
  if (r.op == operation::get_id) return r;
  if (r.data_bytes % sector_size)
    return refuse(status_byte::io_error, fmt::format("{} bytes of data is not whole sectors", r.data_bytes));
  const std::uint64_t sectors = r.data_bytes / sector_size;
  if (r.sector > capacity_sectors || sectors > capacity_sectors - r.sector)
    return refuse(status_byte::io_error,
                  fmt::format("sectors {} to {} are past the end of a disk of {}", r.sector, r.sector + sectors,
                              capacity_sectors));
  return r;
}

}  // namespace smvm::devices::virtio::blk
