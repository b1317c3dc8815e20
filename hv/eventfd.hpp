#pragma once
// eventfd(2): the doorbells between KVM and smvm (ioeventfd, irqfd).

#include "common/result.hpp"
#include "common/unique_fd.hpp"

#include <cstdint>

namespace smvm::hv {

/// A non-blocking, close-on-exec eventfd starting at 0.
result<unique_fd> make_eventfd();
/// Adds 1 to the counter (rings the bell). Never blocks.
void signal_eventfd(int fd);
/// Reads and clears the counter; 0 when nothing was signalled.
std::uint64_t drain_eventfd(int fd);

}  // namespace smvm::hv
