#include "devices/virtio/vsock/device.hpp"

#include <algorithm>
#include <cstring>

namespace smvm::devices::virtio::vsock {

result<std::unique_ptr<device>> device::open(const memory_view& memory, std::uint64_t guest_cid,
                                             const std::string& uds_path) {
  auto m = muxer::open(guest_cid, uds_path);
  if (!m) return m.error();
  return std::unique_ptr<device>(new device(memory, guest_cid, std::move(*m)));
}

device::device(const memory_view& memory, std::uint64_t guest_cid, std::unique_ptr<muxer> m) : memory_(memory) {
  std::memcpy(config_.data(), &guest_cid, sizeof guest_cid);
  set_servers({std::make_shared<connection_server>(std::move(m), guest_cid)});
}

result<void> device::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  const bool event_idx = features & virtio::feature::ring_event_idx;
  auto rx = queue::create_live(memory_, queues, rx_queue, event_idx, "virtio-vsock rx");
  if (!rx) return rx.error();
  auto tx = queue::create_live(memory_, queues, tx_queue, event_idx, "virtio-vsock tx");
  if (!tx) return tx.error();
  auto event = queue::create_live(memory_, queues, event_queue, event_idx, "virtio-vsock event");
  if (!event) return event.error();
  home<connection_server>(0)->activate(std::move(*rx), std::move(*tx), std::move(*event));
  return {};
}

void device::reset() { home<connection_server>(0)->reset(); }

std::vector<queue*> device::queues() { return home<connection_server>(0)->queues(); }

result<void> device::restore_extra(std::span<const std::uint8_t> bytes) {
  if (!bytes.empty()) return make_error("virtio-vsock: {} bytes of state it does not keep", bytes.size());
  home<connection_server>(0)->owe_transport_reset();
  return {};
}

void connection_server::activate(std::optional<queue> rx, std::optional<queue> tx, std::optional<queue> event) {
  rx_ = std::move(rx);
  tx_ = std::move(tx);
  event_ = std::move(event);
  staged_.reset();
  starved_ = false;
}

void connection_server::reset() {
  rx_.reset();
  tx_.reset();
  event_.reset();
  muxer_->drop_all();
  staged_.reset();
  starved_ = false;
  reset_ = reset_state::none;
}

std::vector<queue*> connection_server::queues() {
  auto slot = [](std::optional<queue>& q) { return q ? &*q : nullptr; };
  return {slot(rx_), slot(tx_), slot(event_)};
}

result<bool> connection_server::serve(std::uint16_t index) {
  switch (index) {
    case device::rx_queue: return serve_receive();
    case device::tx_queue: {
      auto sent = serve_transmit();
      if (!sent) return sent;
      auto received = serve_receive();  // the guest's packets may owe it answers
      if (!received) return received;
      return *sent || *received;
    }
    default: return serve_event();
  }
}

result<bool> connection_server::serve_backend() {
  if (reset_ == reset_state::none) muxer_->poll_host();  // else held until the guest has reset (backend_wanted)
  return serve_receive();
}

result<bool> connection_server::serve_transmit() {
  if (!tx_) return false;
  return tx_->serve_all([this](const chain& c) -> result<std::uint32_t> {
    header h;
    if (auto p = read_packet(c, guest_cid_, h)) muxer_->from_guest(*p);
    else if (c.readable_bytes() >= header::size) muxer_->reject(h);  // resets what it names
    return 0u;
  });
}

result<bool> connection_server::serve_receive() {
  if (!rx_) return false;
  bool used = false;
  starved_ = false;
  for (;;) {
    if (!staged_) {
      header h;
      staged_payload_.resize(std::clamp<std::size_t>(last_room_, 1, max_payload));
      if (!muxer_->next_for_guest(h, staged_payload_)) break;
      staged_ = h;
      staged_sent_ = 0;
    }
    auto next = rx_->pop();
    if (!next) return next.error();
    if (!*next) {  // the packet waits for the guest's next buffer
      starved_ = true;
      break;
    }
    const chain& c = **next;
    const std::size_t room = payload_room(c);
    const std::size_t left = staged_->len - staged_sent_;
    if (c.writable_bytes() < header::size || (left > 0 && room == 0))
      return make_error("a receive buffer of {} writable bytes, too small for a packet", c.writable_bytes());
    last_room_ = room;
    header h = *staged_;
    const std::size_t piece = std::min(room, left);
    h.len = static_cast<std::uint32_t>(piece);
    auto written = write_packet(c, h, std::span(staged_payload_).subspan(staged_sent_, piece));
    if (!written) return written.error();
    if (auto r = rx_->push_used(c.head, *written); !r) return r.error();
    used = true;
    staged_sent_ += piece;
    if (staged_sent_ >= staged_->len) staged_.reset();
  }
  return used && rx_->should_interrupt();
}

result<bool> connection_server::serve_event() {
  if (reset_ == reset_state::sent) {  // once the guest gives the buffer back, it has handled the reset
    auto offered = event_ ? event_->available_index() : result<std::uint16_t>(offered_when_sent_);
    if (!offered) return offered.error();
    if (*offered != offered_when_sent_) reset_ = reset_state::none;  // host programs may connect
    return false;
  }
  if (!event_ || reset_ != reset_state::owed) return false;
  auto next = event_->pop();
  if (!next) return next.error();
  if (!*next) return false;  // told once the guest offers an event buffer
  constexpr std::uint32_t transport_reset = 0;  // VIRTIO_VSOCK_EVENT_TRANSPORT_RESET
  std::uint32_t written = 0;
  for (const auto& b : (*next)->buffers)
    if (b.device_writable && b.bytes.size() >= sizeof transport_reset) {
      std::memcpy(b.bytes.data(), &transport_reset, sizeof transport_reset);
      written = sizeof transport_reset;
      break;
    }
  if (written == 0) return make_error("an event buffer smaller than {} bytes", sizeof transport_reset);
  if (auto r = event_->push_used((*next)->head, written); !r) return r.error();
  auto offered = event_->available_index();
  if (!offered) return offered.error();
  offered_when_sent_ = *offered;
  if (auto r = event_->notify_on_next_offer(); !r) return r.error();
  reset_ = reset_state::sent;
  return event_->should_interrupt();
}

}  // namespace smvm::devices::virtio::vsock
