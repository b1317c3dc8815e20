#pragma once
// A NAT segment of one card's own: libslirp's user-mode TCP/IP, with DHCP,
// DNS and published ports, and no privilege. The guest sees a router at
// 10.0.2.2 (which stands for the host: its 127.0.0.1 too), DNS at 10.0.2.3
// and itself at 10.0.2.15, as under QEMU's -netdev user. libslirp is not
// thread-safe: one thread of this object's owns the instance, and runs its
// poll loop and timers; frames reach it through a bounded inbox.

#include "common/result.hpp"
#include "network/impairment.hpp"
#include "network/port_forward.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace smvm::network {

/// The segment's plan, which the guest init configures eth0 from.
namespace nat {
inline constexpr const char* guest_address = "10.0.2.15";
inline constexpr unsigned prefix_length = 24;
inline constexpr const char* gateway = "10.0.2.2";
inline constexpr const char* dns = "10.0.2.3";
}  // namespace nat

struct slirp_counters {
  std::uint64_t in_frames = 0, out_frames = 0;  // from the guest, to it
  std::uint64_t dropped = 0;                    // from the guest, with the inbox full
};

class slirp_stack {
 public:
  /// Takes frames for the guest, on the stack's thread.
  using deliver_fn = std::function<void(std::vector<frame_bytes>)>;

  /// Room in the inbox for frames the thread has not yet taken.
  static constexpr std::size_t inbox_bytes = 4u << 20;

  /// A segment whose host listens on `publish`'s ports; an error names the
  /// port that cannot be bound.
  static result<std::unique_ptr<slirp_stack>> start(const std::vector<port_forward>& publish, deliver_fn deliver);
  ~slirp_stack();
  slirp_stack(const slirp_stack&) = delete;
  slirp_stack& operator=(const slirp_stack&) = delete;

  /// Frames the guest sent; any that do not fit the inbox are dropped.
  void send(std::vector<frame_bytes> frames);
  slirp_counters counters() const;

  struct engine;  // libslirp's instance and its callbacks' state (slirp_stack.cpp)

 private:
  slirp_stack() = default;
  void run();

  std::unique_ptr<engine> engine_;
  int wake_fd_ = -1;  // an eventfd: frames in the inbox, or stop
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;  // guards the inbox and the counters
  std::vector<frame_bytes> inbox_;
  std::size_t inbox_size_ = 0;
  slirp_counters counters_;
  std::thread thread_;
};

}  // namespace smvm::network
