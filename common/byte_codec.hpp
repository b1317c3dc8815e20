#pragma once
// Little-endian encoding of saved state (a snapshot section's payload). The
// reader checks every length against what is left: saved state is input,
// and a field that claims more bytes than are left is an error naming it.
// The reader keeps a view of the bytes: they must outlive it.

#include "common/result.hpp"

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace smvm {

class byte_writer {
 public:
  template <class T>
    requires std::is_integral_v<T>
  void put(T value) {
    for (std::size_t i = 0; i < sizeof(T); ++i)
      bytes_.push_back(static_cast<std::uint8_t>(static_cast<std::make_unsigned_t<T>>(value) >> (8 * i)));
  }
  void put_bool(bool value) { put<std::uint8_t>(value ? 1 : 0); }
  /// A length (u32) and then the bytes.
  void put_bytes(std::span<const std::uint8_t> bytes);
  void put_string(std::string_view text);
  /// A kernel structure (kvm_regs, kvm_xsave, ...) as its raw bytes, with its
  /// size in front so a reader built against other headers notices.
  template <class T>
  void put_raw(const T& object) {
    static_assert(std::is_trivially_copyable_v<T>);
    put_bytes({reinterpret_cast<const std::uint8_t*>(&object), sizeof(T)});
  }

  const std::vector<std::uint8_t>& bytes() const& { return bytes_; }
  std::vector<std::uint8_t> take() && { return std::move(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
};

class byte_reader {
 public:
  /// `what` names the section in errors ("section vcpu.0").
  byte_reader(std::span<const std::uint8_t> bytes, std::string what) : bytes_(bytes), what_(std::move(what)) {}

  template <class T>
    requires std::is_integral_v<T>
  result<T> get(std::string_view field) {
    if (left() < sizeof(T)) return truncated(field, sizeof(T));
    std::make_unsigned_t<T> value = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      value |= static_cast<std::make_unsigned_t<T>>(static_cast<std::make_unsigned_t<T>>(bytes_[at_ + i]) << (8 * i));
    at_ += sizeof(T);
    return static_cast<T>(value);
  }
  result<bool> get_bool(std::string_view field);
  result<std::span<const std::uint8_t>> get_bytes(std::string_view field);
  result<std::string> get_string(std::string_view field);
  /// Reads what put_raw wrote; the stored size must equal sizeof(T).
  template <class T>
  result<void> get_raw(std::string_view field, T& out) {
    static_assert(std::is_trivially_copyable_v<T>);
    auto bytes = get_bytes(field);
    if (!bytes) return bytes.error();
    if (bytes->size() != sizeof(T))
      return make_error("{}: {} holds {} bytes, this smvm expects {}", what_, field, bytes->size(), sizeof(T));
    std::memcpy(&out, bytes->data(), sizeof(T));
    return {};
  }

  std::size_t left() const { return bytes_.size() - at_; }
  /// An error unless every byte was read: trailing bytes mean a format mismatch.
  result<void> expect_end() const;
  const std::string& what() const { return what_; }

 private:
  smvm::error truncated(std::string_view field, std::uint64_t wanted) const;

  std::span<const std::uint8_t> bytes_;
  std::size_t at_ = 0;
  std::string what_;
};

}  // namespace smvm
