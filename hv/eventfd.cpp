#include "hv/eventfd.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smvm::hv {

result<unique_fd> make_eventfd() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return make_error("eventfd: {}", std::strerror(errno));
  return unique_fd(fd);
}

void signal_eventfd(int fd) {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is about to overflow: the bell is ringing anyway.
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

std::uint64_t drain_eventfd(int fd) {
  std::uint64_t count = 0;
  while (::read(fd, &count, sizeof count) < 0) {
    if (errno != EINTR) return 0;
  }
  return count;
}

}  // namespace smvm::hv
