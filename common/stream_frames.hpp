#pragma once
// The host side of the workload channel (common/stream_protocol.h): frames
// that keep the workload's stdout and stderr apart, and carry stdin, its
// end, and signals to the guest. The guest is untrusted: a frame of a type
// the host does not take is skipped, never trusted further.

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

extern "C" {
#include "common/stream_protocol.h"
}

namespace smvm {

/// One frame, header and payload; payloads over 65535 bytes need several.
std::vector<std::uint8_t> encode_frame(smvm_frame_type type, std::span<const std::uint8_t> payload = {});

/// Reassembles frames from a byte stream cut anywhere.
class frame_decoder {
 public:
  /// The type is the raw byte: a guest may send any, not only smvm_frame_type's.
  using frame_fn = std::function<void(std::uint8_t type, std::span<const std::uint8_t>)>;
  explicit frame_decoder(frame_fn on_frame) : on_frame_(std::move(on_frame)) {}
  void feed(std::span<const std::uint8_t> bytes);

 private:
  frame_fn on_frame_;
  std::vector<std::uint8_t> partial_;
};

}  // namespace smvm
