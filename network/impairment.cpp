#include "network/impairment.hpp"

#include <algorithm>

namespace smvm::network {

void impairment::configure(const impairment_config& config) {
  config_ = config;
  config_.loss = std::clamp(config_.loss, 0.0, 1.0);
  config_.duplicate = std::clamp(config_.duplicate, 0.0, 1.0);
  config_.reorder = std::clamp(config_.reorder, 0.0, 1.0);
  rng_.seed(config_.seed);
}

void impairment::push(frame_bytes frame, time_point now) {
  if (config_.down) {
    ++counters_.dropped_down;
    return;
  }
  if (chance(config_.loss)) {
    ++counters_.lost;
    return;
  }
  if (queued_bytes_ + frame.size() > max_queued_bytes) {
    ++counters_.dropped_queue;
    return;
  }
  time_point at = now;
  if (config_.rate_bits) {  // the line sends one frame after another at its rate
    const auto wire = std::chrono::nanoseconds(frame.size() * 8 * 1'000'000'000ull / config_.rate_bits);
    at = std::max(now, line_free_) + wire;
    line_free_ = at;
  }
  const auto base = std::chrono::nanoseconds(std::chrono::microseconds(config_.delay_us));
  auto delay = base;
  if (config_.jitter_us) {
    const auto j = std::chrono::nanoseconds(std::chrono::microseconds(config_.jitter_us)).count();
    delay += std::chrono::nanoseconds(std::uniform_int_distribution<std::int64_t>(-j, j)(rng_));
    delay = std::max(delay, std::chrono::nanoseconds(0));
  }
  at += delay;
  if (chance(config_.reorder)) {
    // Held back past the frames after it; it does not hold them up.
    ++counters_.reordered;
    at += std::max<std::chrono::nanoseconds>(base, std::chrono::milliseconds(1));
  } else {
    at = std::max(at, last_in_order_);  // jitter alone does not reorder
    last_in_order_ = at;
  }
  if (chance(config_.duplicate)) {
    ++counters_.duplicated;
    schedule(frame, at);
  }
  schedule(std::move(frame), at);
}

void impairment::schedule(frame_bytes frame, time_point at) {
  queued_bytes_ += frame.size();
  const std::size_t bytes = frame.size();
  queue_.insert(scheduled{at, next_order_++, bytes, std::move(frame)});
}

std::vector<frame_bytes> impairment::take_due(time_point now) {
  std::vector<frame_bytes> out;
  while (!queue_.empty() && queue_.begin()->at <= now) {
    auto first = queue_.begin();
    queued_bytes_ -= first->bytes;
    out.push_back(std::move(first->frame));
    queue_.erase(first);
  }
  return out;
}

std::optional<impairment::time_point> impairment::next_due() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->at;
}

}  // namespace smvm::network
