#include "actors/switch_registry.hpp"

#include "actors/host_link_actor.hpp"
#include "actors/switch_actor.hpp"

namespace smvm::actors {

switch_registry::~switch_registry() {
  for (auto& [name, sw] : switches_) caf::anon_send_exit(sw, caf::exit_reason::user_shutdown);
  for (auto& host : host_links_) caf::anon_send_exit(host, caf::exit_reason::user_shutdown);
}

result<card_link> switch_registry::plug(const devices::virtio::frame_link& link, const std::string& card_name) {
  if (link.mode == "slirp" || link.mode == "tap") {
    auto host = link.mode == "slirp" ? spawn_nat(system_, link.publish) : spawn_tap(system_, link.name);
    if (!host) return host.error();
    std::lock_guard lock(mutex_);
    host_links_.push_back(*host);
    return card_link{*host, 0, std::make_shared<frame_credit>(port_credit_bytes), card_name + " " + link.mac};
  }
  if (link.mode != "switch") return make_error("no network mode \"{}\"", link.mode);
  std::lock_guard lock(mutex_);
  auto it = switches_.find(link.name);
  if (it == switches_.end()) it = switches_.emplace(link.name, spawn_switch(system_, link.name)).first;
  const std::uint32_t port = next_port_++;
  ports_[{link.name, link.mac}] = port;
  // Named with its MAC: cards of two VMs are both "virtio-net net[0]".
  return card_link{it->second, port, std::make_shared<frame_credit>(port_credit_bytes),
                   card_name + " " + link.mac};
}

std::optional<std::uint32_t> switch_registry::find_port(const std::string& name, const std::string& mac) const {
  std::lock_guard lock(mutex_);
  auto it = ports_.find({name, mac});
  if (it == ports_.end()) return std::nullopt;
  return it->second;
}

std::optional<switch_actor> switch_registry::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = switches_.find(name);
  if (it == switches_.end()) return std::nullopt;
  return it->second;
}

}  // namespace smvm::actors
