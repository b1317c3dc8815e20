#pragma once
// State structs (hv::x86::vcpu_state, device states) name their fields in a
// static visit(visitor, state); these two visitors turn them into a
// section's bytes and back. The decoder checks every size, so a section
// from another layout is an error naming the field, never a bad read.

#include "common/byte_codec.hpp"

#include <optional>
#include <type_traits>
#include <vector>

namespace smvm {

class state_encoder {
 public:
  template <class T>
    requires std::is_integral_v<T>
  bool value(std::string_view, const T& v) {
    if constexpr (std::is_same_v<T, bool>) out_.put_bool(v);
    else out_.put(v);
    return true;
  }
  template <class T>
  bool raw(std::string_view, const T& v) {
    out_.put_raw(v);
    return true;
  }
  /// A list of plain structs: the entry size, then the entries' bytes.
  template <class T>
  bool list(std::string_view, const std::vector<T>& entries) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.put(static_cast<std::uint32_t>(sizeof(T)));
    out_.put_bytes({reinterpret_cast<const std::uint8_t*>(entries.data()), entries.size() * sizeof(T)});
    return true;
  }
  bool text(std::string_view, const std::string& v) {
    out_.put_string(v);
    return true;
  }
  /// A state struct inside another: its own fields, in place.
  template <class T>
  bool nested(std::string_view, const T& inner) {
    return T::visit(*this, inner);
  }
  /// A list of state structs: the count, then each one's fields.
  template <class T>
  bool records(std::string_view, const std::vector<T>& entries) {
    out_.put(static_cast<std::uint32_t>(entries.size()));
    for (const auto& e : entries)
      if (!T::visit(*this, e)) return false;
    return true;
  }
  byte_writer& out() { return out_; }

 private:
  byte_writer out_;
};

class state_decoder {
 public:
  state_decoder(std::span<const std::uint8_t> bytes, std::string what) : in_(bytes, std::move(what)) {}

  template <class T>
    requires std::is_integral_v<T>
  bool value(std::string_view field, T& v) {
    if constexpr (std::is_same_v<T, bool>) return take(in_.get_bool(field), v);
    else return take(in_.get<T>(field), v);
  }
  template <class T>
  bool raw(std::string_view field, T& v) {
    if (auto r = in_.get_raw(field, v); !r) return fail(r.error());
    return true;
  }
  template <class T>
  bool list(std::string_view field, std::vector<T>& entries) {
    static_assert(std::is_trivially_copyable_v<T>);
    auto size = in_.get<std::uint32_t>(field);
    if (!size) return fail(size.error());
    if (*size != sizeof(T))
      return fail(make_error("{}: {} entries are {} bytes, this smvm expects {}", in_.what(), field, *size, sizeof(T)));
    auto bytes = in_.get_bytes(field);
    if (!bytes) return fail(bytes.error());
    if (bytes->size() % sizeof(T) != 0)
      return fail(make_error("{}: {} holds {} bytes, not a whole number of entries", in_.what(), field, bytes->size()));
    entries.resize(bytes->size() / sizeof(T));
    if (!entries.empty()) std::memcpy(entries.data(), bytes->data(), bytes->size());
    return true;
  }
  bool text(std::string_view field, std::string& v) { return take(in_.get_string(field), v); }
  template <class T>
  bool nested(std::string_view, T& inner) {
    return T::visit(*this, inner);
  }
  template <class T>
  bool records(std::string_view field, std::vector<T>& entries) {
    auto count = in_.get<std::uint32_t>(field);
    if (!count) return fail(count.error());
    // Every record takes at least a byte: a count beyond what is left is a
    // corrupt section, not a reason to allocate.
    if (*count > in_.left())
      return fail(make_error("{}: {} claims {} records in {} bytes", in_.what(), field, *count, in_.left()));
    entries.resize(*count);
    for (auto& e : entries)
      if (!T::visit(*this, e)) return false;
    return true;
  }
  /// Records a check of the decoded values that failed ("queue size 5000").
  bool fail(smvm::error e) {
    if (!error_) error_ = std::move(e);
    return false;
  }
  const std::optional<smvm::error>& error() const { return error_; }
  byte_reader& in() { return in_; }

 private:
  template <class R, class T>
  bool take(R r, T& v) {
    if (!r) return fail(r.error());
    v = *r;
    return true;
  }
  byte_reader in_;
  std::optional<smvm::error> error_;
};

/// A state struct's section bytes.
template <class State>
std::vector<std::uint8_t> encode_state(const State& state) {
  state_encoder e;
  State::visit(e, state);
  return std::move(e.out()).take();
}

/// The state struct a section holds; `what` names the section in errors.
template <class State>
result<State> decode_state(std::span<const std::uint8_t> bytes, std::string what) {
  State state{};
  state_decoder d(bytes, std::move(what));
  if (!State::visit(d, state)) return d.error() ? *d.error() : make_error("{}: invalid", d.in().what());
  if (auto end = d.in().expect_end(); !end) return end.error();
  return state;
}

}  // namespace smvm
