#pragma once
// The eventfd reactor: one thread per VM that waits on the ioeventfds KVM
// signals when the guest writes QueueNotify, and turns each into a
// queue_notify for that queue's worker. The vCPU never leaves KVM_RUN for a
// notification; this thread pays the wake-up instead. It also watches the
// host side of devices that have one (vsock's sockets), one shot at a time.
//
// A plain thread, not an actor: it sits in epoll_wait.

#include "actors/messages.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

#include <map>
#include <mutex>
#include <thread>

namespace smvm::actors {

class notify_reactor {
 public:
  notify_reactor();
  ~notify_reactor();  // stops and joins
  notify_reactor(const notify_reactor&) = delete;
  notify_reactor& operator=(const notify_reactor&) = delete;

  /// Sends queue_notify{queue} to `worker` each time `fd` is signalled.
  /// Takes `fd`; thread-safe. A signal that came before is not lost.
  result<void> watch(unique_fd fd, queue_worker_actor worker, std::uint16_t queue);
  /// Sends backend_atom to `worker` once `fd` (a queue server's
  /// backend_fd(), which the server owns) is readable; then nothing more
  /// until rearm(fd). So a backend whose guest has no buffers does not spin.
  result<void> watch_backend(int fd, queue_worker_actor worker);
  /// Watches a backend again after its backend_atom was handled.
  void rearm(int fd);
  /// Stops and joins the thread (idempotent); watches end with it.
  void stop();

 private:
  struct target {
    unique_fd fd;
    queue_worker_actor worker;
    std::uint16_t queue;
  };
  void run();

  unique_fd epoll_, wake_;
  std::mutex mutex_;  // guards targets_ between watch() and the thread
  std::map<int, target> targets_;
  std::map<int, queue_worker_actor> backends_;
  std::thread thread_;
};

}  // namespace smvm::actors
