#include "network/slirp_stack.hpp"

#include <slirp/libslirp.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

namespace smvm::network {

namespace {

std::int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

in_addr address_of(const char* dotted) {
  in_addr a{};
  inet_pton(AF_INET, dotted, &a);
  return a;
}

short to_poll_events(int slirp_events) {
  short e = 0;
  if (slirp_events & SLIRP_POLL_IN) e |= POLLIN;
  if (slirp_events & SLIRP_POLL_OUT) e |= POLLOUT;
  if (slirp_events & SLIRP_POLL_PRI) e |= POLLPRI;
  if (slirp_events & SLIRP_POLL_ERR) e |= POLLERR;
  if (slirp_events & SLIRP_POLL_HUP) e |= POLLHUP;
  return e;
}

int to_slirp_events(short revents) {
  int e = 0;
  if (revents & POLLIN) e |= SLIRP_POLL_IN;
  if (revents & POLLOUT) e |= SLIRP_POLL_OUT;
  if (revents & POLLPRI) e |= SLIRP_POLL_PRI;
  if (revents & POLLERR) e |= SLIRP_POLL_ERR;
  if (revents & POLLHUP) e |= SLIRP_POLL_HUP;
  return e;
}

}  // namespace

struct slirp_stack::engine {
  struct timer {
    SlirpTimerId id;
    void* cb_opaque;
    std::int64_t expire_ms = -1;  // -1: not armed
  };

  Slirp* slirp = nullptr;
  deliver_fn deliver;
  std::vector<frame_bytes> outbox;  // for the guest, handed over after each round
  std::vector<pollfd> fds;          // [0] is the wake eventfd; then libslirp's
  std::vector<std::unique_ptr<timer>> timers;

  ~engine() {
    if (slirp) slirp_cleanup(slirp);
  }

  static engine& of(void* opaque) { return *static_cast<engine*>(opaque); }

  static ssize_t send_packet(const void* buf, size_t len, void* opaque) {
    auto* bytes = static_cast<const std::uint8_t*>(buf);
    of(opaque).outbox.emplace_back(bytes, bytes + len);
    return static_cast<ssize_t>(len);
  }
  static void guest_error(const char*, void*) {}  // a hostile guest's packets are dropped, and not worth a line each
  static std::int64_t clock_get_ns(void*) { return now_ns(); }
  static void* timer_new_opaque(SlirpTimerId id, void* cb_opaque, void* opaque) {
    auto& e = of(opaque);
    e.timers.push_back(std::make_unique<timer>(timer{id, cb_opaque}));
    return e.timers.back().get();
  }
  static void timer_free(void* t, void* opaque) {
    auto& timers = of(opaque).timers;
    timers.erase(std::remove_if(timers.begin(), timers.end(), [t](auto& p) { return p.get() == t; }), timers.end());
  }
  static void timer_mod(void* t, std::int64_t expire_ms, void*) { static_cast<timer*>(t)->expire_ms = expire_ms; }
  static void register_poll_fd(int, void*) {}  // every round polls what pollfds_fill names
  static void unregister_poll_fd(int, void*) {}
  static void notify(void*) {}  // only this thread calls libslirp, and it polls again after each round

  static int add_poll(int fd, int events, void* opaque) {
    auto& fds = of(opaque).fds;
    fds.push_back({fd, to_poll_events(events), 0});
    return static_cast<int>(fds.size() - 1);
  }
  static int get_revents(int index, void* opaque) {
    auto& fds = of(opaque).fds;
    if (index < 1 || static_cast<std::size_t>(index) >= fds.size()) return 0;
    return to_slirp_events(fds[static_cast<std::size_t>(index)].revents);
  }

  /// Milliseconds until the first armed timer, at most `limit`.
  std::uint32_t until_next_timer(std::uint32_t limit) const {
    const std::int64_t now = now_ns() / 1'000'000;
    for (const auto& t : timers)
      if (t->expire_ms >= 0) limit = static_cast<std::uint32_t>(std::clamp<std::int64_t>(t->expire_ms - now, 0, limit));
    return limit;
  }

