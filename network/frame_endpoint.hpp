#pragma once
// Something outside the process's switches that a card's frames go to:
// a NAT (slirp_stack) or a TAP device (tap_device). Each runs a thread of
// its own; frames reach it through a bounded inbox (frame_inbox), and what
// it has for the guest goes to the deliver function, on that thread.

#include "network/impairment.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace smvm::network {

/// Takes frames for the guest, on the endpoint's thread.
using deliver_fn = std::function<void(std::vector<frame_bytes>)>;

struct endpoint_counters {
  std::uint64_t in_frames = 0, out_frames = 0;  // from the guest, to it
  std::uint64_t dropped = 0;                    // from the guest, with the inbox full
};

class frame_endpoint {
 public:
  virtual ~frame_endpoint() = default;
  /// Frames the guest sent; any that do not fit the inbox are dropped.
  virtual void send(std::vector<frame_bytes> frames) = 0;
  virtual endpoint_counters counters() const = 0;
};

/// Frames on their way to an endpoint's thread: at most `limit` bytes
/// waiting, the rest dropped and counted; an eventfd wakes the thread.
class frame_inbox {
 public:
  static constexpr std::size_t default_limit = 4u << 20;
  explicit frame_inbox(std::size_t limit = default_limit);
  ~frame_inbox();
  frame_inbox(const frame_inbox&) = delete;
  frame_inbox& operator=(const frame_inbox&) = delete;

  /// False when the eventfd could not be made (out of descriptors).
  bool ready() const { return wake_fd_ >= 0; }
  /// What the thread polls for input: readable when push() or wake() ran.
  int wake_fd() const { return wake_fd_; }
  void push(std::vector<frame_bytes> frames);
  void wake();
  /// Everything waiting, and the eventfd cleared; on the thread.
  std::vector<frame_bytes> take();
  void count_out(std::size_t frames);
  endpoint_counters counters() const;

 private:
  const std::size_t limit_;
  int wake_fd_ = -1;
  mutable std::mutex mutex_;
  std::vector<frame_bytes> frames_;
  std::size_t bytes_ = 0;
  endpoint_counters counters_;
};

}  // namespace smvm::network
