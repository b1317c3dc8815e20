#pragma once
// The host side of virtio-vsock, compatible with Firecracker's: a Unix
// socket at uds_path where host programs ask for a guest port with
// "CONNECT <port>\n" (answered "OK <host port>\n"), and, for a guest that
// connects to the host (CID 2) on port P, a connection to the Unix socket
// "<uds_path>_P".
//
// It owns every connection and its socket, and one epoll set over them
// (plus the listener and a timer for REQUESTs the guest leaves
// unanswered); whoever drives it watches poll_fd() and calls poll_host()
// when it is readable. Memory is bounded: at most max_connections
// connections, each holding at most connection_buffer guest bytes, and
// at most max_pending_resets resets owed for packets that named no
// connection.

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "devices/virtio/vsock/connection.hpp"
#include "devices/virtio/vsock/packet.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

namespace smvm::devices::virtio::vsock {

inline constexpr std::size_t max_connections = 128;
inline constexpr std::size_t max_pending_resets = 256;
/// How long the guest has to answer a host client's REQUEST.
inline constexpr std::chrono::milliseconds request_timeout{2000};

class muxer {
 public:
  /// Listens on `uds_path` (a stale socket file there is replaced; one a
  /// program listens on is an error). A guest that leaves a host client's
  /// REQUEST unanswered for `answer_within` is reset.
  static result<std::unique_ptr<muxer>> open(std::uint64_t guest_cid, const std::string& uds_path,
                                             std::chrono::milliseconds answer_within = request_timeout);
  ~muxer();

  /// Readable while the host side has something to handle.
  int poll_fd() const { return epoll_.get(); }
  /// Accepts host clients, reads CONNECT lines, notes readable sockets,
  /// writes held guest bytes, and times out unanswered REQUESTs.
  void poll_host();

  /// A packet the guest sent, checked by read_packet().
  void from_guest(const guest_packet& p);
  /// A packet that broke the rules: the connection its header names ends.
  void reject(const header& h);

  /// The next packet for the guest: control packets first, then host data
  /// (at most payload.size() bytes, read into `payload`). Its payload
  /// length is hdr.len. False when nothing is owed now.
  bool next_for_guest(header& hdr, std::span<std::uint8_t> payload);

  /// Forgets every connection (their host sockets close) and what they
  /// owed: the guest was told the transport reset (after a restore).
  void drop_all();
  std::size_t connection_count() const { return connections_.size(); }

 private:
  using key = std::pair<std::uint32_t, std::uint32_t>;  // local (host) port, peer (guest) port
  muxer(std::uint64_t guest_cid, std::string uds_path, std::chrono::milliseconds answer_within, unique_fd listener,
        unique_fd epoll, unique_fd timer);

  void accept_clients();
  /// A host client's CONNECT line, as far as it has come.
  void read_client(int fd);
  void guest_connects(const header& h);
  void owe_reset(const header& h);
  void watch(connection& c);
  void forget(int fd);
  void arm_timer();
  std::uint32_t free_local_port();

  std::uint64_t guest_cid_;
  std::string uds_path_;
  std::chrono::milliseconds answer_within_;
  unique_fd listener_, epoll_, timer_;
  std::map<key, std::unique_ptr<connection>> connections_;
  std::map<int, connection*> by_fd_;     // every connection's socket
  std::map<int, std::uint32_t> watched_; // the events registered per socket
  std::map<int, std::unique_ptr<connection>> clients_;  // host clients before their CONNECT line
  std::deque<header> resets_;            // RSTs owed for packets that named no connection
  std::uint32_t next_local_port_ = 1u << 30;
  key cursor_{0, 0};                     // round robin over connections for data
};

}  // namespace smvm::devices::virtio::vsock
