#include "network/port_forward.hpp"

#include <charconv>
#include <vector>

namespace smvm::network {

namespace {

/// A port from 1 to 65535, in decimal digits only.
bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

/// A dotted IPv4 address: four decimal numbers up to 255.
bool parse_address(std::string_view text, std::array<std::uint8_t, 4>& address) {
  for (std::size_t i = 0; i < 4; ++i) {
    const auto dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos) return false;
    const auto part = text.substr(0, dot);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || part.size() > 3 || ec != std::errc() || end != part.data() + part.size() || value > 255)
      return false;
    address[i] = static_cast<std::uint8_t>(value);
    text.remove_prefix(i < 3 ? dot + 1 : dot);
  }
  return text.empty();
}

}  // namespace

result<port_forward> parse_port_forward(std::string_view text) {
  port_forward f;
  std::string_view rest = text;
  if (const auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    const auto protocol = rest.substr(slash + 1);
    if (protocol == "udp") f.udp = true;
    else if (protocol != "tcp") return make_error("\"{}\": the protocol must be tcp or udp, got \"{}\"", text, protocol);
    rest = rest.substr(0, slash);
  }
  std::vector<std::string_view> parts;
  for (std::size_t at = 0;;) {
    const auto colon = rest.find(':', at);
    parts.push_back(rest.substr(at, colon == std::string_view::npos ? std::string_view::npos : colon - at));
    if (colon == std::string_view::npos) break;
    at = colon + 1;
  }
  if (parts.size() != 2 && parts.size() != 3)
    return make_error("\"{}\" is not [HOST_IP:]HOST_PORT:GUEST_PORT[/udp] (as in -p 8080:80)", text);
  if (parts.size() == 3 && !parse_address(parts[0], f.host_address))
    return make_error("\"{}\": \"{}\" is not an IPv4 address", text, parts[0]);
  const auto host = parts[parts.size() - 2], guest = parts.back();
  if (!parse_port(host, f.host_port)) return make_error("\"{}\": the host port \"{}\" is not from 1 to 65535", text, host);
  if (!parse_port(guest, f.guest_port))
    return make_error("\"{}\": the guest port \"{}\" is not from 1 to 65535", text, guest);
  return f;
}

std::string to_string(const port_forward& f) {
  const auto& a = f.host_address;
  return fmt::format("{}.{}.{}.{}:{}:{}/{}", a[0], a[1], a[2], a[3], f.host_port, f.guest_port, f.udp ? "udp" : "tcp");
}

}  // namespace smvm::network
