#include "devices/virtio/net/device.hpp"

#include <algorithm>
#include <cctype>

namespace smvm::devices::virtio::net {

namespace {
constexpr std::uint16_t link_up = 1;  // VIRTIO_NET_S_LINK_UP
}

device::device(const memory_view& memory, mac_address mac) : memory_(memory) {
  std::copy(mac.begin(), mac.end(), config_.begin());
  config_[6] = static_cast<std::uint8_t>(link_up);
  config_[7] = 0;
  set_servers({std::make_shared<frame_server>()});
}

result<void> device::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  const bool event_idx = features & virtio::feature::ring_event_idx;
  auto rx = queue::create_live(memory_, queues, frame_server::rx_queue, event_idx, "virtio-net receive");
  if (!rx) return rx.error();
  auto tx = queue::create_live(memory_, queues, frame_server::tx_queue, event_idx, "virtio-net transmit");
  if (!tx) return tx.error();
  home<frame_server>(0)->activate(std::move(*rx), std::move(*tx), features & feature::mrg_rxbuf);
  return {};
}

void device::reset() { home<frame_server>(0)->reset(); }

std::vector<queue*> device::queues() { return home<frame_server>(0)->queues(); }

result<mac_address> parse_mac(std::string_view text) {
  mac_address mac{};
  auto bad = [&] { return make_error("\"{}\" is not a MAC address like 02:00:00:00:00:01", text); };
  if (text.size() != 17) return bad();
  for (std::size_t i = 0; i < 6; ++i) {
    const char hi = text[3 * i], lo = text[3 * i + 1];
    if (!std::isxdigit(static_cast<unsigned char>(hi)) || !std::isxdigit(static_cast<unsigned char>(lo))) return bad();
    if (i < 5 && text[3 * i + 2] != ':') return bad();
    auto nibble = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
    mac[i] = static_cast<std::uint8_t>(nibble(hi) << 4 | nibble(lo));
  }
  if (mac[0] & 1) return make_error("{} is a multicast address; a card needs a unicast one (an even first byte)", text);
  if (std::all_of(mac.begin(), mac.end(), [](std::uint8_t b) { return b == 0; }))
    return make_error("{} is the all-zero address; give the card a real one", text);
  return mac;
}

}  // namespace smvm::devices::virtio::net
