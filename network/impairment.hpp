#pragma once
// What a link does to the frames it carries, as netem would: delay with
// jitter, loss, duplication, reordering, a rate limit, or the link down.
// A seeded generator makes every choice, so one seed and one sequence of
// frames give the same result every run. Frames the rate limit cannot
// send wait in a bounded queue; the rest are dropped (tail drop), as a
// real interface's queue would.

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <vector>

namespace smvm::network {

/// One Ethernet frame (devices/virtio/queue_server.hpp's frame_bytes).
using frame_bytes = std::vector<std::uint8_t>;

struct impairment_config {
  std::uint32_t delay_us = 0;
  std::uint32_t jitter_us = 0;  // each frame's delay is delay ± up to this, never below 0
  double loss = 0;       // the share of frames dropped, 0 to 1
  double duplicate = 0;  // the share of frames sent twice
  double reorder = 0;    // the share of frames held back (by the delay, or 1 ms) so later ones overtake them
  std::uint64_t rate_bits = 0;  // bits per second; 0: no limit
  bool down = false;     // every frame is dropped
  std::uint64_t seed = 1;

  /// Nothing set: the link carries frames unchanged and at once.
  bool transparent() const {
    return delay_us == 0 && jitter_us == 0 && loss == 0 && duplicate == 0 && reorder == 0 &&
           rate_bits == 0 && !down;
  }
};

/// What an impaired link did, since it was made.
struct impairment_counters {
  std::uint64_t lost = 0, dropped_down = 0, dropped_queue = 0, duplicated = 0, reordered = 0;
};

class impairment {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  /// The rate limit's queue: frames waiting to be sent, at most.
  static constexpr std::size_t max_queued_bytes = 4u << 20;

  impairment() { configure({}); }
  explicit impairment(const impairment_config& config) { configure(config); }
  /// Takes new settings; frames already scheduled keep their times.
  void configure(const impairment_config& config);
  const impairment_config& config() const { return config_; }

  /// `frame` enters the link at `now`: dropped, or scheduled (once or twice).
  void push(frame_bytes frame, time_point now);
  /// The frames whose time has come by `now`, in the order they leave.
  std::vector<frame_bytes> take_due(time_point now);
  /// When the next scheduled frame leaves, if any is.
  std::optional<time_point> next_due() const;
  const impairment_counters& counters() const { return counters_; }

 private:
  struct scheduled {
    time_point at;
    std::uint64_t order;  // ties leave in the order they were scheduled
    std::size_t bytes;
    mutable frame_bytes frame;
    bool operator<(const scheduled& o) const { return at != o.at ? at < o.at : order < o.order; }
  };
  bool chance(double share) { return share > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < share; }
  void schedule(frame_bytes frame, time_point at);

  impairment_config config_;
  std::mt19937_64 rng_;
  std::set<scheduled> queue_;
  std::uint64_t next_order_ = 0;
  std::size_t queued_bytes_ = 0;
  time_point line_free_{};   // the rate limit: when the line has sent what it was given
  time_point last_in_order_{};  // frames not reordered never leave before this
  impairment_counters counters_;
};

}  // namespace smvm::network
