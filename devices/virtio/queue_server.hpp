#pragma once
// The queues one queue worker serves, with everything serving them needs
// (the disk's file, the console's waiting input). Its device model makes it
// and keeps it while the driver is not running; while it is, the model
// lends it to one worker, which hands it back before the device resets or
// saves. Whoever holds it is its only user, so nothing in it needs a lock.

#include "common/result.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace smvm::devices::virtio {

/// One Ethernet frame, from its destination MAC to its payload's end.
using frame_bytes = std::vector<std::uint8_t>;

class queue_server {
 public:
  virtual ~queue_server() = default;
  /// Serves what the driver made available on queue `index` (one of this
  /// server's) since the last call. True when the driver wants an
  /// interrupt; an error when it broke the queue's rules (the transport
  /// then needs a reset).
  virtual result<bool> serve(std::uint16_t index) = 0;
  /// Queues (a bit each) that serve() found need serving though the driver
  /// did not notify them (the console's receive queue, once the guest
  /// connects). Reading clears them.
  virtual std::uint32_t take_wakeups() { return 0; }
  /// Host input for the guest (the console's receive queue): takes what
  /// fits and says how much that was. Servers without an input path take
  /// nothing.
  virtual std::size_t receive(std::span<const std::uint8_t> /*bytes*/) { return 0; }

  /// A network card's frames (virtio-net): what the guest sent since the
  /// last call, for the card's link (a switch port, slirp). Others send none.
  virtual std::vector<frame_bytes> take_frames() { return {}; }
  /// Frames from the link for the guest: into its receive buffers, or held
  /// (boundedly) until it offers more, or dropped. True when the driver
  /// wants an interrupt; an error when it broke the queue's rules.
  virtual result<bool> receive_frames(std::vector<frame_bytes>& /*frames*/) { return false; }

  /// A descriptor that becomes readable when the server has work on the
  /// host side (vsock's sockets), or -1 for none. Fixed for the server's
  /// life, and owned by it.
  virtual int backend_fd() const { return -1; }
  /// Does that host-side work and serves what it made ready for the guest;
  /// like serve().
  virtual result<bool> serve_backend() { return false; }
  /// Whether backend_fd() should be watched again now: false while the
  /// guest offers no buffers for what the backend has (the watch would
  /// only spin); a notify of the guest's then brings it back.
  virtual bool backend_wanted() const { return true; }
};

}  // namespace smvm::devices::virtio
