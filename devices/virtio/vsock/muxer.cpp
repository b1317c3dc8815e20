#include "devices/virtio/vsock/muxer.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smvm::devices::virtio::vsock {

namespace {

/// A sockaddr_un for `path`, or an error when it does not fit.
result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    return make_error("{} is {} bytes long; a Unix socket path must have 1 to {}", path, path.size(),
                      sizeof a.sun_path - 1);
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

}  // namespace

result<std::unique_ptr<muxer>> muxer::open(std::uint64_t guest_cid, const std::string& uds_path,
                                           std::chrono::milliseconds answer_within) {
  auto address = unix_address(uds_path);
  if (!address) return address.error();
  unique_fd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return make_error("socket: {}", std::strerror(errno));
  struct stat st {};
  if (::lstat(uds_path.c_str(), &st) == 0) {
    // A socket left by an earlier run goes; one a program listens on, or
    // any other file, stays.
    if (!S_ISSOCK(st.st_mode)) return make_error("{} exists and is not a socket", uds_path);
    unique_fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() && ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) == 0)
      return make_error("{} is in use: another program (another VM?) listens on it", uds_path);
    ::unlink(uds_path.c_str());
  }
  if (::bind(listener.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0)
    return make_error("cannot listen on {}: {}", uds_path, std::strerror(errno));
  if (::listen(listener.get(), 64) != 0) return make_error("cannot listen on {}: {}", uds_path, std::strerror(errno));
  unique_fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  unique_fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!epoll.valid() || !timer.valid()) return make_error("epoll or timerfd: {}", std::strerror(errno));
  for (int fd : {listener.get(), timer.get()}) {
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.fd = fd;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &e) != 0) return make_error("epoll_ctl: {}", std::strerror(errno));
  }
  return std::unique_ptr<muxer>(
    new muxer(guest_cid, uds_path, answer_within, std::move(listener), std::move(epoll), std::move(timer)));
}

muxer::muxer(std::uint64_t guest_cid, std::string uds_path, std::chrono::milliseconds answer_within,
             unique_fd listener, unique_fd epoll, unique_fd timer)
    : guest_cid_(guest_cid), uds_path_(std::move(uds_path)), answer_within_(answer_within), listener_(std::move(listener)),
      epoll_(std::move(epoll)), timer_(std::move(timer)) {}

muxer::~muxer() { ::unlink(uds_path_.c_str()); }

void muxer::watch(connection& c) {
  const std::uint32_t want = (c.wants_read() ? EPOLLIN : 0u) | (c.wants_write() ? EPOLLOUT : 0u);
  auto it = watched_.find(c.fd());
  const std::uint32_t had = it == watched_.end() ? 0 : it->second;
  if (want == had) return;
  // A socket with nothing to wait for leaves the set: a hung-up socket
  // would otherwise keep it readable (EPOLLHUP is always reported).
  epoll_event e{};
  e.events = want;
  e.data.fd = c.fd();
  const int how = want == 0 ? EPOLL_CTL_DEL : had == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
  if (::epoll_ctl(epoll_.get(), how, c.fd(), &e) != 0 && how != EPOLL_CTL_DEL) {
    c.reset();  // cannot be watched: better ended than stuck
    return;
  }
  if (want == 0) watched_.erase(c.fd());
  else watched_[c.fd()] = want;
}

void muxer::forget(int fd) {
  if (watched_.erase(fd)) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  by_fd_.erase(fd);
}

std::uint32_t muxer::free_local_port() {
  for (;;) {
    const std::uint32_t port = next_local_port_++;
    if (next_local_port_ == 0) next_local_port_ = 1u << 30;
    auto it = connections_.lower_bound({port, 0});
    if (it == connections_.end() || it->first.first != port) return port;
  }
}

void muxer::arm_timer() {
  std::optional<std::chrono::steady_clock::time_point> first;
  for (auto& [k, c] : connections_)
    if (auto d = c->deadline(); d && (!first || *d < *first)) first = d;
  itimerspec t{};
  if (first) {
    const auto left = std::max(std::chrono::nanoseconds(1000000), *first - std::chrono::steady_clock::now());
    t.it_value.tv_sec = left.count() / 1000000000;
    t.it_value.tv_nsec = left.count() % 1000000000;
  }
  ::timerfd_settime(timer_.get(), 0, &t, nullptr);
}

void muxer::accept_clients() {
  for (;;) {
    unique_fd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) return;  // EAGAIN, or a client that left already
    if (connections_.size() + clients_.size() >= max_connections) continue;  // closed: the host sees EOF
    const int fd = client.get();
    auto c = std::make_unique<connection>(std::move(client), connection::state::awaiting_connect, 0, 0);
    by_fd_[fd] = c.get();
    watch(*c);
    clients_[fd] = std::move(c);
    read_client(fd);  // its line may be here already
  }
}

