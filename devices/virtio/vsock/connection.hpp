#pragma once
// One vsock stream between a guest socket and a host Unix socket: its
// state, its credit both ways (virtio 1.2, 5.10.6.3), and the control
// packets it owes the guest.
//
// Credit keeps both sides bounded: the guest may have at most buf_alloc
// bytes in flight towards the host (held in to_host until the Unix socket
// takes them), and smvm sends the guest no more than the guest's
// buf_alloc - (tx_cnt - fwd_cnt) says it has room for.

#include "common/unique_fd.hpp"
#include "devices/virtio/vsock/packet.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>
#include <optional>
#include <span>

namespace smvm::devices::virtio::vsock {

/// The receive buffer smvm advertises per connection, and so the most
/// guest bytes it holds for a host socket that does not read.
inline constexpr std::uint32_t connection_buffer = 256 * 1024;

class connection {
 public:
  enum class state : std::uint8_t {
    awaiting_connect,   // a host client that has not sent its CONNECT line yet
    requesting,         // REQUEST sent to the guest, no RESPONSE yet
    established,
    closed,             // RST owed or sent: goes once the guest has it
  };

  connection(unique_fd socket, state initial, std::uint32_t local_port, std::uint32_t peer_port);

  int fd() const { return socket_.get(); }
  state current() const { return state_; }
  std::uint32_t local_port() const { return local_port_; }
  std::uint32_t peer_port() const { return peer_port_; }
  void set_ports(std::uint32_t local, std::uint32_t peer) { local_port_ = local, peer_port_ = peer; }

  /// A host client's bytes before its CONNECT line ends: the port asked
  /// for once the line is whole, an error when it is not a CONNECT line.
  struct connect_line {
    bool complete = false;
    std::uint32_t port = 0;
  };
  result<connect_line> read_connect_line();

  /// The guest's packet for this connection: what it changes, and whether
  /// the connection must be reset (a RW beyond its credit, say).
  result<void> from_guest(const guest_packet& p);
  /// Sends a REQUEST: the host client asked for the guest's port.
  void request_guest(std::chrono::steady_clock::time_point deadline);
  /// The guest answered a REQUEST with RESPONSE: tell the host client.
  void established_by_guest();
  /// The guest's REQUEST (its header `h`) reached a host listener: answer
  /// it with RESPONSE.
  void answer_guest(const header& h);
  /// The connection is over; the guest gets a RST.
  void reset() { state_ = state::closed, owe_rst_ = true; }

  /// The next control packet owed the guest (REQUEST, RESPONSE, RST,
  /// SHUTDOWN or CREDIT_UPDATE), with its credit fields filled in.
  std::optional<header> next_control(std::uint64_t guest_cid);
  /// Reads up to `room` host bytes for the guest (no more than its credit
  /// allows) into `out`; fills `hdr` for an RW packet. Nothing: no credit,
  /// no data (EAGAIN) or the host ended its side (a SHUTDOWN is then owed).
  std::size_t read_for_guest(std::uint64_t guest_cid, std::span<std::uint8_t> out, header& hdr);
  /// Writes what the Unix socket will take of the guest's bytes.
  result<void> flush_to_host();

  /// Whether the host socket should be watched for reading (data the
  /// guest has room for), for writing (guest bytes waiting), and whether
  /// it is marked readable now.
  bool wants_read() const;
  bool wants_write() const { return !to_host_.empty(); }
  bool readable = false;
  /// Whether the guest owes an answer by a time (a REQUEST), and when.
  std::optional<std::chrono::steady_clock::time_point> deadline() const { return deadline_; }
  /// Whether it is finished: closed, and the guest has been told.
  bool finished() const { return state_ == state::closed && !owe_rst_; }
  std::size_t held_bytes() const { return to_host_.size(); }

 private:
  header base(std::uint64_t guest_cid, std::uint16_t op);
  std::uint32_t peer_credit() const;
  void after_flush();

  unique_fd socket_;
  state state_;
  std::uint32_t local_port_, peer_port_;
  std::string line_;                   // the CONNECT line so far
  // Credit: the guest's buffer and what it has taken; what smvm sent it.
  std::uint32_t peer_buf_alloc_ = 0, peer_fwd_cnt_ = 0, tx_cnt_ = 0;
  // What smvm has passed to the host socket, and last told the guest.
  std::uint32_t fwd_cnt_ = 0, told_fwd_cnt_ = 0;
  std::vector<std::uint8_t> to_host_;  // guest bytes the socket has not taken
  bool owe_request_ = false, owe_response_ = false, owe_rst_ = false, owe_credit_ = false;
  bool owe_shutdown_ = false;          // the host ended its side: tell the guest
  bool host_done_ = false;             // read EOF from the host
  bool guest_done_sending_ = false;    // the guest's SHUTDOWN said SEND
  bool guest_closed_ = false;          // the guest's SHUTDOWN said both: RST once flushed
  bool host_write_shut_ = false;       // shutdown(SHUT_WR) done
  std::string ok_line_;                // "OK <port>\n" for the host client, owed
  std::optional<std::chrono::steady_clock::time_point> deadline_;
};

}  // namespace smvm::devices::virtio::vsock
