#include "common/byte_codec.hpp"

namespace smvm {

void byte_writer::put_bytes(std::span<const std::uint8_t> bytes) {
  put(static_cast<std::uint32_t>(bytes.size()));
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
}

void byte_writer::put_string(std::string_view text) {
  put_bytes({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

result<bool> byte_reader::get_bool(std::string_view field) {
  auto value = get<std::uint8_t>(field);
  if (!value) return value.error();
  if (*value > 1) return make_error("{}: {} is {}, not 0 or 1", what_, field, *value);
  return *value == 1;
}

result<std::span<const std::uint8_t>> byte_reader::get_bytes(std::string_view field) {
  auto length = get<std::uint32_t>(field);
  if (!length) return length.error();
  if (left() < *length) return truncated(field, *length);
  auto bytes = bytes_.subspan(at_, *length);
  at_ += *length;
  return bytes;
}

result<std::string> byte_reader::get_string(std::string_view field) {
  auto bytes = get_bytes(field);
  if (!bytes) return bytes.error();
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

result<void> byte_reader::expect_end() const {
  if (left() != 0) return make_error("{}: {} bytes left over after the last field", what_, left());
  return {};
}

smvm::error byte_reader::truncated(std::string_view field, std::uint64_t wanted) const {
  return make_error("{}: {} needs {} bytes but only {} are left", what_, field, wanted, left());
}

}  // namespace smvm
