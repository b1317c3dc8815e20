#include "network/frame_endpoint.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <utility>

namespace smvm::network {

frame_inbox::frame_inbox(std::size_t limit) : limit_(limit), wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

frame_inbox::~frame_inbox() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

void frame_inbox::push(std::vector<frame_bytes> frames) {
  {
    std::lock_guard lock(mutex_);
    for (auto& f : frames) {
      if (bytes_ + f.size() > limit_) {
        ++counters_.dropped;
        continue;
      }
      bytes_ += f.size();
      ++counters_.in_frames;
      frames_.push_back(std::move(f));
    }
  }
  wake();
}

void frame_inbox::wake() {
  const std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

std::vector<frame_bytes> frame_inbox::take() {
  std::uint64_t count;
  (void)!read(wake_fd_, &count, sizeof count);
  std::lock_guard lock(mutex_);
  bytes_ = 0;
  return std::exchange(frames_, {});
}

void frame_inbox::count_out(std::size_t frames) {
  std::lock_guard lock(mutex_);
  counters_.out_frames += frames;
}

endpoint_counters frame_inbox::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace smvm::network
