#pragma once
// The data side of virtio-net: one worker serves both queues. Frames the
// guest puts on the transmit queue are checked and collected for the link;
// frames from the link go into the receive queue's buffers, spread over
// several with VIRTIO_NET_F_MRG_RXBUF. Both ways are bounded: a guest that
// offers no receive buffers holds at most max_backlog_bytes of frames here,
// and what does not fit is dropped and counted, as on a real wire.

#include "devices/virtio/net/header.hpp"
#include "devices/virtio/queue.hpp"
#include "devices/virtio/queue_server.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

namespace smvm::devices::virtio::net {

/// What a card has carried and dropped since it was made.
struct frame_counters {
  std::uint64_t tx_frames = 0, tx_bytes = 0;
  std::uint64_t tx_dropped = 0;  // a header asking for an offload, a frame too short or too long
  std::uint64_t rx_frames = 0, rx_bytes = 0;
  std::uint64_t rx_dropped = 0;  // no room in the backlog, or larger than any receive buffer
};

class frame_server final : public queue_server {
 public:
  static constexpr std::uint16_t rx_queue = 0, tx_queue = 1;
  /// Frames waiting for receive buffers, at most.
  static constexpr std::size_t max_backlog_frames = 512;
  static constexpr std::size_t max_backlog_bytes = 2u << 20;
  /// Frames one serve() takes from the transmit queue: the link gets them
  /// in batches of at most this, and the guest's next ones wait in its ring.
  static constexpr std::size_t max_batch = 256;

  result<bool> serve(std::uint16_t index) override;
  std::vector<frame_bytes> take_frames() override { return std::exchange(outbox_, {}); }
  result<bool> receive_frames(std::vector<frame_bytes>& frames) override;
  std::uint32_t take_wakeups() override { return std::exchange(wakeups_, 0); }

  /// `mergeable`: VIRTIO_NET_F_MRG_RXBUF was negotiated.
  void activate(std::optional<queue> rx, std::optional<queue> tx, bool mergeable);
  /// Forgets the queues and every frame held.
  void reset();
  std::vector<queue*> queues();
  const frame_counters& counters() const { return counters_; }

 private:
  /// The guest's frames, into the outbox.
  result<bool> collect();
  /// One frame the guest sent, checked, into the outbox (or counted as dropped).
  void take_frame(const chain& c);
  /// The backlog, into the guest's receive buffers while they last.
  result<bool> deliver();
  /// Writes `frame` after its header into `chains`' writable buffers.
  result<void> write_frame(const frame_bytes& frame, std::vector<chain>& chains);

  std::optional<queue> rx_, tx_;
  bool mergeable_ = false;
  std::deque<frame_bytes> backlog_;
  std::size_t backlog_bytes_ = 0;
  std::vector<frame_bytes> outbox_;
  std::uint32_t wakeups_ = 0;
  frame_counters counters_;
};

}  // namespace smvm::devices::virtio::net
