#pragma once
// The virtio split virtqueue (virtio 1.2, section 2.7), as the device sees it.
//
// Everything in the rings comes from an untrusted guest: descriptor indices,
// addresses, lengths, flags and ring indices are all checked, and a request
// that breaks a rule is an error for that request, never a VMM crash or an
// access outside guest RAM.

#include "common/result.hpp"
#include "devices/memory_view.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace smvm::devices::virtio {

/// The largest queue smvm offers, and so the longest direct chain.
inline constexpr std::uint16_t max_queue_size = 256;
/// The longest indirect table a chain may use (descriptors).
inline constexpr std::uint32_t max_indirect_descriptors = 1024;

namespace desc_flags {
inline constexpr std::uint16_t next = 1, write = 2, indirect = 4;
}
inline constexpr std::uint16_t avail_flag_no_interrupt = 1;

/// One buffer of a request, already bounds-checked against guest RAM.
struct buffer {
  std::span<std::uint8_t> bytes;
  bool device_writable = false;
};

/// A request popped from the available ring.
struct chain {
  std::uint16_t head = 0;      // what push_used() gives back
  std::vector<buffer> buffers; // readable ones first, then writable ones
  std::size_t readable_bytes() const;
  std::size_t writable_bytes() const;
};

/// What the driver programmed through the transport.
struct queue_config {
  std::uint16_t size = 0;  // a power of two, 1..max_queue_size
  std::uint64_t desc_table = 0, avail_ring = 0, used_ring = 0;
};

/// Where the device stands in a queue's rings: what a snapshot keeps of a
/// live queue besides the driver's configuration.
struct queue_cursors {
  std::uint16_t next_avail = 0, next_used = 0, signalled_used = 0;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("next_avail", s.next_avail) && v.value("next_used", s.next_used) &&
           v.value("signalled_used", s.signalled_used);
  }
};

class queue {
 public:
  /// Checks the configuration (size, alignment, rings inside guest RAM).
  static result<queue> create(const memory_view& memory, queue_config config, bool event_idx);
  /// Queue `index` of those the driver handed over at DRIVER_OK, made live;
  /// `what` names it in errors ("virtio-blk requests").
  static result<queue> create_live(const memory_view& memory, const std::vector<queue_config>& queues,
                                   std::size_t index, bool event_idx, std::string_view what);

  /// The next request, none when the ring is empty, or an error when the
  /// driver broke the rules (the request is then consumed and must be
  /// completed with length 0, or the device set to NEEDS_RESET).
  result<std::optional<chain>> pop();
  /// Puts back the last `count` requests pop() gave, which the device has
  /// not used: the next pop() gives them again (a receive frame that needs
  /// more buffers than the driver has offered yet waits for more).
  void give_back(std::uint16_t count) { next_avail_ = static_cast<std::uint16_t>(next_avail_ - count); }
  /// Returns a request to the driver with the bytes the device wrote.
  result<void> push_used(std::uint16_t head, std::uint32_t written);
  /// Whether the driver wants an interrupt for what was pushed since the
  /// last call (VIRTIO_F_EVENT_IDX or the NO_INTERRUPT flag).
  bool should_interrupt();

  /// Serves every pending request with `serve(const chain&)`, which returns
  /// result<std::uint32_t>: the bytes it wrote. True when the driver wants an
  /// interrupt; an error (the driver broke the rules, or serve failed)
  /// stops at that request.
  template <class Serve>
  result<bool> serve_all(Serve&& serve) {
    bool used = false;
    for (;;) {
      auto next = pop();
      if (!next) return next.error();
      if (!*next) break;
      result<std::uint32_t> written = serve(**next);
      if (!written) return written.error();
      if (auto r = push_used((*next)->head, *written); !r) return r.error();
      used = true;
    }
    return used && should_interrupt();
  }

  /// The driver's available index: how many requests it has offered (mod 2^16).
  result<std::uint16_t> available_index() const;
  /// Asks the driver to notify when it offers its next request (with
  /// VIRTIO_F_EVENT_IDX, avail_event is otherwise the next one the device
  /// takes, which a device that leaves buffers waiting has passed long ago).
  result<void> notify_on_next_offer();

  std::uint16_t next_avail() const { return next_avail_; }
  std::uint16_t next_used() const { return next_used_; }
  /// For restoring a queue: where the device stood.
  void set_cursors(std::uint16_t next_avail, std::uint16_t next_used);
  queue_cursors cursors() const { return {next_avail_, next_used_, signalled_used_}; }
  void restore(const queue_cursors& c) {
    next_avail_ = c.next_avail;
    next_used_ = c.next_used;
    signalled_used_ = c.signalled_used;
  }

 private:
  queue(const memory_view& memory, queue_config config, bool event_idx)
      : memory_(&memory), config_(config), event_idx_(event_idx) {}
  result<std::uint16_t> load16(std::uint64_t address) const;
  result<void> store16(std::uint64_t address, std::uint16_t value) const;
  result<void> walk(std::uint64_t table, std::uint32_t table_size, std::uint16_t first, bool indirect,
                    chain& out) const;

  const memory_view* memory_;
  queue_config config_;
  bool event_idx_ = false;
  std::uint16_t next_avail_ = 0;
  std::uint16_t next_used_ = 0;
  std::uint16_t signalled_used_ = 0;  // next_used_ when the driver was last interrupted
};

}  // namespace smvm::devices::virtio
