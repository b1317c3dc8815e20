#include "devices/virtio/net/frame_server.hpp"

#include <algorithm>
#include <cstring>

namespace smvm::devices::virtio::net {

void frame_server::activate(std::optional<queue> rx, std::optional<queue> tx, bool mergeable) {
  rx_ = std::move(rx);
  tx_ = std::move(tx);
  mergeable_ = mergeable;
}

void frame_server::reset() {
  rx_.reset();
  tx_.reset();
  backlog_.clear();
  backlog_bytes_ = 0;
  outbox_.clear();
}

std::vector<queue*> frame_server::queues() {
  return {rx_ ? &*rx_ : nullptr, tx_ ? &*tx_ : nullptr};
}

result<bool> frame_server::serve(std::uint16_t index) {
  if (index == tx_queue) return collect();
  return deliver();  // the guest offered receive buffers
}

result<bool> frame_server::collect() {
  if (!tx_) return false;
  bool used = false;
  for (std::size_t taken = 0;; ++taken) {
    if (taken == max_batch) {  // the rest after this batch is on its way: serve() is asked back
      wakeups_ |= 1u << tx_queue;
      break;
    }
    auto next = tx_->pop();
    if (!next) return next.error();
    if (!*next) break;
    take_frame(**next);
    if (auto r = tx_->push_used((*next)->head, 0); !r) return r.error();
    used = true;
  }
  return used && tx_->should_interrupt();
}

void frame_server::take_frame(const chain& c) {
  const std::size_t total = c.readable_bytes();
  if (total < header::size + min_frame || total > header::size + max_frame) {
    ++counters_.tx_dropped;
    return;
  }
  frame_bytes bytes(total);
  std::size_t at = 0;
  for (const auto& b : c.buffers)  // readable buffers come first
    if (!b.device_writable) {
      std::memcpy(bytes.data() + at, b.bytes.data(), b.bytes.size());
      at += b.bytes.size();
    }
  const header h = header::decode(std::span<const std::uint8_t, header::size>(bytes.data(), header::size));
  if (!check_transmit(h)) {
    ++counters_.tx_dropped;
    return;
  }
  bytes.erase(bytes.begin(), bytes.begin() + header::size);
  ++counters_.tx_frames;
  counters_.tx_bytes += bytes.size();
  outbox_.push_back(std::move(bytes));
}

result<bool> frame_server::receive_frames(std::vector<frame_bytes>& frames) {
  for (auto& f : frames) {
    if (f.size() < min_frame || f.size() > max_frame || backlog_.size() >= max_backlog_frames ||
        backlog_bytes_ + f.size() > max_backlog_bytes) {
      ++counters_.rx_dropped;
      continue;
    }
    backlog_bytes_ += f.size();
    backlog_.push_back(std::move(f));
  }
  frames.clear();
  return deliver();
}

result<bool> frame_server::deliver() {
  if (!rx_) return false;
  bool used = false;
  while (!backlog_.empty()) {
    const frame_bytes& frame = backlog_.front();
    const std::size_t need = header::size + frame.size();
    // Buffers until the frame fits: one without mergeable buffers, as many
    // as it takes with them.
    std::vector<chain> chains;
    std::size_t room = 0;
    while (room < need && (chains.empty() || mergeable_)) {
      auto next = rx_->pop();
      if (!next) return next.error();
      if (!*next) break;
      if ((*next)->writable_bytes() < header::size)
        return make_error("a receive buffer of {} writable bytes, too small for the {}-byte header",
                          (*next)->writable_bytes(), header::size);
      room += (*next)->writable_bytes();
      chains.push_back(std::move(**next));
    }
    if (room < need) {
      rx_->give_back(static_cast<std::uint16_t>(chains.size()));
      if (!mergeable_ && !chains.empty()) {  // no buffer of this size will ever hold it
        ++counters_.rx_dropped;
        backlog_bytes_ -= frame.size();
        backlog_.pop_front();
        continue;
      }
      // The frame waits for more buffers; the driver is asked to say when.
      if (auto r = rx_->notify_on_next_offer(); !r) return r.error();
      break;
    }
    if (auto r = write_frame(frame, chains); !r) return r.error();
    used = true;
    ++counters_.rx_frames;
    counters_.rx_bytes += frame.size();
    backlog_bytes_ -= frame.size();
    backlog_.pop_front();
  }
  return used && rx_->should_interrupt();
}

result<void> frame_server::write_frame(const frame_bytes& frame, std::vector<chain>& chains) {
  std::uint8_t head[header::size];
  header h;
  h.num_buffers = static_cast<std::uint16_t>(chains.size());  // at most a ring: 256
  h.encode(head);
  const std::span<const std::uint8_t> parts[2] = {head, frame};
  std::size_t part = 0, at = 0;
  for (const chain& c : chains) {
    std::uint32_t written = 0;
    for (const auto& b : c.buffers) {
      if (!b.device_writable) continue;
      for (std::size_t off = 0; off < b.bytes.size() && part < 2;) {
        const std::size_t n = std::min(b.bytes.size() - off, parts[part].size() - at);
        std::memcpy(b.bytes.data() + off, parts[part].data() + at, n);
        off += n;
        at += n;
        written += static_cast<std::uint32_t>(n);
        if (at == parts[part].size()) {
          ++part;
          at = 0;
        }
      }
    }
    if (auto r = rx_->push_used(c.head, written); !r) return r.error();
  }
  return {};
}

}  // namespace smvm::devices::virtio::net
