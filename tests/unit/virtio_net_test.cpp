// virtio-net by calling it: frames the guest transmits, checked and
// collected for the link; frames from the link into receive buffers, one
// or (mergeable) several per frame, held while the guest offers none and
// dropped beyond the backlog's bound.
#include "devices/virtio/net/device.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace smvm;
using namespace smvm::devices::virtio;
namespace net = smvm::devices::virtio::net;

namespace {

// rx rings at 0x1000.., tx at 0x4000..; buffers from 0x8000.
constexpr std::uint64_t rx_desc = 0x1000, rx_avail = 0x2000, rx_used = 0x3000;
constexpr std::uint64_t tx_desc = 0x4000, tx_avail = 0x5000, tx_used = 0x6000;
constexpr std::uint16_t ring = 8;

struct card {
  test::test_memory m;
  net::device device{m, {0x02, 0, 0, 0, 0, 1}};
  std::uint16_t rx_offered = 0, tx_offered = 0;

  explicit card(bool mergeable = true) {
    std::vector<queue_config> queues{{ring, rx_desc, rx_avail, rx_used}, {ring, tx_desc, tx_avail, tx_used}};
    REQUIRE(device.activate(feature::version_1 | (mergeable ? net::feature::mrg_rxbuf : 0), queues));
  }
  void offer(std::uint64_t desc, std::uint64_t avail, std::uint16_t& offered, std::uint64_t address,
             std::uint32_t length, bool writable) {
    const std::uint16_t index = offered % ring;
    m.put<std::uint64_t>(desc + 16 * index, address);
    m.put<std::uint32_t>(desc + 16 * index + 8, length);
    m.put<std::uint16_t>(desc + 16 * index + 12, writable ? desc_flags::write : 0);
    m.put<std::uint16_t>(avail + 4 + 2 * index, index);
    m.put<std::uint16_t>(avail + 2, ++offered);
  }
  /// A receive buffer of `length` bytes at `address`.
  void offer_rx(std::uint64_t address, std::uint32_t length) { offer(rx_desc, rx_avail, rx_offered, address, length, true); }
  /// The guest sends `frame` behind `h`, from `address`.
  void transmit(const std::vector<std::uint8_t>& frame, std::uint64_t address = 0x9000, net::header h = {}) {
    h.encode(std::span<std::uint8_t, net::header::size>(m.ram.data() + address, net::header::size));
    std::memcpy(m.ram.data() + address + net::header::size, frame.data(), frame.size());
    offer(tx_desc, tx_avail, tx_offered, address, static_cast<std::uint32_t>(net::header::size + frame.size()), false);
  }
  /// Runs `f` on the card's frame server, lent as to a worker.
  template <class F>
  auto with_server(F&& f) {
    auto lent = device.lend(0);
    auto& server = static_cast<net::frame_server&>(*lent);
    auto out = f(server);
    device.take_back(0, std::move(lent));
    return out;
  }
  std::vector<std::vector<std::uint8_t>> sent() {
    return with_server([](net::frame_server& s) { return s.take_frames(); });
  }
  result<bool> receive(std::vector<std::vector<std::uint8_t>> frames) {
    return with_server([&](net::frame_server& s) { return s.receive_frames(frames); });
  }
  net::frame_counters counters() {
    return with_server([](net::frame_server& s) { return s.counters(); });
  }
  std::uint16_t rx_used_index() const { return m.get<std::uint16_t>(rx_used + 2); }
  std::uint32_t rx_used_length(std::uint16_t i) const { return m.get<std::uint32_t>(rx_used + 4 + 8 * i + 4); }
};

std::vector<std::uint8_t> frame_of(std::size_t size, std::uint8_t fill = 0x5a) {
  std::vector<std::uint8_t> f(size, fill);
  for (int i = 0; i < 6; ++i) f[i] = 0xff;  // broadcast
  return f;
}

}  // namespace

