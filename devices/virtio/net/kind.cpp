// virtio-net's entry: [[net]] { mac, mode, switch }, one card each.
#include "devices/virtio/device_kind.hpp"
#include "devices/virtio/net/device.hpp"

#include <fmt/format.h>
#include <sys/random.h>

#include <array>
#include <cctype>
#include <cstdlib>

namespace smvm::devices::virtio::net {

namespace {

constexpr std::array<setting_spec, 3> settings{{
  {"mac", setting_type::text, ""},
  {"mode", setting_type::text, ""},
  {"switch", setting_type::text, ""},
}};

/// Switch names are what vm.toml files of one process share, and what
/// messages print: short and plain.
bool plain_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

result<void> validate(const device_settings& s) {
  if (s.values().count("mac"))
    if (auto mac = parse_mac(s.text("mac")); !mac) return make_error("mac: {}", mac.error().message);
  const std::string mode = s.text("mode");
  if (!mode.empty() && mode != "switch")
    return make_error("mode: \"{}\" is not a network mode smvm has; use \"switch\" (with switch = NAME)", mode);
  if (!s.values().count("switch"))
    return make_error("switch: give the switch this card plugs into (switch = \"lan0\"); cards of VMs in one "
                      "process with the same switch name share one segment");
  if (!plain_name(s.text("switch")))
    return make_error("switch: \"{}\" is not a switch name (1 to 64 letters, digits, '-', '_' or '.')",
                      s.text("switch"));
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

result<made_device> make(const device_context& context, const device_settings& s) {
  if (auto r = validate(s); !r) return r.error();  // a snapshot's record is checked again
  auto mac = parse_mac(s.text("mac"));
  if (!mac) return make_error("mac: {}", mac.error().message);
  return made_device{.model = std::make_unique<device>(context.memory, *mac),
                     .link = frame_link{"switch", s.text("switch"), format_mac(*mac)}};
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
  .complete = complete,
};

}  // namespace smvm::devices::virtio::net
