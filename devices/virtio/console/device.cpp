#include "devices/virtio/console/device.hpp"

#include "common/state_codec.hpp"

#include <algorithm>
#include <cstring>

namespace smvm::devices::virtio::console {

device::device(const memory_view& memory, output_fn output) : memory_(memory) {
  const std::uint32_t max_ports = 1;
  std::memcpy(config_.data() + 4, &max_ports, 4);
  set_servers({std::make_shared<receive_server>(), std::make_shared<transmit_server>(std::move(output))});
}

result<void> device::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  const bool event_idx = features & virtio::feature::ring_event_idx;
  auto rx = queue::create_live(memory_, queues, receive_queue, event_idx, "virtio-console receiveq");
  if (!rx) return rx.error();
  auto tx = queue::create_live(memory_, queues, transmit_queue, event_idx, "virtio-console transmitq");
  if (!tx) return tx.error();
  std::optional<queue> control_rx, control_tx;
  const bool multiport = features & feature::multiport;
  if (multiport) {
    auto crx = queue::create_live(memory_, queues, control_receive_queue, event_idx, "virtio-console control receiveq");
    if (!crx) return crx.error();
    auto ctx = queue::create_live(memory_, queues, control_transmit_queue, event_idx, "virtio-console control transmitq");
    if (!ctx) return ctx.error();
    control_rx = std::move(*crx);
    control_tx = std::move(*ctx);
  }
  home<receive_server>(0)->activate(std::move(*rx), std::move(control_rx), std::move(control_tx), multiport);
  home<transmit_server>(1)->tx = std::move(*tx);
  return {};
}

void device::reset() {
  home<receive_server>(0)->reset();
  home<transmit_server>(1)->tx.reset();
}

std::vector<queue*> device::queues() {
  auto all = home<receive_server>(0)->queues();
  auto& tx = home<transmit_server>(1)->tx;
  all[transmit_queue] = tx ? &*tx : nullptr;
  return all;
}

std::vector<std::uint8_t> device::save_extra() const { return encode_state(home<receive_server>(0)->save()); }

result<void> device::restore_extra(std::span<const std::uint8_t> bytes) {
  auto state = decode_state<saved_extra>(bytes, "virtio-console state");
  if (!state) return state.error();
  return home<receive_server>(0)->restore(*state);
}

result<bool> transmit_server::serve(std::uint16_t) {
  if (!tx) return false;
  return tx->serve_all([this](const chain& c) -> result<std::uint32_t> {
    for (auto& b : c.buffers)
      if (!b.device_writable && output_) output_(b.bytes);
    return 0u;
  });
}

void receive_server::activate(std::optional<queue> rx, std::optional<queue> control_rx,
                              std::optional<queue> control_tx, bool multiport) {
  rx_ = std::move(rx);
  control_rx_ = std::move(control_rx);
  control_tx_ = std::move(control_tx);
  outgoing_.clear();
  // Without control messages there is no handshake to wait for.
  connected_ = !multiport;
}

void receive_server::reset() {
  rx_.reset();
  control_rx_.reset();
  control_tx_.reset();
  outgoing_.clear();
  connected_ = false;
}

std::vector<queue*> receive_server::queues() {
  auto slot = [](std::optional<queue>& q) { return q ? &*q : nullptr; };
  return {slot(rx_), nullptr, slot(control_rx_), slot(control_tx_)};
}

result<bool> receive_server::serve(std::uint16_t index) {
  return index == device::receive_queue ? process_receive() : process_control();
}

std::size_t receive_server::receive(std::span<const std::uint8_t> bytes) {
  std::size_t room = input_capacity - std::min(input_capacity, pending_.size());
  std::size_t n = std::min(room, bytes.size());
  pending_.insert(pending_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

result<bool> receive_server::process_receive() {
  if (!rx_ || !connected_) return false;
  bool used = false;
  while (!pending_.empty()) {
    auto next = rx_->pop();
    if (!next) return next.error();
    if (!*next) break;  // no buffer offered: the input waits
    std::uint32_t written = 0;
    for (auto& b : (*next)->buffers) {
      if (!b.device_writable) continue;
      std::size_t n = std::min(b.bytes.size(), pending_.size());
      std::copy_n(pending_.begin(), n, b.bytes.begin());
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
      written += static_cast<std::uint32_t>(n);
    }
    if (auto r = rx_->push_used((*next)->head, written); !r) return r.error();
    used = true;
  }
  return used && rx_->should_interrupt();
}

void receive_server::handle(const control& m) {
  if (m.id != 0 && m.event != event::device_ready) return;  // there is only port 0
  switch (m.event) {
    case event::device_ready:
      if (m.value == 1) outgoing_.push_back({0, event::device_add, 1});
      break;
    case event::port_ready:
      // Port 0 is the console, and the host side of it is always open.
      if (m.value == 1) {
        outgoing_.push_back({0, event::console_port, 1});
        outgoing_.push_back({0, event::port_open, 1});
      }
      break;
    case event::port_open:
      connected_ = m.value == 1;
      if (connected_) wakeups_ |= 1u << device::receive_queue;  // deliver what waited
      break;
    default: break;  // resize, names, removal: nothing to do for one console
  }
}

result<bool> receive_server::process_control() {
  if (!control_tx_ || !control_rx_) return false;
  auto sent = control_tx_->serve_all([this](const chain& c) -> result<std::uint32_t> {
    control m;
    std::array<std::uint8_t, sizeof m> bytes{};
    std::size_t got = 0;
    for (auto& b : c.buffers) {
      if (b.device_writable) continue;
      std::size_t n = std::min(b.bytes.size(), bytes.size() - got);
      std::copy_n(b.bytes.begin(), n, bytes.begin() + static_cast<std::ptrdiff_t>(got));
      got += n;
    }
    if (got < bytes.size()) return make_error("a control message of {} bytes, expected {}", got, bytes.size());
    std::memcpy(&m, bytes.data(), sizeof m);
    handle(m);
    return 0u;
  });
  if (!sent) return sent.error();
  auto answered = flush_control();
  if (!answered) return answered.error();
  return *sent || *answered;
}

result<bool> receive_server::flush_control() {
  bool used = false;
  while (!outgoing_.empty()) {
    auto next = control_rx_->pop();
    if (!next) return next.error();
    if (!*next) break;  // the guest has no buffer: the message waits for one
    const control m = outgoing_.front();
    std::uint32_t written = 0;
    for (auto& b : (*next)->buffers) {
      if (!b.device_writable || b.bytes.size() < sizeof m) continue;
      std::memcpy(b.bytes.data(), &m, sizeof m);
      written = sizeof m;
      break;
    }
    if (written == 0) return make_error("a control receive buffer smaller than {} bytes", sizeof m);
    outgoing_.pop_front();
    if (auto r = control_rx_->push_used((*next)->head, written); !r) return r.error();
    used = true;
  }
  return used && control_rx_->should_interrupt();
}

saved_extra receive_server::save() const {
  return {connected_, {pending_.begin(), pending_.end()}, {outgoing_.begin(), outgoing_.end()}};
}

result<void> receive_server::restore(const saved_extra& state) {
  if (state.waiting.size() > input_capacity)
    return make_error("virtio-console state: {} bytes of waiting input, more than the {} it holds",
                      state.waiting.size(), input_capacity);
  connected_ = state.connected;
  pending_.assign(state.waiting.begin(), state.waiting.end());
  outgoing_.assign(state.outgoing.begin(), state.outgoing.end());
  return {};
}

}  // namespace smvm::devices::virtio::console
