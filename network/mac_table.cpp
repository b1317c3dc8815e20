#include "network/mac_table.hpp"

namespace smvm::network {

void mac_table::learn(mac48 source, std::uint16_t vlan, std::uint32_t port, time_point now) {
  if (is_group(source)) return;
  auto it = entries_.find(key(source, vlan));
  if (it != entries_.end()) {
    if (it->second.port != port) {  // the address moved (a VM restored elsewhere)
      --per_port_count_[it->second.port];
      ++per_port_count_[port];
      it->second.port = port;
    }
    it->second.seen = now;
    return;
  }
  if (per_port_count_[port] >= per_port_) {
    // Full: aged entries are swept at most once a second, so a port that
    // keeps sending from new addresses costs a scan a second, not a frame.
    auto& last = last_sweep_[port];
    if (now - last < std::chrono::seconds(1)) return;
    last = now;
    if (sweep(port, now) >= per_port_) return;
  }
  entries_.emplace(key(source, vlan), entry{port, now});
  ++per_port_count_[port];
}

std::optional<std::uint32_t> mac_table::find(mac48 destination, std::uint16_t vlan, time_point now) const {
  auto it = entries_.find(key(destination, vlan));
  if (it == entries_.end() || now - it->second.seen > ageing_) return std::nullopt;
  return it->second.port;
}

void mac_table::forget_port(std::uint32_t port) {
  std::erase_if(entries_, [port](const auto& e) { return e.second.port == port; });
  per_port_count_.erase(port);
  last_sweep_.erase(port);
}

std::size_t mac_table::sweep(std::uint32_t port, time_point now) {
  std::erase_if(entries_, [&](const auto& e) { return e.second.port == port && now - e.second.seen > ageing_; });
  std::size_t kept = 0;
  for (const auto& e : entries_) kept += e.second.port == port;
  return per_port_count_[port] = kept;
}

}  // namespace smvm::network
