#pragma once
// Errors as values: every fallible boundary in smvm returns a result<T>.

#include <fmt/format.h>

#include <string>
#include <utility>
#include <variant>

namespace smvm {

/// What went wrong, worded for the user: what, where, and what to do next.
struct error {
  std::string message;
};

/// Builds an error from a fmt format string.
template <class... Args>
error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return error{fmt::format(format, std::forward<Args>(args)...)};
}

/// A value or an error, in the manner of C++23's std::expected.
template <class T>
class [[nodiscard]] result {
 public:
  result(T value) : state_(std::move(value)) {}
  result(smvm::error err) : state_(std::move(err)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const smvm::error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, smvm::error> state_;
};

/// A result with no value: success, or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(smvm::error err) : error_(std::move(err)), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return !failed_; }
  const smvm::error& error() const { return error_; }

 private:
  smvm::error error_;
  bool failed_ = false;
};

/// Prefixes the error of a failed result with context ("loading kernel: ...").
template <class T>
result<T> with_context(result<T> r, std::string_view context) {
  if (r) return r;
  return smvm::error{fmt::format("{}: {}", context, r.error().message)};
}

}  // namespace smvm
