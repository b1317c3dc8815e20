#include "actors/console_sink.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace smvm::actors {

namespace {
/// How much of the console's end tail() keeps: a panic and its trace.
constexpr std::size_t tail_capacity = 4096;
}  // namespace

result<std::shared_ptr<console_sink>> console_sink::open(const config::console_section& console) {
  std::shared_ptr<console_sink> sink(new console_sink());
  if (console.output == config::console_output::stdout_stream) sink->fd_ = STDOUT_FILENO;
  if (console.output == config::console_output::file) {
    sink->owned_ =
      unique_fd(::open(console.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
    if (!sink->owned_.valid())
      return make_error("cannot write console output to {}: {}", console.output_file.string(), std::strerror(errno));
    sink->fd_ = sink->owned_.get();
  }
  return sink;
}

std::shared_ptr<console_sink> console_sink::workload_streams(int out, int err) {
  std::shared_ptr<console_sink> sink(new console_sink());
  sink->ready_ = unique_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  auto* self = sink.get();  // the decoder lives and dies with the sink
  sink->frames_ = std::make_unique<frame_decoder>([self, out, err](std::uint8_t type,
                                                                   std::span<const std::uint8_t> payload) {
    if (type == SMVM_FRAME_STDOUT) self->write_stream(out, "stdout", payload);
    if (type == SMVM_FRAME_STDERR) self->write_stream(err, "stderr", payload);
    if (type == SMVM_FRAME_READY) {
      self->init_up_ = true;
      ::eventfd_write(self->ready_.get(), 1);
    }
    if (type == SMVM_FRAME_EXIT && payload.size() == 1) {
      std::lock_guard lock(self->mutex_);
      if (!self->exit_status_) self->exit_status_ = payload[0];
    }
  });
  return sink;
}

void console_sink::write(std::span<const std::uint8_t> bytes) {
  if (frames_) return frames_->feed(bytes);
  keep_tail(bytes);
  write_fd(fd_, bytes);  // the kernel log: nobody is owed it, tail() keeps its end
}

void console_sink::write_stream(int fd, const char* name, std::span<const std::uint8_t> bytes) {
  std::function<void(const std::string&)> handler;
  {
    std::lock_guard lock(mutex_);
    if (failure_) return;  // the stream is already broken: the loss is reported once
  }
  const int e = write_fd(fd, bytes);
  if (e == 0) return;
  const std::string why = fmt::format("cannot write the workload's {}: {}; its output is lost", name,
                                      std::strerror(e));
  {
    std::lock_guard lock(mutex_);
    failure_ = why;
    handler = on_failure_;
  }
  if (handler) handler(why);
}

int console_sink::write_fd(int fd, std::span<const std::uint8_t> bytes) {
  while (fd >= 0 && !bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone made our stdout non-blocking: wait for room, drop nothing.
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n < 0) return errno;
    if (n == 0) return EIO;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return 0;
}

void console_sink::keep_tail(std::span<const std::uint8_t> bytes) {
  std::lock_guard lock(mutex_);
  if (bytes.size() >= tail_capacity) bytes = bytes.last(tail_capacity);
  tail_.append(bytes.begin(), bytes.end());
  if (tail_.size() > tail_capacity) tail_.erase(0, tail_.size() - tail_capacity);
}

void console_sink::on_failure(std::function<void(const std::string&)> handler) {
  std::lock_guard lock(mutex_);
  on_failure_ = std::move(handler);
}

std::optional<std::string> console_sink::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

std::optional<std::uint8_t> console_sink::exit_status() const {
  std::lock_guard lock(mutex_);
  return exit_status_;
}

std::string console_sink::tail() const {
  std::lock_guard lock(mutex_);
  return tail_;
}

}  // namespace smvm::actors
