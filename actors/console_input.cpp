#include "actors/console_input.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace smvm::actors {

console_input_pump::console_input_pump(int fd, device_actor console) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;  // without a wake pipe there is no input
  wake_read_ = hv::unique_fd(pipe_fds[0]);
  wake_write_ = hv::unique_fd(pipe_fds[1]);
  thread_ = std::thread([this, fd, console = std::move(console)] { run(fd, console); });
}

console_input_pump::~console_input_pump() {
  if (wake_write_.valid()) {
    char byte = 0;
    [[maybe_unused]] auto n = ::write(wake_write_.get(), &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
}

void console_input_pump::run(int fd, device_actor console) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
  std::uint8_t buffer[4096];
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // end of input: the guest simply gets no more
    caf::anon_send(console, console_input{std::vector<std::uint8_t>(buffer, buffer + n)});
  }
}

}  // namespace smvm::actors
