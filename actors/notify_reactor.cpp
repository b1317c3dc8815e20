#include "actors/notify_reactor.hpp"

#include "hv/eventfd.hpp"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>

namespace smvm::actors {

notify_reactor::notify_reactor() {
  epoll_ = unique_fd(::epoll_create1(EPOLL_CLOEXEC));
  auto wake = hv::make_eventfd();
  if (!epoll_.valid() || !wake) return;  // watch() reports it
  wake_ = std::move(*wake);
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = wake_.get();
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &event) != 0) return;
  thread_ = std::thread([this] { run(); });
}

notify_reactor::~notify_reactor() { stop(); }

void notify_reactor::stop() {
  if (wake_.valid()) hv::signal_eventfd(wake_.get());
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  targets_.clear();  // the workers' handles go with the thread
  backends_.clear();
}

result<void> notify_reactor::watch(unique_fd fd, queue_worker_actor worker, std::uint16_t queue) {
  if (!thread_.joinable()) return make_error("the queue notification thread did not start");
  const int raw = fd.get();
  std::lock_guard lock(mutex_);
  targets_[raw] = target{std::move(fd), std::move(worker), queue};
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = raw;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, raw, &event) != 0) {
    targets_.erase(raw);
    return make_error("epoll_ctl: {}", std::strerror(errno));
  }
  return {};
}

result<void> notify_reactor::watch_backend(int fd, queue_worker_actor worker) {
  if (!thread_.joinable()) return make_error("the queue notification thread did not start");
  std::lock_guard lock(mutex_);
  backends_[fd] = std::move(worker);
  epoll_event event{};
  event.events = EPOLLIN | EPOLLONESHOT;
  event.data.fd = fd;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    backends_.erase(fd);
    return make_error("epoll_ctl: {}", std::strerror(errno));
  }
  return {};
}

void notify_reactor::rearm(int fd) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLONESHOT;
  event.data.fd = fd;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &event);
}

void notify_reactor::run() {
  epoll_event events[16];
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_.get()) return;
      std::lock_guard lock(mutex_);
      if (auto it = backends_.find(fd); it != backends_.end()) {
        caf::anon_send(it->second, backend_atom_v);
        continue;
      }
      if (hv::drain_eventfd(fd) == 0) continue;
      if (auto it = targets_.find(fd); it != targets_.end())
        caf::anon_send(it->second.worker, queue_notify{it->second.queue});
    }
  }
}

}  // namespace smvm::actors
