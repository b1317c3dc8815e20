#pragma once
// virtio-console (virtio 1.2, section 5.3), one port: the guest's hvc0.
// Queue 0 (receiveq) takes host input into device-writable buffers; queue 1
// (transmitq) carries the guest's output in device-readable buffers.

#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"

#include <array>
#include <deque>
#include <functional>
#include <optional>

namespace smvm::devices::virtio {

class console final : public device_model {
 public:
  static constexpr std::uint32_t id = 3;
  static constexpr std::uint16_t receive_queue = 0, transmit_queue = 1;
  /// Host input waiting beyond this is refused (receive() says how much fit).
  static constexpr std::size_t input_capacity = 64 * 1024;
  using output_fn = std::function<void(std::span<const std::uint8_t>)>;

  console(const memory_view& memory, output_fn output) : memory_(memory), output_(std::move(output)) {}

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override { return feature::ring_event_idx | feature::ring_indirect_desc; }
  std::uint16_t queue_count() const override { return 2; }
  /// cols, rows, max_nr_ports, emerg_wr: unused without F_SIZE/F_MULTIPORT.
  std::span<const std::uint8_t> config_space() const override { return config_; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override;

  /// Queues host input for the guest; returns how many bytes fit. Input
  /// waits until the guest offers receive buffers, so none is lost.
  std::size_t receive(std::span<const std::uint8_t> bytes);
  /// Moves waiting input into the guest's receive buffers.
  result<bool> process_receive();
  /// Passes the guest's output on.
  result<bool> process_transmit();

 private:
  const memory_view& memory_;
  output_fn output_;
  std::array<std::uint8_t, 12> config_{};
  std::deque<std::uint8_t> pending_;
  std::optional<queue> rx_, tx_;
};

}  // namespace smvm::devices::virtio
