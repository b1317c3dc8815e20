#pragma once
// A card's link to a TAP device of the host's (`[[net]] tap = "tap0"`): the
// frames the guest sends are written to it, and what the host's kernel
// sends into it goes to the guest. For those who run as root (or own the
// TAP) and want the guest on a host bridge or routed, as Firecracker does.
// A thread of its own reads the device and writes what the inbox holds.

#include "common/result.hpp"
#include "network/frame_endpoint.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace smvm::network {

class tap_device final : public frame_endpoint {
 public:
  /// Opens (or makes, with CAP_NET_ADMIN) the TAP device `name`; an error
  /// says why it cannot, and what to do.
  static result<std::unique_ptr<tap_device>> open(const std::string& name, deliver_fn deliver);
  ~tap_device() override;
  tap_device(const tap_device&) = delete;
  tap_device& operator=(const tap_device&) = delete;

  void send(std::vector<frame_bytes> frames) override { inbox_.push(std::move(frames)); }
  endpoint_counters counters() const override { return inbox_.counters(); }

 private:
  tap_device() = default;
  void run();

  int fd_ = -1;
  deliver_fn deliver_;
  frame_inbox inbox_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace smvm::network