void muxer::read_client(int fd) {
  auto client = clients_.find(fd);
  auto line = client->second->read_connect_line();
  if (line && !line->complete) return;  // the rest of the line comes later
  forget(fd);
  if (!line) {
    clients_.erase(client);  // closed: the host client sees EOF
    return;
  }
  auto c = std::move(client->second);
  clients_.erase(client);
  const std::uint32_t local = free_local_port();
  c->set_ports(local, line->port);
  c->request_guest(std::chrono::steady_clock::now() + answer_within_);
  by_fd_[fd] = c.get();
  watch(*c);
  connections_[{local, line->port}] = std::move(c);
  arm_timer();
}

void muxer::poll_host() {
  epoll_event events[64];
  for (int n = 64; n == 64;) {
    n = ::epoll_wait(epoll_.get(), events, 64, 0);
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener_.get()) {
        accept_clients();
      } else if (fd == timer_.get()) {
        std::uint64_t expirations = 0;
        (void)!::read(timer_.get(), &expirations, sizeof expirations);
        const auto now = std::chrono::steady_clock::now();
        for (auto& [k, c] : connections_)
          if (auto d = c->deadline(); d && *d <= now && c->current() == connection::state::requesting) c->reset();
        arm_timer();
      } else if (clients_.count(fd)) {
        read_client(fd);
      } else if (auto it = by_fd_.find(fd); it != by_fd_.end()) {
        connection& c = *it->second;
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) c.readable = true;
        if (events[i].events & EPOLLOUT)
          if (!c.flush_to_host()) c.reset();
        watch(c);
      }
    }
    if (n < 0 && errno != EINTR) return;
  }
}

void muxer::owe_reset(const header& h) {
  if (h.op == op::rst || resets_.size() >= max_pending_resets) return;  // a reset is not answered
  header r;
  r.src_cid = host_cid;
  r.dst_cid = guest_cid_;
  r.src_port = h.dst_port;
  r.dst_port = h.src_port;
  r.op = op::rst;
  resets_.push_back(r);
}

void muxer::guest_connects(const header& h) {
  const key k{h.dst_port, h.src_port};
  if (connections_.size() + clients_.size() >= max_connections) return owe_reset(h);
  unique_fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  auto address = unix_address(uds_path_ + "_" + std::to_string(h.dst_port));
  // Nothing listening there, or a backlog that is full: the guest is refused.
  if (!s.valid() || !address ||
      ::connect(s.get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0)
    return owe_reset(h);
  const int fd = s.get();
  auto c = std::make_unique<connection>(std::move(s), connection::state::established, k.first, k.second);
  c->answer_guest(h);
  by_fd_[fd] = c.get();
  watch(*c);
  connections_[k] = std::move(c);
}

void muxer::from_guest(const guest_packet& p) {
  const key k{p.hdr.dst_port, p.hdr.src_port};
  auto it = connections_.find(k);
  if (it == connections_.end()) {
    if (p.hdr.op == op::request) return guest_connects(p.hdr);
    return owe_reset(p.hdr);
  }
  connection& c = *it->second;
  if (!c.from_guest(p)) c.reset();
  if (c.finished()) {
    forget(c.fd());
    connections_.erase(it);
    return;
  }
  watch(c);
}

void muxer::reject(const header& h) {
  auto it = connections_.find({h.dst_port, h.src_port});
  if (it == connections_.end()) return owe_reset(h);
  it->second->reset();
  watch(*it->second);
}

bool muxer::next_for_guest(header& hdr, std::span<std::uint8_t> payload) {
  if (!resets_.empty()) {
    hdr = resets_.front();
    resets_.pop_front();
    return true;
  }
  for (auto it = connections_.begin(); it != connections_.end();) {
    connection& c = *it->second;
    auto control = c.next_control(guest_cid_);
    if (c.finished()) {  // its RST is this packet, or it had nothing left to say
      forget(c.fd());
      it = connections_.erase(it);
    } else {
      ++it;
    }
    if (control) {
      hdr = *control;
      return true;
    }
  }
  // Host data, one connection after another so that none starves the rest.
  if (connections_.empty()) return false;
  auto start = connections_.upper_bound(cursor_);
  for (std::size_t tried = 0; tried < connections_.size(); ++tried, ++start) {
    if (start == connections_.end()) start = connections_.begin();
    connection& c = *start->second;
    if (!c.readable) continue;
    const std::size_t n = c.read_for_guest(guest_cid_, payload, hdr);
    watch(c);
    if (n > 0) {
      cursor_ = start->first;
      return true;
    }
    if (auto control = c.next_control(guest_cid_)) {  // the host ended its side
      hdr = *control;
      return true;
    }
  }
  return false;
}

void muxer::drop_all() {
  for (auto& [fd, events] : watched_) ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  watched_.clear();
  by_fd_.clear();
  connections_.clear();
  clients_.clear();
  resets_.clear();
  arm_timer();
}

}  // namespace smvm::devices::virtio::vsock
