// The switch's pure parts: Ethernet addresses, the MAC table (learning,
// ageing, each port's share) and a link's impairments (delay, jitter,
// loss, duplication, reordering, rate, down), all seeded and repeatable.
#include "network/impairment.hpp"
#include "network/mac_table.hpp"

#include <catch2/catch.hpp>

using namespace smvm::network;
using namespace std::chrono_literals;
using time_point = std::chrono::steady_clock::time_point;

namespace {

std::vector<std::uint8_t> frame(std::uint8_t tag, std::size_t size = 64) {
  std::vector<std::uint8_t> f(size, 0);
  f[0] = 0x02;
  f[5] = 1;       // to 02:00:00:00:00:01
  f[6] = 0x02;
  f[11] = 2;      // from 02:00:00:00:00:02
  f[20] = tag;
  return f;
}

std::vector<std::uint8_t> tags(const std::vector<std::vector<std::uint8_t>>& frames) {
  std::vector<std::uint8_t> out;
  for (auto& f : frames) out.push_back(f[20]);
  return out;
}

}  // namespace

TEST_CASE("ethernet: addresses and an 802.1Q VLAN are read; a frame shorter than a header has none") {
  auto f = frame(0);
  auto a = read_addresses(f);
  REQUIRE(a);
  CHECK(a->destination == 0x020000000001);
  CHECK(a->source == 0x020000000002);
  CHECK(a->vlan == 0);
  f[12] = 0x81, f[13] = 0x00, f[14] = 0x20, f[15] = 0x05;  // VID 5 (priority bits ignored)
  CHECK(read_addresses(f)->vlan == 5);
  CHECK_FALSE(read_addresses(std::vector<std::uint8_t>(13)));
  CHECK(is_group(broadcast_mac));
  CHECK(is_group(0x01005e000001));
  CHECK_FALSE(is_group(0x020000000001));
}

TEST_CASE("mac table: learns per VLAN, forgets aged entries and a port's entries when it is unplugged") {
  mac_table t(300s);
  const time_point t0{};
  t.learn(0x020000000001, 0, 1, t0);
  t.learn(0x020000000002, 7, 2, t0);
  CHECK(t.find(0x020000000001, 0, t0) == 1u);
  CHECK_FALSE(t.find(0x020000000002, 0, t0));  // learned on VLAN 7 only
  CHECK(t.find(0x020000000002, 7, t0 + 299s) == 2u);
  CHECK_FALSE(t.find(0x020000000002, 7, t0 + 301s));
  t.learn(0x020000000001, 0, 3, t0 + 1s);  // moved
  CHECK(t.find(0x020000000001, 0, t0 + 1s) == 3u);
  t.forget_port(3);
  CHECK_FALSE(t.find(0x020000000001, 0, t0 + 1s));
  t.learn(broadcast_mac, 0, 1, t0);
  CHECK_FALSE(t.find(broadcast_mac, 0, t0));  // group addresses are never learned
}

TEST_CASE("mac table: a port sending from ever new addresses fills only its own share") {
  mac_table t(300s, 4);
  const time_point t0{};
  t.learn(0x02000000aaaa, 0, 2, t0);
  for (std::uint64_t m = 0; m < 100; ++m) t.learn(0x020000010000 + m, 0, 1, t0);
  CHECK(t.size() == 5);  // four of port 1's, port 2's one
  t.learn(0x02000000bbbb, 0, 2, t0);
  CHECK(t.find(0x02000000bbbb, 0, t0) == 2u);
  // Once port 1's entries age out, it learns again.
  t.learn(0x020000020000, 0, 1, t0 + 400s);
  CHECK(t.find(0x020000020000, 0, t0 + 400s) == 1u);
}

TEST_CASE("impairment: a transparent link passes frames at once and in order") {
  impairment link;
  CHECK(link.config().transparent());
  const time_point t0{};
  for (std::uint8_t i = 0; i < 5; ++i) link.push(frame(i), t0);
  CHECK(tags(link.take_due(t0)) == std::vector<std::uint8_t>{0, 1, 2, 3, 4});
  CHECK_FALSE(link.next_due());
}

TEST_CASE("impairment: delay holds frames back; jitter varies it without reordering") {
  impairment link({.delay_us = 10'000, .jitter_us = 5'000, .seed = 7});
  const time_point t0{};
  for (std::uint8_t i = 0; i < 50; ++i) link.push(frame(i), t0 + std::chrono::microseconds(100 * i));
  CHECK(link.take_due(t0 + 4ms).empty());
  REQUIRE(link.next_due());
  CHECK(*link.next_due() >= t0 + 5ms);
  auto out = tags(link.take_due(t0 + 30ms));
  REQUIRE(out.size() == 50);
  CHECK(std::is_sorted(out.begin(), out.end()));
}

TEST_CASE("impairment: loss drops about its share, the same frames for the same seed") {
  auto run = [](std::uint64_t seed) {
    impairment link({.loss = 0.1, .seed = seed});
    std::vector<std::uint8_t> kept;
    for (int i = 0; i < 1000; ++i) {
      link.push(frame(static_cast<std::uint8_t>(i)), time_point{});
      for (auto& f : link.take_due(time_point{})) kept.push_back(f[20]);
    }
    return std::pair(kept, link.counters().lost);
  };
  auto [kept, lost] = run(42);
  CHECK(lost > 60);
  CHECK(lost < 140);
  CHECK(kept.size() + lost == 1000);
  CHECK(run(42).first == kept);
  CHECK(run(43).first != kept);
}

TEST_CASE("impairment: a link that is down drops everything; duplication sends some twice") {
  impairment down({.down = true});
  down.push(frame(1), time_point{});
  CHECK(down.take_due(time_point{} + 1s).empty());
  CHECK(down.counters().dropped_down == 1);
  impairment twice({.duplicate = 1.0});
  twice.push(frame(9), time_point{});
  CHECK(tags(twice.take_due(time_point{})) == std::vector<std::uint8_t>{9, 9});
  CHECK(twice.counters().duplicated == 1);
}

TEST_CASE("impairment: reordered frames are held back so later ones overtake them") {
  impairment link({.reorder = 1.0, .seed = 3});
  const time_point t0{};
  link.push(frame(1), t0);
  link.configure({});  // the next frame is not reordered
  link.push(frame(2), t0 + 10us);
  CHECK(tags(link.take_due(t0 + 5ms)) == std::vector<std::uint8_t>{2, 1});
  CHECK(link.counters().reordered == 1);
}

TEST_CASE("impairment: a rate limit spaces frames by their size, and its queue is bounded") {
  impairment link({.rate_bits = 8'000'000});  // 1 byte per microsecond
  const time_point t0{};
  link.push(frame(1, 1000), t0);
  link.push(frame(2, 1000), t0);
  CHECK(tags(link.take_due(t0 + 1000us)) == std::vector<std::uint8_t>{1});
  CHECK(tags(link.take_due(t0 + 2000us)) == std::vector<std::uint8_t>{2});
  for (int i = 0; i < 5000; ++i) link.push(frame(3, 1500), t0 + 2ms);  // 7.5 MB at once
  CHECK(link.counters().dropped_queue > 0);
  CHECK(link.counters().dropped_queue < 5000);
}
