#pragma once
// Parsing a virtio-blk request (virtio 1.2, section 5.2.6) out of a chain: a
// 16-byte header the device reads, data buffers, and a one-byte status the
// device writes last. Any framing is accepted (the header and status may
// share buffers with data). Nothing here touches the disk.

#include "devices/virtio/queue.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smvm::devices::virtio::blk {

inline constexpr std::uint32_t sector_size = 512;
inline constexpr std::uint32_t id_bytes = 20;

enum class operation : std::uint32_t { read = 0, write = 1, flush = 4, get_id = 8 };

namespace status_byte {
inline constexpr std::uint8_t ok = 0, io_error = 1, unsupported = 2;
}

struct request {
  operation op = operation::read;
  std::uint64_t sector = 0;
  /// Where data goes (read, get_id: device-writable) or comes from (write).
  std::vector<std::span<std::uint8_t>> data;
  std::uint64_t data_bytes = 0;
  /// The status byte, the chain's last writable byte; null when the chain
  /// has none, and then the request cannot be answered at all.
  std::uint8_t* status = nullptr;
  /// Set when the request must be refused: why, and the status to report.
  std::optional<std::string> error;
  std::uint8_t error_status = status_byte::io_error;
};

/// Parses a request for a disk of `capacity_sectors` sectors.
request parse_request(const chain& c, std::uint64_t capacity_sectors, bool read_only);

}  // namespace smvm::devices::virtio::blk
