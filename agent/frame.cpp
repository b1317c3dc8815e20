#include "agent/frame.hpp"

#include <cstring>

namespace smvm::agent {

std::vector<std::uint8_t> encode_frame(std::uint8_t type, std::span<const std::uint8_t> payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::vector<std::uint8_t> out{type, 0, 0, 0, static_cast<std::uint8_t>(n), static_cast<std::uint8_t>(n >> 8),
                                static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 24)};
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<std::uint8_t> encode_records(const records& r) {
  std::vector<std::uint8_t> out;
  for (const auto& [key, value] : r) {
    out.insert(out.end(), key.begin(), key.end());
    out.push_back(0);
    out.insert(out.end(), value.begin(), value.end());
    out.push_back(0);
  }
  return out;
}

result<records> decode_records(std::span<const std::uint8_t> payload) {
  records out;
  std::size_t at = 0;
  auto field = [&]() -> std::optional<std::string> {
    const auto* begin = payload.data() + at;
    const void* nul = std::memchr(begin, 0, payload.size() - at);
    if (!nul) return std::nullopt;
    std::string s(reinterpret_cast<const char*>(begin), static_cast<const std::uint8_t*>(nul) - begin);
    at += s.size() + 1;
    return s;
  };
  while (at < payload.size()) {
    auto key = field();
    auto value = key && at < payload.size() ? field() : std::nullopt;
    if (!value) return make_error("a record is cut short at byte {} of {}", at, payload.size());
    out.emplace_back(std::move(*key), std::move(*value));
  }
  return out;
}

std::optional<std::string> find_record(const records& r, std::string_view key) {
  for (const auto& [k, v] : r)
    if (k == key) return v;
  return std::nullopt;
}

bool is_guest_frame_type(std::uint8_t type) {
  switch (type) {
    case SMVM_AGENT_READY:
    case SMVM_AGENT_STARTED:
    case SMVM_AGENT_STDOUT:
    case SMVM_AGENT_STDERR:
    case SMVM_AGENT_EXIT:
    case SMVM_AGENT_ERROR:
    case SMVM_AGENT_OK:
    case SMVM_AGENT_FILE:
    case SMVM_AGENT_DATA:
    case SMVM_AGENT_END:
      return true;
    default:
      return false;
  }
}

void frame_reader::append(std::span<const std::uint8_t> bytes) {
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

result<std::optional<frame>> frame_reader::next() {
  const std::size_t have = buffer_.size() - offset_;
  if (have < SMVM_AGENT_HEADER_SIZE) return std::optional<frame>{};
  const std::uint8_t* h = buffer_.data() + offset_;
  const std::size_t length = h[4] | std::size_t{h[5]} << 8 | std::size_t{h[6]} << 16 | std::size_t{h[7]} << 24;
  if (!is_guest_frame_type(h[0])) return make_error("the guest agent sent a frame of unknown type 0x{:02x}", h[0]);
  if (h[1] || h[2] || h[3]) return make_error("the guest agent sent a frame header with its reserved bytes set");
  if (length > SMVM_AGENT_MAX_PAYLOAD)
    return make_error("the guest agent sent a frame of {} bytes (at most {})", length, SMVM_AGENT_MAX_PAYLOAD);
  if (have < SMVM_AGENT_HEADER_SIZE + length) return std::optional<frame>{};
  frame f;
  f.type = h[0];
  f.payload.assign(h + SMVM_AGENT_HEADER_SIZE, h + SMVM_AGENT_HEADER_SIZE + length);
  offset_ += SMVM_AGENT_HEADER_SIZE + length;
  if (offset_ > (1u << 20)) {  // keep the buffer from growing with what has been read
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(offset_));
    offset_ = 0;
  }
  return std::optional<frame>{std::move(f)};
}

}  // namespace smvm::agent
