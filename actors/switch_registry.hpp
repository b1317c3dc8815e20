#pragma once
// The links of one actor system's network cards: switches by name, where
// cards of VMs that run in one process and name the same switch share one
// L2 segment, and a host link (actors/host_link_actor) for each card in
// mode "slirp" (a NAT) or "tap".
// A switch is made when its first card plugs in; all stop with this object.

#include "actors/messages.hpp"
#include "common/result.hpp"
#include "devices/virtio/device_kind.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace smvm::actors {

/// Where a card's worker sends its guest's frames, and how it plugs in
/// (port_attach): what a card's worker gets from the registry.
struct card_link {
  link_peer peer;
  std::uint32_t port = 0;
  std::shared_ptr<frame_credit> port_credit;
  std::string name;  // the card's and its MAC, for the switch's stats
};

class switch_registry {
 public:
  explicit switch_registry(caf::actor_system& system) : system_(system) {}
  ~switch_registry();
  switch_registry(const switch_registry&) = delete;
  switch_registry& operator=(const switch_registry&) = delete;

  /// A new port for the card `card_name` on the link's switch.
  result<card_link> plug(const devices::virtio::frame_link& link, const std::string& card_name);
  /// The switch called `name`, if a card has plugged into it.
  std::optional<switch_actor> find(const std::string& name) const;
  /// The port of the card with `mac` ("02:00:00:00:00:01") on switch
  /// `name`: the last one to plug in, if clones share the MAC.
  std::optional<std::uint32_t> find_port(const std::string& name, const std::string& mac) const;

 private:
  caf::actor_system& system_;
  mutable std::mutex mutex_;  // device actors plug in from the scheduler's threads
  std::map<std::string, switch_actor> switches_;
  std::vector<link_peer> host_links_;  // one per card in mode "slirp" or "tap"
  std::map<std::pair<std::string, std::string>, std::uint32_t> ports_;  // (switch, MAC) -> port
  std::uint32_t next_port_ = 1;
};

}  // namespace smvm::actors