TEST_CASE("virtio-net: a MAC is six hex pairs, unicast and not zero") {
  auto mac = net::parse_mac("02:AB:cd:00:10:ff");
  REQUIRE(mac);
  CHECK(*mac == net::mac_address{0x02, 0xab, 0xcd, 0x00, 0x10, 0xff});
  CHECK(net::parse_mac("02:00:00:00:00").error().message ==
        "\"02:00:00:00:00\" is not a MAC address like 02:00:00:00:00:01");
  CHECK_FALSE(net::parse_mac("02-00-00-00-00-01"));
  CHECK_FALSE(net::parse_mac("0g:00:00:00:00:01"));
  CHECK(net::parse_mac("01:00:5e:00:00:01").error().message.find("multicast") != std::string::npos);
  CHECK(net::parse_mac("00:00:00:00:00:00").error().message.find("all-zero") != std::string::npos);
}

TEST_CASE("virtio-net: configuration space holds the MAC and link up; the card offers mergeable buffers") {
  test::test_memory m;
  net::device d(m, {0x02, 1, 2, 3, 4, 5});
  auto config = d.config_space();
  REQUIRE(config.size() == 8);
  CHECK(std::vector<std::uint8_t>(config.begin(), config.begin() + 6) == std::vector<std::uint8_t>{2, 1, 2, 3, 4, 5});
  CHECK(config[6] == 1);  // VIRTIO_NET_S_LINK_UP
  CHECK(d.device_id() == 1);
  CHECK(d.device_features() & net::feature::mrg_rxbuf);
  CHECK(d.queue_count() == 2);
  CHECK(d.worker_of(0) == d.worker_of(1));
}

TEST_CASE("virtio-net: a transmitted frame goes to the link without its header") {
  card c;
  c.transmit(frame_of(60));
  auto served = c.device.process_queue(net::frame_server::tx_queue);
  REQUIRE(served);
  CHECK(*served);
  CHECK(c.m.get<std::uint16_t>(tx_used + 2) == 1);  // handed back
  auto frames = c.sent();
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == frame_of(60));
  CHECK(c.sent().empty());  // taken once
  CHECK(c.counters().tx_frames == 1);
}

TEST_CASE("virtio-net: transmitted frames that ask for offloads or break the size rules are dropped, counted") {
  card c;
  net::header checksum;
  checksum.flags = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM, not offered
  net::header segmented;
  segmented.gso_type = 1;  // VIRTIO_NET_HDR_GSO_TCPV4, not offered
  c.transmit(frame_of(60), 0x9000, checksum);
  c.transmit(frame_of(60), 0xa000, segmented);
  c.transmit(frame_of(13), 0xb000);  // shorter than an Ethernet header
  REQUIRE(c.device.process_queue(net::frame_server::tx_queue));
  CHECK(c.m.get<std::uint16_t>(tx_used + 2) == 3);  // each handed back all the same
  CHECK(c.sent().empty());
  CHECK(c.counters().tx_dropped == 3);
  // Longer than any frame: a chain of 65 KiB + 100 bytes, of two buffers.
  c.m.ram.resize(256 * 1024);
  c.transmit(frame_of(net::max_frame + 1), 0x10000);
  REQUIRE(c.device.process_queue(net::frame_server::tx_queue));
  CHECK(c.counters().tx_dropped == 4);
  c.transmit(frame_of(net::max_frame), 0x10000);  // the longest there is
  REQUIRE(c.device.process_queue(net::frame_server::tx_queue));
  CHECK(c.sent().size() == 1);
}

TEST_CASE("virtio-net: a received frame fills one buffer after a header naming one buffer") {
  card c(false);
  c.offer_rx(0x9000, 2048);
  auto r = c.receive({frame_of(100)});
  REQUIRE(r);
  CHECK(*r);
  REQUIRE(c.rx_used_index() == 1);
  CHECK(c.rx_used_length(0) == 112);
  auto h = net::header::decode(std::span<const std::uint8_t, 12>(c.m.ram.data() + 0x9000, 12));
  CHECK(h.num_buffers == 1);
  CHECK(h.flags == 0);
  CHECK(std::memcmp(c.m.ram.data() + 0x9000 + 12, frame_of(100).data(), 100) == 0);
  CHECK(c.counters().rx_frames == 1);
}

