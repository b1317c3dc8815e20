#pragma once
// The virtio-mmio transport, version 2 (virtio 1.2, section 4.2.2): the
// register window a driver programs, in front of one device model.

#include "devices/io_device.hpp"
#include "devices/virtio/device_model.hpp"
#include "devices/virtio/interrupt.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace smvm::devices::virtio {

namespace status_bit {
inline constexpr std::uint32_t acknowledge = 1, driver = 2, driver_ok = 4, features_ok = 8,
                               needs_reset = 64, failed = 128;
}
namespace mmio_reg {
inline constexpr std::uint64_t magic = 0x000, version = 0x004, device_id = 0x008, vendor_id = 0x00c,
                               device_features = 0x010, device_features_sel = 0x014, driver_features = 0x020,
                               driver_features_sel = 0x024, queue_sel = 0x030, queue_num_max = 0x034,
                               queue_num = 0x038, queue_ready = 0x044, queue_notify = 0x050,
                               interrupt_status = 0x060, interrupt_ack = 0x064, status = 0x070,
                               queue_desc_low = 0x080, queue_desc_high = 0x084, queue_driver_low = 0x090,
                               queue_driver_high = 0x094, queue_device_low = 0x0a0, queue_device_high = 0x0a4,
                               shm_sel = 0x0ac, shm_len_low = 0x0b0, shm_len_high = 0x0b4, shm_base_low = 0x0b8,
                               shm_base_high = 0x0bc, config_generation = 0x0fc, config = 0x100;
}
inline constexpr std::uint32_t mmio_magic = 0x74726976;  // "virt"
inline constexpr std::uint32_t smvm_vendor_id = 0x4d564d53;  // "SMVM"

/// One queue's registers as the driver programmed them; explicit padding so
/// the snapshot holds no uninitialised bytes.
struct mmio_queue_registers {
  std::uint64_t desc_table = 0, avail_ring = 0, used_ring = 0;
  std::uint16_t size = 0;
  std::uint8_t ready = 0;
  std::uint8_t padding[5] = {};
};
static_assert(sizeof(mmio_queue_registers) == 32);

/// What a snapshot keeps of the transport. Queue cursors belong to the
/// device's own state: the transport only knows what the driver wrote.
struct mmio_transport_state {
  std::uint64_t driver_features = 0;
  std::uint32_t device_features_sel = 0, driver_features_sel = 0, queue_sel = 0, status = 0;
  std::uint32_t config_generation = 0, interrupt_status = 0;
  std::vector<mmio_queue_registers> queues;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("driver_features", s.driver_features) && v.value("device_features_sel", s.device_features_sel) &&
           v.value("driver_features_sel", s.driver_features_sel) && v.value("queue_sel", s.queue_sel) &&
           v.value("status", s.status) && v.value("config_generation", s.config_generation) &&
           v.value("interrupt_status", s.interrupt_status) && v.list("queues", s.queues);
  }
};

class mmio_transport final : public io_device {
 public:
  static constexpr std::uint64_t window_size = 0x1000;
  using notify_fn = std::function<void(std::uint16_t queue)>;
  mmio_transport(device_model& device, notify_fn on_notify, std::shared_ptr<virtio::interrupt> irq);

  std::uint64_t read(std::uint64_t offset, unsigned size) override;
  void write(std::uint64_t offset, unsigned size, std::uint64_t value) override;

  /// The device used buffers: raise the used-buffer interrupt. Queue
  /// workers raise it through interrupt() directly, from their threads.
  void signal_used_buffers();
  /// The device's configuration changed (or it needs a reset).
  void signal_config_change();
  /// The device failed in a way only a reset cures (a malformed queue).
  void set_needs_reset();

  std::uint32_t status() const { return status_; }
  std::uint64_t negotiated_features() const { return driver_features_; }
  bool active() const { return status_ & status_bit::driver_ok; }
  const std::shared_ptr<virtio::interrupt>& interrupt() const { return irq_; }

  mmio_transport_state save() const;
  /// Takes saved registers without activating the device (its own state
  /// brings its queues back). Refuses a state that this device could not
  /// have reached: another queue count, a queue size it does not offer,
  /// features it does not offer.
  result<void> restore(const mmio_transport_state& state);
  /// The queues the driver made ready, as activate() takes them.
  std::vector<queue_config> live_queues() const;

 private:
  struct queue_registers {
    queue_config config;
    bool ready = false;
  };
  std::uint32_t read_register(std::uint64_t offset);
  void write_register(std::uint64_t offset, std::uint32_t value);
  void write_status(std::uint32_t value);
  void reset();
  queue_registers* selected_queue();

  device_model& device_;
  notify_fn on_notify_;
  std::shared_ptr<virtio::interrupt> irq_;
  std::uint64_t offered_features_;
  std::uint64_t driver_features_ = 0;
  std::uint32_t device_features_sel_ = 0, driver_features_sel_ = 0;
  std::uint32_t queue_sel_ = 0;
  std::uint32_t status_ = 0;
  std::uint32_t config_generation_ = 0;
  std::vector<queue_registers> queues_;
};

}  // namespace smvm::devices::virtio
