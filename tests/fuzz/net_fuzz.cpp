// libFuzzer target: what a guest does to virtio-net (virtqueue_fuzz covers
// the rings themselves). The first byte picks the features (mergeable
// receive buffers, event index); then each record is one step:
//   0 [u16 length][u8 split][bytes]  a transmit chain: header and frame,
//                                    split into two buffers where it says
//   1 [u16 length]                   a receive buffer of that many bytes
//   2 [u16 length]                   a frame of that many bytes from the link
// Transmitted frames go back in as received ones, so sizes the guest picks
// reach the receive path too. Nothing may crash, touch memory outside
// guest RAM (ASan watches it) or deliver a frame it was not given.

#include "devices/virtio/net/device.hpp"

#include "tests/fuzz/fuzz_memory.hpp"
#include "tests/fuzz/fuzz_ring.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

using namespace smvm;
using namespace smvm::devices::virtio;

namespace {

constexpr std::size_t ram_size = 512 * 1024;
constexpr std::uint16_t queue_size = 64;
constexpr std::uint64_t rx_desc = 0x0000, tx_desc = 0x1000;
constexpr std::uint64_t rx_area = 0x10000, rx_area_end = 0x30000;
constexpr std::uint64_t tx_area = 0x30000, tx_area_end = ram_size;

std::uint16_t take16(const std::uint8_t*& data, std::size_t& size) {
  if (size < 2) return 0;
  const std::uint16_t v = static_cast<std::uint16_t>(data[0] | data[1] << 8);
  data += 2, size -= 2;
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::vector<std::uint8_t> ram(ram_size);
  fuzz::fuzz_memory memory(ram);
  net::device d(memory, {0x02, 0, 0, 0, 0, 1});
  const std::uint64_t features = feature::version_1 | (data[0] & 1 ? net::feature::mrg_rxbuf : 0) |
                                 (data[0] & 2 ? feature::ring_event_idx : 0);
  ++data, --size;
  fuzz::ring rx{ram, rx_desc, queue_size}, tx{ram, tx_desc, queue_size};
  if (!d.activate(features, {rx.config(), tx.config()})) return 0;
  auto server = d.lend(0);
  auto& frames = static_cast<net::frame_server&>(*server);
  std::uint64_t rx_at = rx_area, tx_at = tx_area;
  std::uint16_t rx_next = 0, tx_next = 0;
  std::uint64_t given = 0;  // frames handed to the receive path
  while (size >= 1) {
    const std::uint8_t op = data[0] % 3;
    ++data, --size;
    const std::size_t length = take16(data, size);
    if (op == 0) {
      const std::size_t split = size ? std::min<std::size_t>(data[0], length) : 0;
      if (size) ++data, --size;
      const std::size_t n = std::min({length, size, static_cast<std::size_t>(tx_area_end - tx_at)});
      std::memcpy(ram.data() + tx_at, data, n);
      const std::size_t first = std::min(split, n);
      tx.offer(tx_next, {{tx_at, static_cast<std::uint32_t>(first), false},
                         {tx_at + first, static_cast<std::uint32_t>(n - first), false}});
      tx_next = static_cast<std::uint16_t>(tx_next + 2);
      tx_at = tx_at + n + 4096 > tx_area_end ? tx_area : tx_at + n;
      data += n, size -= n;
      (void)frames.serve(net::frame_server::tx_queue);
      auto sent = frames.take_frames();
      given += sent.size();
      (void)frames.receive_frames(sent);
    } else if (op == 1) {
      const std::size_t n = std::min<std::size_t>(length, rx_area_end - rx_at);
      rx.offer(rx_next++, {{rx_at, static_cast<std::uint32_t>(n), true}});
      rx_at = rx_at + n + 4096 > rx_area_end ? rx_area : rx_at + n;
      (void)frames.serve(net::frame_server::rx_queue);
    } else {
      std::vector<std::vector<std::uint8_t>> in{std::vector<std::uint8_t>(length, 0x5a)};
      ++given;
      (void)frames.receive_frames(in);
    }
  }
  const auto& c = frames.counters();
  if (c.rx_frames + c.rx_dropped > given) std::abort();  // a frame delivered twice, or from nowhere
  d.take_back(0, std::move(server));
  return 0;
}
