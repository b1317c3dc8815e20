#pragma once
// A connection to a VM's guest agent: through the VM's vsock Unix socket
// with Firecracker's handshake (CONNECT <port>, OK <n>), then frames
// (common/agent_protocol.h). One operation per channel.

#include "agent/frame.hpp"
#include "common/result.hpp"
#include "common/unique_fd.hpp"

#include <chrono>
#include <filesystem>

namespace smvm::agent {

class channel {
 public:
  /// Connects to `uds_path` and to guest vsock port `port` behind it,
  /// waiting at most `timeout` for the guest to accept.
  static result<channel> open(const std::filesystem::path& uds_path, std::chrono::milliseconds timeout,
                              unsigned port = SMVM_AGENT_PORT);

  /// A stream to the agent connected some other way (tools/bench/vsock:
  /// AF_VSOCK to a QEMU guest).
  static channel adopt(unique_fd fd) { return channel{std::move(fd)}; }

  result<void> send(std::uint8_t type, std::span<const std::uint8_t> payload = {});
  result<void> send(std::uint8_t type, const records& r) { return send(type, encode_records(r)); }
  /// The next frame (blocking); an error when the agent went away or sent
  /// a bad one.
  result<frame> receive();
  /// The next frame, reading no byte past it: the stream behind it stays
  /// in the socket (CONNECT's OK).
  result<frame> receive_exactly();

  int fd() const { return fd_.get(); }
  frame_reader& reader() { return reader_; }
  /// The socket, for a stream that is no longer framed (CONNECT).
  unique_fd release() { return std::move(fd_); }

 private:
  explicit channel(unique_fd fd) : fd_(std::move(fd)) {}
  unique_fd fd_;
  frame_reader reader_;
};

/// Writes all of `bytes` to `fd`, waiting whenever it is full (a
/// non-blocking pipe or socket too); an error names `what`.
result<void> write_all(int fd, std::span<const std::uint8_t> bytes, std::string_view what);

/// A stream connected to the Unix socket at `path`; an error names it.
result<unique_fd> connect_unix(const std::filesystem::path& path);

/// write_all for a socket, with MSG_NOSIGNAL: a peer that has gone is an
/// error, not a SIGPIPE.
result<void> send_all_to_socket(int fd, std::span<const std::uint8_t> bytes, std::string_view what);

/// The agent's version, when it answers a PING within `timeout`.
result<std::string> ping(const std::filesystem::path& uds_path, std::chrono::milliseconds timeout);

/// A stream to TCP `port` on the guest's loopback (the agent splices it).
result<unique_fd> connect_tcp(const std::filesystem::path& uds_path, std::uint16_t port,
                              std::chrono::milliseconds timeout);

}  // namespace smvm::agent
