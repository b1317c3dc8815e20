#include "agent/channel.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

namespace smvm::agent {

namespace {

using clock = std::chrono::steady_clock;

int remaining_ms(clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

/// Reads the handshake's answer line, a byte at a time so that nothing of
/// the stream behind it is taken.
result<std::string> read_line(int fd, clock::time_point deadline, const std::string& where) {
  std::string line;
  while (line.size() < 64) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, remaining_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return make_error("{}: no answer from the VM's vsock in time", where);
    char c;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error("{}: the guest agent is not listening (the VM is starting, or not a smvm run VM)", where);
    if (c == '\n') return line;
    line.push_back(c);
  }
  return make_error("{}: the VM's vsock answered with a line that is too long", where);
}

/// Writes all of `bytes` with `put` (write, or send), waiting whenever the
/// fd is full; an error names `what`.
template <class Put>
result<void> put_all(int fd, std::span<const std::uint8_t> bytes, std::string_view what, Put put) {
  while (!bytes.empty()) {
    const ssize_t n = put(fd, bytes.data(), bytes.size());
    if (n > 0) {
      bytes = bytes.subspan(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    return make_error("writing {}: {}", what, std::strerror(errno));
  }
  return {};
}

/// A socket is sent to with MSG_NOSIGNAL, so a peer that has gone is an
/// EPIPE error here, never a SIGPIPE that kills the program embedding smvm.
result<void> send_all(int fd, std::span<const std::uint8_t> bytes, std::string_view what) {
  return put_all(fd, bytes, what, [](int f, const void* p, std::size_t n) { return ::send(f, p, n, MSG_NOSIGNAL); });
}

}  // namespace

result<void> write_all(int fd, std::span<const std::uint8_t> bytes, std::string_view what) {
  return put_all(fd, bytes, what, [](int f, const void* p, std::size_t n) { return ::write(f, p, n); });
}

result<void> send_all_to_socket(int fd, std::span<const std::uint8_t> bytes, std::string_view what) {
  return send_all(fd, bytes, what);
}

result<unique_fd> connect_unix(const std::filesystem::path& path) {
  const std::string where = path.string();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (where.size() >= sizeof addr.sun_path) return make_error("{}: the socket path is too long", where);
  std::memcpy(addr.sun_path, where.c_str(), where.size() + 1);
  unique_fd fd{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd.valid()) return make_error("socket: {}", std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return make_error("{}: cannot connect: {}", where, std::strerror(errno));
  return fd;
}

result<channel> channel::open(const std::filesystem::path& uds_path, std::chrono::milliseconds timeout, unsigned port) {
  const auto deadline = clock::now() + timeout;
  const std::string where = uds_path.string();
  auto fd = connect_unix(uds_path);
  if (!fd) return fd.error();
  const std::string hello = fmt::format("CONNECT {}\n", port);
  if (auto w = send_all(fd->get(), {reinterpret_cast<const std::uint8_t*>(hello.data()), hello.size()}, where); !w)
    return w.error();
  auto line = read_line(fd->get(), deadline, where);
  if (!line) return line.error();
  if (line->rfind("OK ", 0) != 0) return make_error("{}: unexpected handshake answer '{}'", where, *line);
  return channel{std::move(*fd)};
}

result<void> channel::send(std::uint8_t type, std::span<const std::uint8_t> payload) {
  return send_all(fd_.get(), encode_frame(type, payload), "to the guest agent");
}

result<frame> channel::receive() {
  std::uint8_t buffer[SMVM_AGENT_MAX_PAYLOAD];
  for (;;) {
    auto next = reader_.next();
    if (!next) return next.error();
    if (*next) return std::move(**next);
    const ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd_.get(), POLLIN, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    if (n == 0) return make_error("the guest agent's connection closed (did the VM stop?)");
    if (n < 0) return make_error("reading from the guest agent: {}", std::strerror(errno));
    reader_.append({buffer, static_cast<std::size_t>(n)});
  }
}

result<frame> channel::receive_exactly() {
  std::uint8_t buffer[SMVM_AGENT_MAX_PAYLOAD];
  std::size_t want = SMVM_AGENT_HEADER_SIZE, got = 0;
  for (;;) {
    auto next = reader_.next();
    if (!next) return next.error();
    if (*next) return std::move(**next);
    if (got == SMVM_AGENT_HEADER_SIZE && want == got)  // the header passed next()'s checks: its length is bounded
      want += buffer[4] | std::size_t{buffer[5]} << 8 | std::size_t{buffer[6]} << 16 | std::size_t{buffer[7]} << 24;
    const ssize_t n = ::read(fd_.get(), buffer + got, want - got);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return make_error("the guest agent's connection closed (did the VM stop?)");
    if (n < 0) return make_error("reading from the guest agent: {}", std::strerror(errno));
    reader_.append({buffer + got, static_cast<std::size_t>(n)});
    got += static_cast<std::size_t>(n);
  }
}

result<std::string> ping(const std::filesystem::path& uds_path, std::chrono::milliseconds timeout) {
  auto c = channel::open(uds_path, timeout);
  if (!c) return c.error();
  if (auto s = c->send(SMVM_AGENT_PING); !s) return s.error();
  auto f = c->receive();
  if (!f) return f.error();
  if (f->type != SMVM_AGENT_READY) return make_error("the guest agent answered a ping with frame 0x{:02x}", f->type);
  return f->text();
}

result<unique_fd> connect_tcp(const std::filesystem::path& uds_path, std::uint16_t port,
                              std::chrono::milliseconds timeout) {
  auto c = channel::open(uds_path, timeout);
  if (!c) return c.error();
  if (auto s = c->send(SMVM_AGENT_CONNECT, records{{"port", std::to_string(port)}}); !s) return s.error();
  auto f = c->receive_exactly();
  if (!f) return f.error();
  if (f->type == SMVM_AGENT_ERROR) return make_error("{}", f->text());
  if (f->type != SMVM_AGENT_OK) return make_error("the guest agent answered a connect with frame 0x{:02x}", f->type);
  return c->release();
}

}  // namespace smvm::agent
