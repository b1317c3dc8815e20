#pragma once
// Progress of pulls and unpacks on a terminal: one line, redrawn at most
// ten times a second. Quiet when stderr is not a terminal.

#include "image/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace smvm::cli {

inline image::progress_fn progress_line() {
  if (!::isatty(STDERR_FILENO)) return {};
  struct state {
    std::chrono::steady_clock::time_point last{};
    std::string step;
  };
  auto s = std::make_shared<state>();
  return [s](std::string_view step, std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    const bool finished = total && done >= total;
    if (!finished && step == s->step && now - s->last < std::chrono::milliseconds(100)) return;
    s->last = now;
    s->step = step;
    const double mb = 1e6;
    if (total)
      fmt::print(stderr, "\r\033[K{}: {:.1f} / {:.1f} MB ({}%)", step, done / mb, total / mb, done * 100 / total);
    else
      fmt::print(stderr, "\r\033[K{}: {:.1f} MB", step, done / mb);
    if (finished) fmt::print(stderr, "\n");
  };
}

}  // namespace smvm::cli
