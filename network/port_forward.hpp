#pragma once
// A published port, as `docker run -p` writes it: [HOST_IP:]HOST_PORT:
// GUEST_PORT[/tcp|/udp]. The host listens on HOST_IP:HOST_PORT and the NAT
// (network/slirp_stack) carries each connection or datagram to the guest's
// GUEST_PORT.

#include "common/result.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace smvm::network {

struct port_forward {
  bool udp = false;
  std::array<std::uint8_t, 4> host_address{};  // 0.0.0.0: every address, as Docker does
  std::uint16_t host_port = 0;
  std::uint16_t guest_port = 0;
};

/// "8080:80", "127.0.0.1:8080:80", "5353:53/udp"; an error says what is
/// wrong with `text`, for the caller to say where it came from.
result<port_forward> parse_port_forward(std::string_view text);

/// Back to the form parse_port_forward reads: "0.0.0.0:8080:80/tcp".
std::string to_string(const port_forward& f);

}  // namespace smvm::network
