#pragma once
// virtio-console (virtio 1.2, section 5.3), one port: the guest's hvc0.
// Queue 0 (receiveq) takes host input into device-writable buffers; queue 1
// (transmitq) carries the guest's output in device-readable buffers.
//
// With VIRTIO_CONSOLE_F_MULTIPORT (queues 2 and 3 carry control messages)
// the device learns when the guest has hooked port 0 up as its console:
// Linux drops input that arrives on a port before that, so host input is
// held until the guest's PORT_OPEN. A driver without MULTIPORT gets input
// as soon as it offers buffers.

#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"

#include <array>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

namespace smvm::devices::virtio::console {

namespace feature {
inline constexpr std::uint64_t multiport = 1ull << 1;
}

/// struct virtio_console_control, and its events (virtio 1.2, 5.3.6.2).
struct control {
  std::uint32_t id = 0;     // port
  std::uint16_t event = 0;
  std::uint16_t value = 0;
};
static_assert(sizeof(control) == 8);
namespace event {
inline constexpr std::uint16_t device_ready = 0, device_add = 1, port_ready = 3, console_port = 4, port_open = 6;
}

/// What a snapshot keeps of the console beyond its queues.
struct saved_extra {
  bool connected = false;                 // the guest opened port 0
  std::vector<std::uint8_t> waiting;      // host input the guest has not taken
  std::vector<control> outgoing;          // control messages not yet sent

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("connected", s.connected) && v.list("waiting input", s.waiting) &&
           v.list("control messages", s.outgoing);
  }
};

using output_fn = std::function<void(std::span<const std::uint8_t>)>;

/// The receive queue and both control queues, with the connection and the
/// input waiting for the guest: one worker holds them, since the control
/// messages decide when input may go out.
class receive_server final : public queue_server {
 public:
  /// Host input waiting beyond this is refused (receive() says how much fit).
  static constexpr std::size_t input_capacity = 64 * 1024;

  result<bool> serve(std::uint16_t index) override;
  std::uint32_t take_wakeups() override { return std::exchange(wakeups_, 0); }
  /// Queues host input for the guest; returns how many bytes fit. Input
  /// waits until the guest's console is connected and offers buffers.
  std::size_t receive(std::span<const std::uint8_t> bytes) override;

  /// Sets up the queues; `multiport` says whether there is a handshake to
  /// wait for (without one the guest takes input at once).
  void activate(std::optional<queue> rx, std::optional<queue> control_rx, std::optional<queue> control_tx,
                bool multiport);
  /// Forgets the queues and the connection; waiting input stays.
  void reset();
  std::vector<queue*> queues();
  saved_extra save() const;
  result<void> restore(const saved_extra& state);
  bool connected() const { return connected_; }

 private:
  /// Moves waiting input into the guest's receive buffers.
  result<bool> process_receive();
  /// Handles the guest's control messages and answers them.
  result<bool> process_control();
  /// Writes queued control messages into the guest's control buffers.
  result<bool> flush_control();
  void handle(const control& message);

  std::deque<std::uint8_t> pending_;
  std::optional<queue> rx_, control_rx_, control_tx_;
  bool connected_ = false;
  std::uint32_t wakeups_ = 0;
  std::deque<control> outgoing_;
};

/// The transmit queue and where the guest's output goes: the busy path,
/// with a worker of its own.
class transmit_server final : public queue_server {
 public:
  explicit transmit_server(output_fn output) : output_(std::move(output)) {}
  /// Passes the guest's output on.
  result<bool> serve(std::uint16_t index) override;

  std::optional<queue> tx;

 private:
  output_fn output_;
};

class device final : public device_model {
 public:
  static constexpr std::uint32_t id = 3;
  static constexpr std::uint16_t receive_queue = 0, transmit_queue = 1, control_receive_queue = 2,
                                 control_transmit_queue = 3;
  static constexpr std::size_t input_capacity = receive_server::input_capacity;

  device(const memory_view& memory, output_fn output);

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override {
    return virtio::feature::ring_event_idx | virtio::feature::ring_indirect_desc | feature::multiport;
  }
  std::uint16_t queue_count() const override { return 4; }
  /// cols, rows (unused without F_SIZE), max_nr_ports = 1, emerg_wr.
  std::span<const std::uint8_t> config_space() const override { return config_; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override;
  /// Worker 0 holds the receive_server, worker 1 the transmit_server.
  std::uint16_t worker_of(std::uint16_t index) const override { return index == transmit_queue ? 1 : 0; }
  std::vector<queue*> queues() override;
  /// Connected or not, input waiting for the guest, control messages not sent.
  std::vector<std::uint8_t> save_extra() const override;
  result<void> restore_extra(std::span<const std::uint8_t> bytes) override;

  /// Host input, while the receive server is home (tests; a running
  /// device's input goes through its worker).
  std::size_t receive(std::span<const std::uint8_t> bytes) { return home<receive_server>(0)->receive(bytes); }
  bool connected() const { return home<receive_server>(0)->connected(); }

 private:
  const memory_view& memory_;
  std::array<std::uint8_t, 12> config_{};
};

}  // namespace smvm::devices::virtio::console
