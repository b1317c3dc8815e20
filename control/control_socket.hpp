#pragma once
// The control socket of a running VM, as Firecracker's API socket: a Unix
// stream socket that takes one JSON request a line and answers each with
// one JSON line.
//
//   {"action": "status"}                    {"ok": true, "state": "running"}
//   {"action": "pause"}                     {"ok": true, "state": "paused"}
//   {"action": "resume"}                    {"ok": true, "state": "running"}
//   {"action": "snapshot", "path": "F"}     {"ok": true, "path": "F", "memory": "F.mem"}
//   {"action": "stop"}                      {"ok": true, "state": "stopping"}
//   {"action": "link", "switch": S, "mac": M, ...}, {"action": "switch", "switch": S}
//                                           a card's link, a switch's counters
//                                           (control/network_requests.hpp)
//
// A request that fails, or is not one of these, gets {"ok": false,
// "error": "..."} naming what is wrong; the VM is unaffected. A snapshot of
// a running VM freezes it, writes, and thaws it; of a paused one, leaves it
// paused. "stop" ends the VM with exit status 0.

#include "actors/messages.hpp"
#include "actors/switch_registry.hpp"
#include "common/result.hpp"

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

namespace smvm::control {

/// The reply line (without its newline) to one request line. `net`: the
/// process's switches (null: none).
std::string handle_request(caf::actor_system& system, const actors::machine_actor& machine, const std::string& line,
                           const std::shared_ptr<actors::switch_registry>& net = nullptr);

class control_socket {
 public:
  /// Listens at `path` (an existing socket file there is replaced; any
  /// other file is an error) and serves requests on a thread of its own.
  static result<std::unique_ptr<control_socket>> open(const std::filesystem::path& path, caf::actor_system& system,
                                                      actors::machine_actor machine,
                                                      std::shared_ptr<actors::switch_registry> net = nullptr);
  ~control_socket();  // stops serving and removes the socket file

  control_socket(const control_socket&) = delete;
  control_socket& operator=(const control_socket&) = delete;

 private:
  control_socket(std::filesystem::path path, int listen_fd, int wake_fd, caf::actor_system& system,
                 actors::machine_actor machine, std::shared_ptr<actors::switch_registry> net);
  void serve();
  void serve_client(int fd);

  std::filesystem::path path_;
  int listen_fd_;
  int wake_fd_;  // an eventfd: written to stop the thread
  caf::actor_system& system_;
  actors::machine_actor machine_;
  std::shared_ptr<actors::switch_registry> net_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace smvm::control
