#pragma once
// A learning switch's table: which port a (MAC, VLAN) was last seen on.
// Entries age out, and each port may hold only so many, so a guest that
// sends from random source addresses fills its own share and cannot push
// the other ports' entries out (their frames would then be flooded).

#include "network/ethernet.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace smvm::network {

class mac_table {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr std::chrono::seconds default_ageing{300};
  static constexpr std::size_t default_per_port = 256;

  explicit mac_table(std::chrono::nanoseconds ageing = default_ageing, std::size_t per_port = default_per_port)
      : ageing_(ageing), per_port_(per_port) {}

  /// `source` on `vlan` was seen on `port` at `now`. Group addresses are
  /// never learned; a port over its share learns nothing new.
  void learn(mac48 source, std::uint16_t vlan, std::uint32_t port, time_point now);
  /// The port `destination` on `vlan` was last seen on, unless that has aged out.
  std::optional<std::uint32_t> find(mac48 destination, std::uint16_t vlan, time_point now) const;
  /// Forgets every address learned on `port` (it was unplugged).
  void forget_port(std::uint32_t port);
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::uint32_t port;
    time_point seen;
  };
  static std::uint64_t key(mac48 mac, std::uint16_t vlan) { return mac | std::uint64_t{vlan} << 48; }
  /// Drops the entries of `port` that have aged out; returns how many it keeps.
  std::size_t sweep(std::uint32_t port, time_point now);

  std::chrono::nanoseconds ageing_;
  std::size_t per_port_;
  std::unordered_map<std::uint64_t, entry> entries_;
  std::unordered_map<std::uint32_t, std::size_t> per_port_count_;
  std::unordered_map<std::uint32_t, time_point> last_sweep_;
};

}  // namespace smvm::network
