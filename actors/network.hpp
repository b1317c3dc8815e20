#pragma once
// The switches of one actor system, by name: cards of VMs that run in one
// process and name the same switch share one L2 segment. A switch is made
// when its first card plugs in, and stops with this object.

#include "actors/messages.hpp"
#include "common/result.hpp"
#include "devices/virtio/device_kind.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace smvm::actors {

/// Where a card's worker sends its guest's frames, and how it plugs in
/// (port_attach): what a worker of a card gets from the network.
struct card_link {
  link_peer peer;
  std::uint32_t port = 0;
  std::shared_ptr<frame_credit> port_credit;
  std::string name;  // the card's, for the switch's stats
};

class network {
 public:
  explicit network(caf::actor_system& system) : system_(system) {}
  ~network();
  network(const network&) = delete;
  network& operator=(const network&) = delete;

  /// A new port for the card `card_name` on the link's switch.
  result<card_link> plug(const devices::virtio::frame_link& link, const std::string& card_name);
  /// The switch called `name`, if a card has plugged into it.
  std::optional<switch_actor> find(const std::string& name) const;

 private:
  caf::actor_system& system_;
  mutable std::mutex mutex_;  // device actors plug in from the scheduler's threads
  std::map<std::string, switch_actor> switches_;
  std::uint32_t next_port_ = 1;
};

}  // namespace smvm::actors