  void fire_due_timers() {
    const std::int64_t now = now_ns() / 1'000'000;
    std::vector<timer> due;
    for (auto& t : timers)
      if (t->expire_ms >= 0 && t->expire_ms <= now) {
        due.push_back(*t);
        t->expire_ms = -1;
      }
    for (auto& t : due) slirp_handle_timer(slirp, t.id, t.cb_opaque);
  }
};

namespace {

const SlirpCb callbacks = [] {
  using e = slirp_stack::engine;
  SlirpCb cb{};
  cb.send_packet = e::send_packet;
  cb.guest_error = e::guest_error;
  cb.clock_get_ns = e::clock_get_ns;
  cb.timer_free = e::timer_free;
  cb.timer_mod = e::timer_mod;
  cb.register_poll_fd = e::register_poll_fd;
  cb.unregister_poll_fd = e::unregister_poll_fd;
  cb.notify = e::notify;
  cb.timer_new_opaque = e::timer_new_opaque;
  return cb;
}();

}  // namespace

result<std::unique_ptr<slirp_stack>> slirp_stack::start(const std::vector<port_forward>& publish, deliver_fn deliver) {
  std::unique_ptr<slirp_stack> stack(new slirp_stack);
  stack->engine_ = std::make_unique<engine>();
  auto& e = *stack->engine_;
  e.deliver = std::move(deliver);

  SlirpConfig config{};
  config.version = 4;
  config.in_enabled = true;
  config.vnetwork = address_of("10.0.2.0");
  config.vnetmask = address_of("255.255.255.0");
  config.vhost = address_of(nat::gateway);
  config.vdhcp_start = address_of(nat::guest_address);
  config.vnameserver = address_of(nat::dns);
  config.vhostname = "smvm";
  config.in6_enabled = false;  // IPv4, as Docker's default bridge
  e.slirp = slirp_new(&config, &callbacks, &e);
  if (!e.slirp) return make_error("libslirp could not make a network");

  for (const auto& f : publish) {
    in_addr host{};
    std::memcpy(&host.s_addr, f.host_address.data(), 4);
    errno = 0;
    if (slirp_add_hostfwd(e.slirp, f.udp, host, f.host_port, address_of(nat::guest_address), f.guest_port) < 0)
      return make_error("cannot publish {}: the host cannot listen on that address and port ({})", to_string(f),
                        errno ? std::strerror(errno) : "is it in use?");
  }

  if (!stack->inbox_.ready()) return make_error("cannot make the network's eventfd: {}", std::strerror(errno));
  stack->thread_ = std::thread([s = stack.get()] { s->run(); });
  return stack;
}

slirp_stack::~slirp_stack() {
  stop_ = true;
  if (thread_.joinable()) {
    inbox_.wake();
    thread_.join();
  }
}

void slirp_stack::run() {
  // A write to a host socket the peer closed is an EPIPE for libslirp, not
  // a signal that ends the program embedding smvm.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  auto& e = *engine_;
  while (!stop_) {
    std::uint32_t timeout = e.until_next_timer(1000);
    e.fds.assign(1, pollfd{inbox_.wake_fd(), POLLIN, 0});
    slirp_pollfds_fill(e.slirp, &timeout, engine::add_poll, &e);
    const int ready = poll(e.fds.data(), e.fds.size(), static_cast<int>(timeout));
    const bool failed = ready < 0 && errno != EINTR;  // before take() sets errno
    if (stop_) break;
    for (auto& f : inbox_.take()) slirp_input(e.slirp, f.data(), static_cast<int>(f.size()));
    slirp_pollfds_poll(e.slirp, failed, engine::get_revents, &e);
    e.fire_due_timers();
    if (!e.outbox.empty()) {
      inbox_.count_out(e.outbox.size());
      e.deliver(std::move(e.outbox));
      e.outbox.clear();
    }
  }
}

}  // namespace smvm::network
