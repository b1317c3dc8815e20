#pragma once
// The host's side of the guest agent's frames (common/agent_protocol.h):
// building them, and reading them back from whatever bytes the guest sends,
// checked header by header (tests/fuzz/agent_frame_fuzz.cpp).

#include "common/agent_protocol.h"
#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace smvm::agent {

struct frame {
  std::uint8_t type = 0;
  std::vector<std::uint8_t> payload;

  std::string text() const { return {payload.begin(), payload.end()}; }
};

using records = std::vector<std::pair<std::string, std::string>>;

std::vector<std::uint8_t> encode_frame(std::uint8_t type, std::span<const std::uint8_t> payload = {});
std::vector<std::uint8_t> encode_records(const records& r);
/// Records as the agent sends them; an error when one is cut short.
result<records> decode_records(std::span<const std::uint8_t> payload);
/// The value of `key`, or nothing.
std::optional<std::string> find_record(const records& r, std::string_view key);

/// Whole frames out of a stream of guest bytes. Holds at most one frame
/// and one read's worth of bytes when next() is drained after each append.
class frame_reader {
 public:
  void append(std::span<const std::uint8_t> bytes);
  /// The next whole frame; nothing while it is incomplete; an error for a
  /// header the guest may not send (unknown type, reserved bytes set, a
  /// payload over SMVM_AGENT_MAX_PAYLOAD). After an error, the stream is done.
  result<std::optional<frame>> next();
  std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::vector<std::uint8_t> buffer_;
  std::size_t offset_ = 0;
};

/// True for the types a guest agent sends.
bool is_guest_frame_type(std::uint8_t type);

}  // namespace smvm::agent
