// virtio-net's entry: [[net]] { mac, mode, switch, tap, publish }, one card each.
#include "devices/virtio/device_kind.hpp"
#include "devices/virtio/net/device.hpp"

#include <fmt/format.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace smvm::devices::virtio::net {

namespace {

constexpr std::array<setting_spec, 5> settings{{
  {"mac", setting_type::text, ""},
  {"mode", setting_type::text, ""},
  {"publish", setting_type::lines, ""},
  {"switch", setting_type::text, ""},
  {"tap", setting_type::text, ""},
}};

/// Each mode and the setting that names what it plugs into, if any.
constexpr std::array<std::pair<std::string_view, std::string_view>, 3> modes{{
  {"slirp", ""}, {"switch", "switch"}, {"tap", "tap"}}};

/// "switch" when a switch is named, "tap" when a TAP is, else "slirp": a
/// card with no settings reaches out through a NAT, as a Docker container.
std::string mode_of(const device_settings& s) {
  const std::string mode = s.text("mode");
  if (!mode.empty()) return mode;
  if (s.values().count("switch")) return "switch";
  return s.values().count("tap") ? "tap" : "slirp";
}

/// Switch and TAP names are what vm.toml files of one process share, and
/// what messages print: short and plain (a TAP's fits IFNAMSIZ).
bool plain_name(const std::string& name, std::size_t longest = 64) {
  if (name.empty() || name.size() > longest) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

result<void> validate(const device_settings& s) {
  if (s.values().count("mac"))
    if (auto mac = parse_mac(s.text("mac")); !mac) return make_error("mac: {}", mac.error().message);
  const std::string mode = mode_of(s);
  if (std::none_of(modes.begin(), modes.end(), [&](auto& m) { return m.first == mode; }))
    return make_error("mode: \"{}\" is not a network mode smvm has; use \"slirp\" (a NAT to the host's network), "
                      "\"switch\" (with switch = NAME) or \"tap\" (with tap = DEVICE)",
                      mode);
  for (const auto& [other, key] : modes) {
    if (key.empty()) continue;
    const std::string k(key);
    if (other != mode && s.values().count(k))
      return make_error("{}: a card in mode \"{}\" plugs into no {}", k, mode, k);
    if (other == mode && !s.values().count(k))
      return make_error("{}: a card in mode \"{}\" names the {} it plugs into, {}", k, mode, k,
                        mode == "switch" ? "switch = \"lan0\": the cards of one process's VMs that name the same "
                                           "switch share one segment"
                                         : "tap = \"tap0\" (a TAP device of the host's)");
  }
  if (mode == "switch" && !plain_name(s.text("switch")))
    return make_error("switch: \"{}\" is not a switch name (1 to 64 letters, digits, '-', '_' or '.')",
                      s.text("switch"));
  if (mode == "tap" && !plain_name(s.text("tap"), 15))
    return make_error("tap: \"{}\" is not a network interface name (1 to 15 letters, digits, '-', '_' or '.')",
                      s.text("tap"));
  if (mode != "slirp" && s.values().count("publish"))
    return make_error("publish: only a card in mode \"slirp\" publishes ports (the host listens, its NAT forwards)");
  for (const auto& item : s.lines("publish"))
    if (auto f = network::parse_port_forward(item); !f) return make_error("publish: {}", f.error().message);
  return {};
}

std::string format_mac(const mac_address& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

/// A card without a MAC gets a random locally administered one, kept in
/// the settings so that a snapshot restores the same card.
void complete(std::map<std::string, setting_value>& values) {
  if (values.count("mac")) return;
  mac_address mac{};
  if (::getrandom(mac.data(), mac.size(), 0) != static_cast<ssize_t>(mac.size()))
    for (auto& b : mac) b = static_cast<std::uint8_t>(std::rand());
  mac[0] = static_cast<std::uint8_t>((mac[0] & 0xfc) | 0x02);  // unicast, locally administered
  values["mac"] = format_mac(mac);
}

/// Clone `index` of a card: `index` added to the last three bytes of its
/// MAC (mod 2^24), so clones of one snapshot on one switch stay apart.
void for_clone(std::map<std::string, setting_value>& values, unsigned index) {
  auto* text = std::get_if<std::string>(&values["mac"]);
  auto mac = text ? parse_mac(*text) : result<mac_address>(make_error("no MAC"));
  if (!mac) return;  // make() reports it
  std::uint32_t low = static_cast<std::uint32_t>((*mac)[3] << 16 | (*mac)[4] << 8 | (*mac)[5]) + index;
  (*mac)[3] = static_cast<std::uint8_t>(low >> 16), (*mac)[4] = static_cast<std::uint8_t>(low >> 8);
  (*mac)[5] = static_cast<std::uint8_t>(low);
  *text = format_mac(*mac);
}

/// Clones of one snapshot cannot all listen on its published host ports.
std::optional<std::string> clone_conflict(const device_settings& s) {
  const auto publish = s.lines("publish");
  if (publish.empty()) return std::nullopt;
  return fmt::format("its network card publishes host port {}, which only one of them could listen on; snapshot a "
                     "VM without published ports (-p) to clone it",
                     publish.front());
}

result<made_device> make(const device_context& context, const device_settings& s) {
  if (auto r = validate(s); !r) return r.error();  // a snapshot's record is checked again
  auto mac = parse_mac(s.text("mac"));
  if (!mac) return make_error("mac: {}", mac.error().message);
  const std::string mode = mode_of(s);
  frame_link link{mode, mode == "tap" ? s.text("tap") : s.text("switch"), format_mac(*mac)};
  for (const auto& item : s.lines("publish")) link.publish.push_back(*network::parse_port_forward(item));
  return made_device{.model = std::make_unique<device>(context.memory, *mac), .link = std::move(link)};
}

}  // namespace

extern const device_kind kind{
  .name = "virtio-net",
  .section = "net",
  .repeatable = true,
  .noun = "network card",
  .settings = settings,
  .blocking = false,
  .make = make,
  .validate = validate,
  .clone_conflict = clone_conflict,
  .complete = complete,
  .for_clone = for_clone,
};

}  // namespace smvm::devices::virtio::net
