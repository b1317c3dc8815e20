#include "actors/console_input.hpp"

#include "common/stream_frames.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace smvm::actors {

console_input_pump::console_input_pump(int fd, console_port console, bool framed, int gate) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return;  // without a wake pipe there is no input
  wake_read_ = unique_fd(pipe_fds[0]);
  wake_write_ = unique_fd(pipe_fds[1]);
  thread_ = std::thread([this, fd, framed, gate, console = std::move(console)] { run(fd, console, framed, gate); });
}

console_input_pump::~console_input_pump() {
  if (wake_write_.valid()) {
    char byte = 0;
    [[maybe_unused]] auto n = ::write(wake_write_.get(), &byte, 1);
  }
  if (thread_.joinable()) thread_.join();
}

void console_input_pump::run(int fd, console_port console, bool framed, int gate) {
  pollfd fds[2] = {{gate >= 0 ? gate : fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
  while (gate >= 0) {  // wait for the guest to be ready, or for the end
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents) return;
    if (fds[0].revents) {
      fds[0].fd = fd;
      gate = -1;
    }
  }
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
    if (n <= 0) {  // end of input: a framed channel says so, a plain console simply gets no more
      if (framed) caf::anon_send(console, console_input{encode_frame(SMVM_FRAME_STDIN_EOF)});
      return;
    }
    std::span<const std::uint8_t> bytes(buffer, static_cast<std::size_t>(n));
    caf::anon_send(console, console_input{framed ? encode_frame(SMVM_FRAME_STDIN, bytes)
                                                 : std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
  }
}

}  // namespace smvm::actors
