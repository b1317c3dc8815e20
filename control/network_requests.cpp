#include "control/network_requests.hpp"

#include <fmt/format.h>

#include <cctype>

namespace smvm::control {

namespace {

using json = nlohmann::json;

/// A link's settings from the request, or why they are wrong.
result<network::impairment_config> link_config(const json& r) {
  network::impairment_config c;
  for (const auto& [key, value] : r.items()) {
    if (key == "action" || key == "switch" || key == "mac") continue;
    if (key == "down") {
      if (!value.is_boolean()) return make_error("link: \"down\" must be true or false");
      c.down = value.get<bool>();
    } else if (key == "loss" || key == "duplicate" || key == "reorder") {
      if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 1)
        return make_error("link: \"{}\" must be a share from 0 to 1", key);
      (key == "loss" ? c.loss : key == "duplicate" ? c.duplicate : c.reorder) = value.get<double>();
    } else if (key == "delay_us" || key == "jitter_us") {
      if (!value.is_number_unsigned() || value.get<std::uint64_t>() > 60'000'000)
        return make_error("link: \"{}\" must be microseconds from 0 to 60000000", key);
      (key == "delay_us" ? c.delay_us : c.jitter_us) = static_cast<std::uint32_t>(value.get<std::uint64_t>());
    } else if (key == "rate_bits" || key == "seed") {
      if (!value.is_number_unsigned()) return make_error("link: \"{}\" must be a whole number of at least 0", key);
      (key == "rate_bits" ? c.rate_bits : c.seed) = value.get<std::uint64_t>();
    } else {
      return make_error("link: no setting \"{}\" (down, loss, duplicate, reorder, delay_us, jitter_us, rate_bits, "
                        "seed)", key);
    }
  }
  return c;
}

json port_json(const actors::port_stats& p) {
  return json{{"port", p.port},         {"name", p.name},         {"in_frames", p.in_frames},
              {"in_bytes", p.in_bytes}, {"out_frames", p.out_frames}, {"out_bytes", p.out_bytes},
              {"dropped", p.dropped},   {"lost", p.lost}};
}

}  // namespace

std::string failure_reply(const std::string& why) { return json{{"ok", false}, {"error", why}}.dump(); }

std::string network_request(caf::actor_system& system, const actors::switch_registry* net, const json& request) {
  const std::string action = request["action"];
  if (!request.contains("switch") || !request["switch"].is_string())
    return failure_reply(fmt::format("{} needs a \"switch\": the name of a switch the VM's cards plug into", action));
  const std::string name = request["switch"];
  auto sw = net ? net->find(name) : std::nullopt;
  if (!sw) return failure_reply(fmt::format("{}: no switch \"{}\" in this process", action, name));
  caf::scoped_actor self{system};
  std::string reply;
  auto failed = [&](caf::error& e) { reply = failure_reply(actors::error_text(e)); };
  if (action == "switch") {
    self->request(*sw, std::chrono::seconds(10), actors::stats_atom_v)
      .receive(
        [&](actors::switch_stats& stats) {
          json ports = json::array();
          for (const auto& p : stats.ports) ports.push_back(port_json(p));
          reply = json{{"ok", true}, {"ports", ports}}.dump();
        },
        failed);
    return reply;
  }
  if (!request.contains("mac") || !request["mac"].is_string())
    return failure_reply("link needs a \"mac\": the MAC of the card whose link to change");
  std::string mac = request["mac"];
  for (char& c : mac) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto port = net->find_port(name, mac);
  if (!port) return failure_reply(fmt::format("link: no card {} on switch \"{}\"", mac, name));
  auto config = link_config(request);
  if (!config) return failure_reply(config.error().message);
  self->request(*sw, std::chrono::seconds(10), actors::link_settings{*port, *config})
    .receive([&](bool found) { reply = found ? json{{"ok", true}}.dump() : failure_reply("link: the card is gone"); },
             failed);
  return reply;
}

}  // namespace smvm::control
