// The switch on CAF's deterministic scheduler, with stand-in cards that
// record what reaches them: flooding and learning, VLANs, unplugging,
// full queues, impaired links (down, delay) and its counters.

#include "actors/switch_actor.hpp"
#include "tests/actors/deterministic.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <catch2/catch.hpp>

#include <map>

using namespace smvm;
using namespace smvm::actors;

namespace {

using frames = std::vector<std::vector<std::uint8_t>>;

/// A frame from card `from` to card `to` (MAC 02:00:00:00:00:N; 0xff for
/// broadcast), tagged so a test can tell frames apart.
std::vector<std::uint8_t> frame(int from, int to, std::uint8_t tag = 0, std::uint16_t vlan = 0) {
  std::vector<std::uint8_t> f(64, 0);
  if (to == 0xff) std::fill(f.begin(), f.begin() + 6, 0xff);
  else f[0] = 0x02, f[5] = static_cast<std::uint8_t>(to);
  f[6] = 0x02, f[11] = static_cast<std::uint8_t>(from);
  if (vlan) f[12] = 0x81, f[13] = 0, f[15] = static_cast<std::uint8_t>(vlan);
  f[30] = tag;
  return f;
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{test::deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
  switch_actor sw = spawn_switch(system, "lan0");
  std::map<int, std::shared_ptr<frames>> got;  // per card: what reached it
  std::map<int, frame_port> cards;
  std::map<int, std::shared_ptr<frame_credit>> card_credit;

  ~fixture() {
    for (auto& [n, c] : cards) caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sw, caf::exit_reason::user_shutdown);
    drain();
  }
  void drain() {
    while (sched.try_run_once()) {
    }
  }
  /// Card `n` plugs into port `n`; its mailbox holds `credit` bytes of frames.
  void plug(int n, std::size_t credit = 1 << 20) {
    auto log = got[n] = std::make_shared<frames>();
    auto c = card_credit[n] = std::make_shared<frame_credit>(credit);
    cards[n] = system.spawn([log, c](frame_port::pointer, int) -> frame_port::behavior_type {
      return {[log, c](net_frames& x) {
        for (auto& f : x.frames) {
          c->give_back(f.size());
          log->push_back(std::move(f));
        }
      }};
    }, 0);
    caf::anon_send(sw, port_attach{static_cast<std::uint32_t>(n), "card" + std::to_string(n),
                                   caf::actor_cast<caf::actor>(cards[n]), c,
                                   std::make_shared<frame_credit>(port_credit_bytes)});
    drain();
  }
  void send(int port, frames f, bool run = true) {
    caf::anon_send(sw, net_frames{static_cast<std::uint32_t>(port), std::move(f)});
    if (run) drain();
  }
  std::size_t count(int card) const { return got.at(card)->size(); }
  void clear() {
    for (auto& [n, log] : got) log->clear();
  }
  bool impair(int port, smvm::network::impairment_config config) {
    bool answer = false;
    system.spawn([&](caf::event_based_actor* self, int) {
      self->request(sw, caf::infinite, link_settings{static_cast<std::uint32_t>(port), config}).then([&](bool b) {
        answer = b;
      });
    }, 0);
    drain();
    return answer;
  }
  switch_stats stats() {
    switch_stats answer;
    system.spawn([&](caf::event_based_actor* self, int) {
      self->request(sw, caf::infinite, stats_atom_v).then([&](switch_stats& s) { answer = std::move(s); });
    }, 0);
    drain();
    return answer;
  }
};

}  // namespace

TEST_CASE("switch: unknown and broadcast destinations flood every port but the source; learned ones go to one") {
  fixture f;
  f.plug(1), f.plug(2), f.plug(3);
  f.send(1, {frame(1, 2)});  // 2 is not known yet
  CHECK(f.count(1) == 0);
  CHECK(f.count(2) == 1);
  CHECK(f.count(3) == 1);
  f.clear();
  f.send(2, {frame(2, 1)});  // 1 was learned from its frame
  CHECK(f.count(1) == 1);
  CHECK(f.count(3) == 0);
  f.send(1, {frame(1, 2)});  // and 2 now too
  CHECK(f.count(2) == 1);
  CHECK(f.count(3) == 0);
  f.clear();
  f.send(3, {frame(3, 0xff)});
  CHECK(f.count(1) == 1);
  CHECK(f.count(2) == 1);
  CHECK(f.count(3) == 0);
}

TEST_CASE("switch: addresses are learned per VLAN") {
  fixture f;
  f.plug(1), f.plug(2), f.plug(3);
  f.send(2, {frame(2, 0xff)});  // 2 learned, untagged
  f.clear();
  f.send(1, {frame(1, 2, 0, 5)});  // to 2 on VLAN 5: not known there
  CHECK(f.count(2) == 1);
  CHECK(f.count(3) == 1);
}

TEST_CASE("switch: a card that goes away is unplugged, and its address forgotten") {
  fixture f;
  f.plug(1), f.plug(2), f.plug(3);
  f.send(2, {frame(2, 0xff)});
  caf::anon_send_exit(f.cards[2], caf::exit_reason::user_shutdown);
  f.drain();
  f.clear();
  f.send(1, {frame(1, 2)});  // flooded again: to 3 only, 2 being gone
  CHECK(f.count(3) == 1);
  CHECK(f.stats().ports.size() == 2);
}

TEST_CASE("switch: a card whose queue is full loses frames; the other ports go on") {
  fixture f;
  f.plug(1), f.plug(2, 4 * (64 + frame_credit::overhead)), f.plug(3);
  f.send(2, {frame(2, 0xff)});
  f.send(3, {frame(3, 0xff)});
  f.clear();
  // Ten frames to 2 in one batch: its mailbox takes four before it runs.
  frames burst(10, frame(1, 2));
  burst.push_back(frame(1, 3));
  f.send(1, burst);
  CHECK(f.count(2) == 4);
  CHECK(f.count(3) == 1);
  auto stats = f.stats();
  REQUIRE(stats.ports.size() == 3);
  CHECK(stats.ports[1].name == "card2");
  CHECK(stats.ports[1].dropped == 6);
  CHECK(stats.ports[0].in_frames == 11);
}

TEST_CASE("switch: a link that is down carries nothing either way; back up, it carries again") {
  fixture f;
  f.plug(1), f.plug(2);
  REQUIRE(f.impair(2, {.down = true}));
  f.send(1, {frame(1, 0xff)});
  f.send(2, {frame(2, 0xff)});
  CHECK(f.count(1) == 0);
  CHECK(f.count(2) == 0);
  CHECK(f.stats().ports[1].lost == 2);
  REQUIRE(f.impair(2, {}));
  f.send(1, {frame(1, 0xff)});
  f.send(2, {frame(2, 0xff)});
  CHECK(f.count(1) == 1);
  CHECK(f.count(2) == 1);
  CHECK_FALSE(f.impair(9, {}));  // no such port
}

TEST_CASE("switch: a delayed link delivers once its time has come, in order") {
  fixture f;
  f.plug(1), f.plug(2);
  REQUIRE(f.impair(2, {.delay_us = 5000}));
  f.send(1, {frame(1, 0xff, 1), frame(1, 0xff, 2)});
  CHECK(f.count(2) == 0);
  f.sched.advance_time(std::chrono::milliseconds(3));
  f.drain();
  CHECK(f.count(2) == 0);
  f.sched.advance_time(std::chrono::milliseconds(3));
  f.drain();
  REQUIRE(f.count(2) == 2);
  CHECK((*f.got[2])[0][30] == 1);
  CHECK((*f.got[2])[1][30] == 2);
}
