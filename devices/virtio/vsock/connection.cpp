#include "devices/virtio/vsock/connection.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace smvm::devices::virtio::vsock {

namespace {

/// The longest CONNECT line taken ("CONNECT 4294967295\n" is 19 bytes).
constexpr std::size_t max_connect_line = 32;

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

}  // namespace

connection::connection(unique_fd socket, state initial, std::uint32_t local_port, std::uint32_t peer_port)
    : socket_(std::move(socket)), state_(initial), local_port_(local_port), peer_port_(peer_port) {}

result<connection::connect_line> connection::read_connect_line() {
  // One byte at a time: what follows the newline is the guest's, not ours.
  for (;;) {
    char c = 0;
    const ssize_t n = ::read(socket_.get(), &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) return connect_line{};
    if (n < 0) return make_error("reading the CONNECT line: {}", std::strerror(errno));
    if (n == 0) return make_error("the host client closed before its CONNECT line ended");
    if (c != '\n') {
      if (line_.size() == max_connect_line) return make_error("a CONNECT line longer than {} bytes", max_connect_line);
      line_ += c;
      continue;
    }
    constexpr std::string_view prefix = "CONNECT ";
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::uint32_t port = 0;
    if (line.substr(0, prefix.size()) != prefix)
      return make_error("\"{}\" is not \"CONNECT <port>\"", line);
    const auto digits = line.substr(prefix.size());
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
      return make_error("\"{}\" does not name a port (0 to 4294967295)", line);
    return connect_line{true, port};
  }
}

std::uint32_t connection::peer_credit() const {
  const std::uint32_t in_flight = tx_cnt_ - peer_fwd_cnt_;  // wraps as the counters do
  return in_flight >= peer_buf_alloc_ ? 0 : peer_buf_alloc_ - in_flight;
}

bool connection::wants_read() const {
  if (state_ == state::awaiting_connect) return true;
  return state_ == state::established && !host_done_ && peer_credit() > 0;
}

header connection::base(std::uint64_t guest_cid, std::uint16_t o) {
  header h;
  h.src_cid = host_cid;
  h.dst_cid = guest_cid;
  h.src_port = local_port_;
  h.dst_port = peer_port_;
  h.op = o;
  h.buf_alloc = connection_buffer;
  h.fwd_cnt = fwd_cnt_;
  told_fwd_cnt_ = fwd_cnt_;
  return h;
}

void connection::request_guest(std::chrono::steady_clock::time_point deadline) {
  state_ = state::requesting;
  owe_request_ = true;
  deadline_ = deadline;
}

void connection::answer_guest(const header& h) {
  peer_buf_alloc_ = h.buf_alloc;
  peer_fwd_cnt_ = h.fwd_cnt;
  owe_response_ = true;
}

void connection::established_by_guest() {
  state_ = state::established;
  deadline_.reset();
  ok_line_ = "OK " + std::to_string(local_port_) + "\n";
}

result<void> connection::from_guest(const guest_packet& p) {
  peer_buf_alloc_ = p.hdr.buf_alloc;
  peer_fwd_cnt_ = p.hdr.fwd_cnt;
  switch (p.hdr.op) {
    case op::response:
      if (state_ != state::requesting) return make_error("a RESPONSE to no REQUEST");
      established_by_guest();
      return flush_to_host();
    case op::rst:
      state_ = state::closed;
      owe_rst_ = false;  // a reset is not answered
      return {};
    case op::shutdown:
      guest_done_sending_ = guest_done_sending_ || (p.hdr.flags & shutdown_flag::send);
      guest_closed_ = guest_closed_ || (p.hdr.flags & shutdown_flag::both) == shutdown_flag::both;
      after_flush();
      return {};
    case op::rw:
      if (state_ != state::established) return make_error("data on a connection that is not established");
      if (guest_done_sending_) return make_error("data after the guest's SHUTDOWN");
      if (to_host_.size() + p.payload.size() > connection_buffer)
        return make_error("{} bytes beyond the {} bytes of credit it was given", p.payload.size(),
                          connection_buffer - to_host_.size());
      to_host_.insert(to_host_.end(), p.payload.begin(), p.payload.end());
      return flush_to_host();
    case op::credit_request:
      owe_credit_ = true;
      return {};
    case op::credit_update:
      return {};  // the credit fields, taken above
    default:
      return make_error("a REQUEST on a connection that exists");
  }
}

result<void> connection::flush_to_host() {
  while (!ok_line_.empty()) {
    const ssize_t n = ::send(socket_.get(), ok_line_.data(), ok_line_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) return {};
    if (n < 0) return make_error("writing to the host socket: {}", std::strerror(errno));
    ok_line_.erase(0, static_cast<std::size_t>(n));
  }
  std::size_t sent = 0;
  while (sent < to_host_.size()) {
    const ssize_t n = ::send(socket_.get(), to_host_.data() + sent, to_host_.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) break;
    if (n < 0) return make_error("writing to the host socket: {}", std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  to_host_.erase(to_host_.begin(), to_host_.begin() + static_cast<std::ptrdiff_t>(sent));
  fwd_cnt_ += static_cast<std::uint32_t>(sent);
  // Tell the guest of the room it has again before it runs out.
  if (fwd_cnt_ - told_fwd_cnt_ >= connection_buffer / 4) owe_credit_ = true;
  after_flush();
  return {};
}

void connection::after_flush() {
  if (!to_host_.empty() || state_ != state::established) return;
  if (guest_done_sending_ && !host_write_shut_) {
    ::shutdown(socket_.get(), SHUT_WR);  // the host client reads its end of file
    host_write_shut_ = true;
  }
  if (guest_closed_) reset();
}

std::optional<header> connection::next_control(std::uint64_t guest_cid) {
  if (owe_rst_) {
    owe_rst_ = false;
    return base(guest_cid, op::rst);
  }
  if (state_ == state::closed || state_ == state::awaiting_connect) return std::nullopt;
  auto owed = [&](bool& flag, std::uint16_t o) -> std::optional<header> {
    if (!flag) return std::nullopt;
    flag = false;
    return base(guest_cid, o);
  };
  if (auto h = owed(owe_request_, op::request)) return h;
  if (auto h = owed(owe_response_, op::response)) return h;
  if (auto h = owed(owe_shutdown_, op::shutdown)) {
    h->flags = shutdown_flag::send;  // the host sends no more; it may still read
    return h;
  }
  return owed(owe_credit_, op::credit_update);
}

std::size_t connection::read_for_guest(std::uint64_t guest_cid, std::span<std::uint8_t> out, header& hdr) {
  if (!readable || state_ != state::established || host_done_) return 0;
  const std::size_t want = std::min<std::size_t>({out.size(), peer_credit(), max_payload});
  if (want == 0) return 0;
  for (;;) {
    const ssize_t n = ::read(socket_.get(), out.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && would_block(errno)) {
      readable = false;
      return 0;
    }
    if (n <= 0) {  // end of file, or a socket that broke: the host sends no more
      readable = false;
      host_done_ = true;
      owe_shutdown_ = true;
      return 0;
    }
    tx_cnt_ += static_cast<std::uint32_t>(n);
    hdr = base(guest_cid, op::rw);
    hdr.len = static_cast<std::uint32_t>(n);
    return static_cast<std::size_t>(n);
  }
}

}  // namespace smvm::devices::virtio::vsock
