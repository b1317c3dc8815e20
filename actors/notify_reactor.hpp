#pragma once
// The eventfd reactor: one thread per VM that waits on the ioeventfds KVM
// signals when the guest writes QueueNotify, and turns each into a
// queue_notify for that queue's worker. The vCPU never leaves KVM_RUN for a
// notification; this thread pays the wake-up instead.
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
  std::thread thread_;
};

}  // namespace smvm::actors
