#include "actors/network.hpp"

#include "actors/switch_actor.hpp"

namespace smvm::actors {

network::~network() {
  for (auto& [name, sw] : switches_) caf::anon_send_exit(sw, caf::exit_reason::user_shutdown);
}

result<card_link> network::plug(const devices::virtio::frame_link& link, const std::string& card_name) {
  if (link.mode != "switch") return make_error("no network mode \"{}\"", link.mode);
  std::lock_guard lock(mutex_);
  auto it = switches_.find(link.name);
  if (it == switches_.end()) it = switches_.emplace(link.name, spawn_switch(system_, link.name)).first;
  return card_link{it->second, next_port_++, std::make_shared<frame_credit>(port_credit_bytes), card_name};
}

std::optional<switch_actor> network::find(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = switches_.find(name);
  if (it == switches_.end()) return std::nullopt;
  return it->second;
}

}  // namespace smvm::actors
