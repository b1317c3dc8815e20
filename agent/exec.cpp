#include "agent/exec.hpp"

#include "agent/channel.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <csignal>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <termios.h>

namespace smvm::agent {

namespace {

records request_records(const exec_request& r, bool input) {
  records out;
  for (const auto& a : r.argv) out.emplace_back("arg", a);
  for (const auto& e : r.env) out.emplace_back("env", e);
  if (!r.cwd.empty()) out.emplace_back("cwd", r.cwd);
  if (!r.user.empty()) out.emplace_back("user", r.user);
  out.emplace_back("stdin", input ? "1" : "0");
  if (r.tty) {
    out.emplace_back("tty", "1");
    out.emplace_back("rows", std::to_string(r.rows));
    out.emplace_back("cols", std::to_string(r.cols));
  }
  return out;
}

std::int32_t little_i32(const std::vector<std::uint8_t>& p) {
  return static_cast<std::int32_t>(p[0] | p[1] << 8 | p[2] << 16 | static_cast<std::uint32_t>(p[3]) << 24);
}

/// Frames queued for the agent: written as the socket takes them, so the
/// relay keeps reading output while stdin waits (neither side can block the
/// other).
class outbox {
 public:
  void add(std::uint8_t type, std::span<const std::uint8_t> payload = {}) {
    auto f = encode_frame(type, payload);
    bytes_.insert(bytes_.end(), f.begin(), f.end());
  }
  std::size_t size() const { return bytes_.size() - sent_; }
  result<void> flush(int fd) {
    const ssize_t n = ::send(fd, bytes_.data() + sent_, size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return {};
    if (n < 0) return make_error("writing to the guest agent: {}", std::strerror(errno));
    sent_ += static_cast<std::size_t>(n);
    if (sent_ == bytes_.size()) bytes_.clear(), sent_ = 0;
    return {};
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t sent_ = 0;
};

constexpr std::size_t stdin_backlog = 256 * 1024;  // stop reading stdin while this much waits for the guest

}  // namespace

result<exec_outcome> exec(const std::filesystem::path& uds_path, const exec_request& request,
                          const exec_streams& streams, std::chrono::milliseconds connect_timeout) {
  if (request.argv.empty()) return make_error("exec: no command given");
  auto c = channel::open(uds_path, connect_timeout);
  if (!c) return c.error();
  return exec(*c, request, streams);
}

result<exec_outcome> exec(channel& channel, const exec_request& request, const exec_streams& streams) {
  if (request.argv.empty()) return make_error("exec: no command given");
  auto* c = &channel;
  if (auto s = c->send(SMVM_AGENT_EXEC, request_records(request, streams.in >= 0)); !s) return s.error();
  outbox out;
  int in = streams.in;
  exec_outcome outcome;
  std::uint8_t buffer[SMVM_AGENT_MAX_PAYLOAD];
  for (;;) {
    pollfd fds[3] = {{c->fd(), static_cast<short>(POLLIN | (out.size() ? POLLOUT : 0)), 0},
                     {in >= 0 && out.size() < stdin_backlog ? in : -1, POLLIN, 0},
                     {streams.signals, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return make_error("exec: poll: {}", std::strerror(errno));
    }
    if (fds[2].revents & POLLIN) {
      signalfd_siginfo si;
      while (::read(streams.signals, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          winsize ws{};
          if (!request.tty || ::ioctl(streams.in >= 0 ? streams.in : 0, TIOCGWINSZ, &ws) != 0) continue;
          const std::uint8_t size[4] = {static_cast<std::uint8_t>(ws.ws_row), static_cast<std::uint8_t>(ws.ws_row >> 8),
                                        static_cast<std::uint8_t>(ws.ws_col), static_cast<std::uint8_t>(ws.ws_col >> 8)};
          out.add(SMVM_AGENT_RESIZE, size);
        } else {
          const std::uint8_t sig = static_cast<std::uint8_t>(si.ssi_signo);
          out.add(SMVM_AGENT_SIGNAL, {&sig, 1});
        }
      }
    }
    if (fds[1].revents) {
      const ssize_t n = ::read(in, buffer, sizeof buffer);
      if (n > 0) {
        out.add(SMVM_AGENT_STDIN, {buffer, static_cast<std::size_t>(n)});
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        out.add(SMVM_AGENT_STDIN_EOF);
        in = -1;
      }
    }
    if (out.size())
      if (auto f = out.flush(c->fd()); !f) return f.error();
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    const ssize_t n = ::read(c->fd(), buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return make_error("exec: the guest agent's connection closed before the command's exit status (did the VM stop?)");
    c->reader().append({buffer, static_cast<std::size_t>(n)});
    for (;;) {
      auto next = c->reader().next();
      if (!next) return next.error();
      if (!*next) break;
      const frame& f = **next;
      switch (f.type) {
        case SMVM_AGENT_STDOUT:
          if (auto w = write_all(streams.out, f.payload, "the command's stdout"); !w) return w.error();
          break;
        case SMVM_AGENT_STDERR:
          if (auto w = write_all(streams.err, f.payload, "the command's stderr"); !w) return w.error();
          break;
        case SMVM_AGENT_ERROR:
          outcome.error = f.text();
          break;
        case SMVM_AGENT_STARTED:
          break;
        case SMVM_AGENT_EXIT:
          if (f.payload.size() != 4) return make_error("exec: the guest agent sent an exit status of {} bytes", f.payload.size());
          outcome.status = little_i32(f.payload);
          return outcome;
        default:
          return make_error("exec: the guest agent sent frame 0x{:02x} in an exec", f.type);
      }
    }
  }
}

}  // namespace smvm::agent
