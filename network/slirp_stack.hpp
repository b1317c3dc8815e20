#pragma once
// A NAT segment of one card's own: libslirp's user-mode TCP/IP, with DHCP,
// DNS and published ports, and no privilege. The guest sees a router at
// 10.0.2.2 (which stands for the host: its 127.0.0.1 too), DNS at 10.0.2.3
// and itself at 10.0.2.15, as under QEMU's -netdev user. libslirp is not
// thread-safe: one thread of this object's owns the instance, and runs its
// poll loop and timers; frames reach it through a bounded inbox.

#include "common/result.hpp"
#include "network/frame_endpoint.hpp"
#include "network/port_forward.hpp"

#include <atomic>
#include <memory>
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

class slirp_stack final : public frame_endpoint {
 public:
  /// A segment whose host listens on `publish`'s ports; an error names the
  /// port that cannot be bound.
  static result<std::unique_ptr<slirp_stack>> start(const std::vector<port_forward>& publish, deliver_fn deliver);
  ~slirp_stack() override;
  slirp_stack(const slirp_stack&) = delete;
  slirp_stack& operator=(const slirp_stack&) = delete;

  void send(std::vector<frame_bytes> frames) override { inbox_.push(std::move(frames)); }
  endpoint_counters counters() const override { return inbox_.counters(); }

  struct engine;  // libslirp's instance and its callbacks' state (slirp_stack.cpp)

 private:
  slirp_stack() = default;
  void run();

  std::unique_ptr<engine> engine_;
  frame_inbox inbox_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace smvm::network
