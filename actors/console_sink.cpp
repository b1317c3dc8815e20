#include "actors/console_sink.hpp"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smvm::actors {

result<std::shared_ptr<console_sink>> console_sink::open(const config::console_section& console) {
  std::shared_ptr<console_sink> sink(new console_sink());
  if (console.output == config::console_output::stdout_stream) sink->fd_ = STDOUT_FILENO;
  if (console.output == config::console_output::file) {
    sink->owned_ =
      hv::unique_fd(::open(console.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
    if (!sink->owned_.valid())
      return make_error("cannot write console output to {}: {}", console.output_file.string(), std::strerror(errno));
    sink->fd_ = sink->owned_.get();
  }
  return sink;
}

std::shared_ptr<console_sink> console_sink::workload_streams() {
  std::shared_ptr<console_sink> sink(new console_sink());
  sink->ready_ = hv::unique_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  sink->frames_ = std::make_unique<frame_decoder>(
    [ready = sink->ready_.get()](std::uint8_t type, std::span<const std::uint8_t> payload) {
      if (type == SMVM_FRAME_STDOUT) write_fd(STDOUT_FILENO, payload);
      if (type == SMVM_FRAME_STDERR) write_fd(STDERR_FILENO, payload);
      if (type == SMVM_FRAME_READY) ::eventfd_write(ready, 1);
    });
  return sink;
}

void console_sink::write(std::span<const std::uint8_t> bytes) {
  if (frames_) return frames_->feed(bytes);
  write_fd(fd_, bytes);
}

void console_sink::write_fd(int fd, std::span<const std::uint8_t> bytes) {
  while (fd >= 0 && !bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed pipe: the guest's output has nowhere to go
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
}

}  // namespace smvm::actors
