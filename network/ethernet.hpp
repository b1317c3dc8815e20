#pragma once
// What a switch reads of an Ethernet frame: its addresses and VLAN. The
// frame comes from a guest: anything shorter than a header has no
// addresses, and a tag cut short is no tag.

#include <cstdint>
#include <optional>
#include <span>

namespace smvm::network {

/// A MAC address as the low 48 bits, first byte most significant.
using mac48 = std::uint64_t;

inline constexpr mac48 broadcast_mac = 0xffff'ffff'ffff;

/// The group bit: broadcast and multicast destinations are flooded.
inline bool is_group(mac48 mac) { return (mac >> 40) & 1; }

struct frame_addresses {
  mac48 destination = 0, source = 0;
  std::uint16_t vlan = 0;  // 0: untagged (802.1Q VID 0 means the same)
};

/// The addresses of `frame`, or nothing when it is shorter than a header.
inline std::optional<frame_addresses> read_addresses(std::span<const std::uint8_t> frame) {
  if (frame.size() < 14) return std::nullopt;
  auto mac_at = [&](std::size_t at) {
    mac48 m = 0;
    for (std::size_t i = 0; i < 6; ++i) m = m << 8 | frame[at + i];
    return m;
  };
  frame_addresses a{mac_at(0), mac_at(6), 0};
  const std::uint16_t type = static_cast<std::uint16_t>(frame[12] << 8 | frame[13]);
  if (type == 0x8100 && frame.size() >= 18) a.vlan = static_cast<std::uint16_t>((frame[14] << 8 | frame[15]) & 0x0fff);
  return a;
}

}  // namespace smvm::network
