#include "actors/switch_actor.hpp"

#include "network/mac_table.hpp"

#include <map>

namespace smvm::actors {

namespace {

using network::frame_bytes;
using network::impairment;
using time_point = std::chrono::steady_clock::time_point;

struct port {
  std::string name;
  frame_port card;
  std::shared_ptr<frame_credit> card_credit, port_credit;
  impairment in, out;  // the link's two ways: from the card, to it
  port_stats stats;
};

struct switch_state {
  std::string switch_name;
  std::map<std::uint32_t, port> ports;
  network::mac_table table;
  std::optional<time_point> tick_at;  // when the timer for impaired frames fires
  static inline const char* name = "switch";
};

using switch_pointer = switch_actor::stateful_pointer<switch_state>;

time_point now_of(switch_pointer self) {
  // The actor clock: a test's deterministic one advances it by hand.
  return time_point(std::chrono::duration_cast<time_point::duration>(self->clock().now().time_since_epoch()));
}

/// Sends `frames` to the card behind `p`, within its credit.
void deliver(port& p, std::vector<frame_bytes> frames) {
  net_frames out;
  for (auto& f : frames) {
    if (!p.card_credit->take(f.size())) {
      ++p.stats.dropped;
      continue;
    }
    ++p.stats.out_frames;
    p.stats.out_bytes += f.size();
    out.frames.push_back(std::move(f));
  }
  if (!out.frames.empty()) caf::anon_send(p.card, std::move(out));
}

void arm_timer(switch_pointer self);

/// What leaves `link` now of `frames` entering it: all of them, at once and
/// in order, on a plain link with nothing held.
std::vector<frame_bytes> through(impairment& link, std::vector<frame_bytes> frames, time_point now) {
  if (link.config().transparent() && !link.next_due()) return frames;
  for (auto& f : frames) link.push(std::move(f), now);
  return link.take_due(now);
}

/// Frames that have crossed `from`'s link into the switch: learned and
/// forwarded, through each destination's outward link.
void forward(switch_pointer self, std::uint32_t from, std::vector<frame_bytes> frames, time_point now) {
  auto& s = self->state;
  std::map<std::uint32_t, std::vector<frame_bytes>> batches;
  for (auto& f : frames) {
    auto a = network::read_addresses(f);
    if (!a) continue;  // the card checks lengths; a stand-in may not
    s.table.learn(a->source, a->vlan, from, now);
    std::optional<std::uint32_t> to;
    if (!network::is_group(a->destination)) to = s.table.find(a->destination, a->vlan, now);
    if (to) {
      if (*to != from && s.ports.count(*to)) batches[*to].push_back(std::move(f));
      continue;
    }
    for (auto& [number, p] : s.ports)  // flood: every port but the source
      if (number != from) batches[number].push_back(f);
  }
  for (auto& [number, batch] : batches) {
    port& p = s.ports.at(number);
    deliver(p, through(p.out, std::move(batch), now));
  }
  arm_timer(self);
}

/// Frames from a card, into its link towards the switch.
void take_in(switch_pointer self, std::uint32_t number, std::vector<frame_bytes> frames) {
  auto& s = self->state;
  auto it = s.ports.find(number);
  if (it == s.ports.end()) return;
  port& p = it->second;
  const auto now = now_of(self);
  for (auto& f : frames) {
    ++p.stats.in_frames;
    p.stats.in_bytes += f.size();
  }
  forward(self, number, through(p.in, std::move(frames), now), now);
}

/// Releases every impaired frame whose time has come.
void release_due(switch_pointer self) {
  auto& s = self->state;
  const auto now = now_of(self);
  std::vector<std::pair<std::uint32_t, std::vector<frame_bytes>>> arrived;
  for (auto& [number, p] : s.ports) {
    deliver(p, p.out.take_due(now));
    auto in = p.in.take_due(now);
    if (!in.empty()) arrived.emplace_back(number, std::move(in));
  }
  for (auto& [number, frames] : arrived) forward(self, number, std::move(frames), now);
}

/// Asks for a tick when the next impaired frame is due, unless one comes sooner.
void arm_timer(switch_pointer self) {
  auto& s = self->state;
  std::optional<time_point> next;
  for (auto& [number, p] : s.ports)
    for (auto due : {p.in.next_due(), p.out.next_due()})
      if (due && (!next || *due < *next)) next = due;
  if (!next || (s.tick_at && *s.tick_at <= *next)) return;
  s.tick_at = *next;
  const auto wait = std::max(time_point::duration(0), *next - now_of(self));
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(wait) + std::chrono::microseconds(1),
                     tick_atom_v);
}

switch_actor::behavior_type switch_behavior(switch_pointer self, std::string name) {
  self->state.switch_name = std::move(name);
  // A card whose worker ends (its VM stopped) is unplugged.
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& s = self->state;
    for (auto it = s.ports.begin(); it != s.ports.end(); ++it)
      if (it->second.card.address() == down.source) {
        s.table.forget_port(it->first);
        s.ports.erase(it);
        break;
      }
  });
  return {
    [self](net_frames& x) {
      auto& s = self->state;
      auto it = s.ports.find(x.port);
      if (it != s.ports.end())
        for (auto& f : x.frames) it->second.port_credit->give_back(f.size());
      take_in(self, x.port, std::move(x.frames));
    },
    [self](port_attach& x) {
      auto card = caf::actor_cast<frame_port>(x.card);
      if (!card) return;
      self->monitor(card);
      port p;
      p.name = x.name;
      p.card = card;
      p.card_credit = x.card_credit;
      p.port_credit = x.port_credit;
      p.stats.port = x.port;
      p.stats.name = x.name;
      self->state.ports.insert_or_assign(x.port, std::move(p));
    },
    [self](const link_settings& x) {
      auto& s = self->state;
      auto it = s.ports.find(x.port);
      if (it == s.ports.end()) return false;
      auto reverse = x.config;
      reverse.seed = x.config.seed * 0x9e3779b97f4a7c15ull + 1;  // its own sequence, from the same seed
      it->second.in.configure(x.config);
      it->second.out.configure(reverse);
      return true;
    },
    [self](stats_atom) {
      switch_stats out;
      for (auto& [number, p] : self->state.ports) {
        port_stats st = p.stats;
        st.dropped += p.port_credit->dropped() + p.in.counters().dropped_queue + p.out.counters().dropped_queue;
        st.lost = p.in.counters().lost + p.in.counters().dropped_down + p.out.counters().lost +
                  p.out.counters().dropped_down;
        out.ports.push_back(std::move(st));
      }
      return out;
    },
    [self](tick_atom) {
      self->state.tick_at.reset();
      release_due(self);
      arm_timer(self);
    },
  };
}

}  // namespace

switch_actor spawn_switch(caf::actor_system& system, std::string name) {
  return system.spawn(switch_behavior, std::move(name));
}

}  // namespace smvm::actors
