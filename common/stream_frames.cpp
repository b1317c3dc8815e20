#include "common/stream_frames.hpp"

#include <algorithm>

namespace smvm {

std::vector<std::uint8_t> encode_frame(smvm_frame_type type, std::span<const std::uint8_t> payload) {
  const std::size_t size = std::min<std::size_t>(payload.size(), SMVM_FRAME_MAX_PAYLOAD);
  std::vector<std::uint8_t> frame{static_cast<std::uint8_t>(type), 0, static_cast<std::uint8_t>(size & 0xff),
                                  static_cast<std::uint8_t>(size >> 8)};
  frame.insert(frame.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(size));
  return frame;
}

void frame_decoder::feed(std::span<const std::uint8_t> bytes) {
  partial_.insert(partial_.end(), bytes.begin(), bytes.end());
  std::size_t at = 0;
  while (partial_.size() - at >= SMVM_FRAME_HEADER_SIZE) {
    const std::size_t size = partial_[at + 2] | static_cast<std::size_t>(partial_[at + 3]) << 8;
    if (partial_.size() - at < SMVM_FRAME_HEADER_SIZE + size) break;
    const std::uint8_t type = partial_[at];
    on_frame_(type, std::span<const std::uint8_t>(partial_).subspan(at + SMVM_FRAME_HEADER_SIZE, size));
    at += SMVM_FRAME_HEADER_SIZE + size;
  }
  partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(at));
}

}  // namespace smvm