TEST_CASE("virtio-net: with mergeable buffers a large frame spans several, and the header says how many") {
  card c;
  c.offer_rx(0x9000, 1536);
  c.offer_rx(0xa000, 1536);
  c.offer_rx(0xb000, 1536);
  const auto frame = frame_of(2000, 0x33);
  REQUIRE(c.receive({frame}));
  REQUIRE(c.rx_used_index() == 2);
  CHECK(c.rx_used_length(0) == 1536);
  CHECK(c.rx_used_length(1) == 2000 + 12 - 1536);
  auto h = net::header::decode(std::span<const std::uint8_t, 12>(c.m.ram.data() + 0x9000, 12));
  CHECK(h.num_buffers == 2);
  CHECK(std::memcmp(c.m.ram.data() + 0x9000 + 12, frame.data(), 1536 - 12) == 0);
  CHECK(std::memcmp(c.m.ram.data() + 0xa000, frame.data() + 1536 - 12, 2000 + 12 - 1536) == 0);
}

TEST_CASE("virtio-net: frames wait for receive buffers, and arrive in order once the guest offers them") {
  card c;
  c.offer_rx(0x9000, 1536);  // room for the first half of the first frame only
  auto r = c.receive({frame_of(2000, 1), frame_of(60, 2)});
  REQUIRE(r);
  CHECK_FALSE(*r);
  CHECK(c.rx_used_index() == 0);  // the buffer was not taken for a part of a frame
  c.offer_rx(0xa000, 1536);
  c.offer_rx(0xb000, 1536);
  auto served = c.device.process_queue(net::frame_server::rx_queue);  // the guest's notify
  REQUIRE(served);
  CHECK(*served);
  REQUIRE(c.rx_used_index() == 3);
  CHECK(c.m.ram[0x9000 + 12] == 0xff);
  CHECK(c.m.ram[0xa000 + 100] == 1);          // the first frame's tail
  CHECK(c.m.ram[0xb000 + 12 + 20] == 2);      // then the second
  CHECK(c.counters().rx_frames == 2);
}

TEST_CASE("virtio-net: a guest that offers no buffers holds a bounded backlog; the rest is dropped") {
  card c;
  std::vector<std::vector<std::uint8_t>> frames(net::frame_server::max_backlog_frames + 10, frame_of(60));
  REQUIRE(c.receive(frames));
  CHECK(c.counters().rx_dropped == 10);
  std::vector<std::vector<std::uint8_t>> big(40, frame_of(60000));  // 2.4 MB, over the byte bound
  REQUIRE(c.receive(big));
  CHECK(c.counters().rx_dropped == 10 + 40);
}

TEST_CASE("virtio-net: without mergeable buffers a frame larger than a buffer is dropped, the buffer kept") {
  card c(false);
  c.offer_rx(0x9000, 1536);
  REQUIRE(c.receive({frame_of(3000), frame_of(60, 7)}));
  REQUIRE(c.rx_used_index() == 1);
  CHECK(c.m.ram[0x9000 + 12 + 20] == 7);  // the small frame took the buffer
  CHECK(c.counters().rx_dropped == 1);
}

TEST_CASE("virtio-net: a receive buffer too small for the header breaks the queue's rules") {
  card c;
  c.offer_rx(0x9000, 8);
  auto r = c.receive({frame_of(60)});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "a receive buffer of 8 writable bytes, too small for the 12-byte header");
}

TEST_CASE("virtio-net: a reset forgets the backlog") {
  card c;
  REQUIRE(c.receive({frame_of(60)}));
  c.device.reset();
  std::vector<queue_config> queues{{ring, rx_desc, rx_avail, rx_used}, {ring, tx_desc, tx_avail, tx_used}};
  REQUIRE(c.device.activate(feature::version_1 | net::feature::mrg_rxbuf, queues));
  c.offer_rx(0x9000, 1536);
  REQUIRE(c.device.process_queue(net::frame_server::rx_queue));
  CHECK(c.rx_used_index() == 0);
}
