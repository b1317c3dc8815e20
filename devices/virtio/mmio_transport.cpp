#include "devices/virtio/mmio_transport.hpp"

#include <cstring>

namespace smvm::devices::virtio {

mmio_transport::mmio_transport(device_model& device, notify_fn on_notify, std::shared_ptr<virtio::interrupt> irq)
    : device_(device),
      on_notify_(std::move(on_notify)),
      irq_(std::move(irq)),
      offered_features_(device.device_features() | feature::version_1),
      queues_(device.queue_count()) {}

mmio_transport::queue_registers* mmio_transport::selected_queue() {
  return queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
}

std::uint64_t mmio_transport::read(std::uint64_t offset, unsigned size) {
  if (offset >= mmio_reg::config) {
    // Configuration space: any width, as long as it stays inside.
    auto space = device_.config_space();
    std::uint64_t at = offset - mmio_reg::config;
    if (at > space.size() || size > space.size() - at) return 0;
    std::uint64_t value = 0;
    std::memcpy(&value, space.data() + at, size);
    return value;
  }
  // Registers are 32 bits wide and read only as such.
  if (size != 4 || offset % 4) return 0;
  return read_register(offset);
}

void mmio_transport::write(std::uint64_t offset, unsigned size, std::uint64_t value) {
  if (offset >= mmio_reg::config) {
    auto space = device_.config_space();
    std::uint64_t at = offset - mmio_reg::config;
    if (at > space.size() || size > space.size() - at) return;
    std::uint8_t bytes[8];
    std::memcpy(bytes, &value, 8);
    device_.write_config(static_cast<std::uint32_t>(at), {bytes, size});
    return;
  }
  if (size != 4 || offset % 4) return;
  write_register(offset, static_cast<std::uint32_t>(value));
}

std::uint32_t mmio_transport::read_register(std::uint64_t offset) {
  auto* q = selected_queue();
  switch (offset) {
    case mmio_reg::magic: return mmio_magic;
    case mmio_reg::version: return 2;
    case mmio_reg::device_id: return device_.device_id();
    case mmio_reg::vendor_id: return smvm_vendor_id;
    case mmio_reg::device_features:
      return device_features_sel_ < 2 ? static_cast<std::uint32_t>(offered_features_ >> (32 * device_features_sel_)) : 0;
    case mmio_reg::queue_num_max: return q ? max_queue_size : 0;
    case mmio_reg::queue_ready: return q && q->ready;
    case mmio_reg::interrupt_status: return irq_->read();
    case mmio_reg::status: return status_;
    case mmio_reg::shm_len_low:
    case mmio_reg::shm_len_high: return 0xffffffff;  // no shared-memory regions: length ~0
    case mmio_reg::shm_base_low:
    case mmio_reg::shm_base_high: return 0xffffffff;
    case mmio_reg::config_generation: return config_generation_;
    default: return 0;
  }
}

void mmio_transport::write_register(std::uint64_t offset, std::uint32_t value) {
  auto* q = selected_queue();
  // Queue set-up is allowed only while the queue is not live.
  const bool queue_writable = q && !q->ready && !(status_ & status_bit::driver_ok);
  auto set_half = [&](std::uint64_t& field, bool high) {
    if (!queue_writable) return;
    field = high ? (field & 0xffffffffull) | (std::uint64_t{value} << 32) : (field & ~0xffffffffull) | value;
  };
  switch (offset) {
    case mmio_reg::device_features_sel: device_features_sel_ = value; break;
    case mmio_reg::driver_features_sel: driver_features_sel_ = value; break;
    case mmio_reg::driver_features:
      // Only between DRIVER and FEATURES_OK may the driver change its mind.
      if ((status_ & status_bit::driver) && !(status_ & status_bit::features_ok) && driver_features_sel_ < 2) {
        std::uint64_t shift = 32 * driver_features_sel_;
        driver_features_ = (driver_features_ & ~(0xffffffffull << shift)) | (std::uint64_t{value} << shift);
      }
      break;
    case mmio_reg::queue_sel: queue_sel_ = value; break;
    case mmio_reg::queue_num:
      if (queue_writable) q->config.size = static_cast<std::uint16_t>(value > max_queue_size ? 0 : value);
      break;
    case mmio_reg::queue_ready:
      if (q && !(status_ & status_bit::driver_ok)) q->ready = value & 1;
      break;
    case mmio_reg::queue_notify:
      if ((status_ & status_bit::driver_ok) && value < queues_.size() && on_notify_)
        on_notify_(static_cast<std::uint16_t>(value));
      break;
    case mmio_reg::interrupt_ack:
      irq_->acknowledge(value);
      break;
    case mmio_reg::status: write_status(value); break;
    case mmio_reg::queue_desc_low: if (q) set_half(q->config.desc_table, false); break;
    case mmio_reg::queue_desc_high: if (q) set_half(q->config.desc_table, true); break;
    case mmio_reg::queue_driver_low: if (q) set_half(q->config.avail_ring, false); break;
    case mmio_reg::queue_driver_high: if (q) set_half(q->config.avail_ring, true); break;
    case mmio_reg::queue_device_low: if (q) set_half(q->config.used_ring, false); break;
    case mmio_reg::queue_device_high: if (q) set_half(q->config.used_ring, true); break;
    default: break;  // read-only or unknown: ignored
  }
}

void mmio_transport::write_status(std::uint32_t value) {
  if (value == 0) return reset();
  // Bits are only ever added (clearing takes a reset to 0).
  if (status_ & ~value & ~status_bit::needs_reset) return;
  std::uint32_t added = value & ~status_;
  if ((added & status_bit::features_ok)) {
    bool subset = (driver_features_ & ~offered_features_) == 0;
    bool modern = driver_features_ & feature::version_1;
    if (!subset || !modern) added &= ~status_bit::features_ok;  // the driver reads it back and gives up
  }
  if ((added & status_bit::driver_ok) && !(status_ & status_bit::features_ok)) added &= ~status_bit::driver_ok;
  status_ |= added & ~status_bit::needs_reset;
  if (added & status_bit::driver_ok)
    if (auto r = device_.activate(driver_features_, live_queues()); !r) set_needs_reset();
}

void mmio_transport::reset() {
  device_.reset();
  driver_features_ = 0;
  device_features_sel_ = driver_features_sel_ = queue_sel_ = 0;
  status_ = 0;
  irq_->clear();
  for (auto& q : queues_) q = {};
}

std::vector<queue_config> mmio_transport::live_queues() const {
  std::vector<queue_config> live;
  for (auto& q : queues_) live.push_back(q.ready ? q.config : queue_config{});
  return live;
}

mmio_transport_state mmio_transport::save() const {
  mmio_transport_state s;
  s.driver_features = driver_features_;
  s.device_features_sel = device_features_sel_;
  s.driver_features_sel = driver_features_sel_;
  s.queue_sel = queue_sel_;
  s.status = status_;
  s.config_generation = config_generation_;
  s.interrupt_status = irq_->status();
  for (const auto& q : queues_)
    s.queues.push_back({q.config.desc_table, q.config.avail_ring, q.config.used_ring, q.config.size,
                        static_cast<std::uint8_t>(q.ready ? 1 : 0)});
  return s;
}

result<void> mmio_transport::restore(const mmio_transport_state& s) {
  if (s.queues.size() != queues_.size())
    return make_error("virtio device {}: {} queues saved, the device has {}", device_.device_id(), s.queues.size(),
                      queues_.size());
  if (s.driver_features & ~offered_features_)
    return make_error("virtio device {}: features {:#x} saved, the device offers {:#x}", device_.device_id(),
                      s.driver_features, offered_features_);
  for (std::size_t i = 0; i < s.queues.size(); ++i) {
    const auto size = s.queues[i].size;
    if (size > max_queue_size || (size & (size - 1)) != 0 || s.queues[i].ready > 1)
      return make_error("virtio device {}: queue {} has size {} and ready {}", device_.device_id(), i, size,
                        s.queues[i].ready);
  }
  driver_features_ = s.driver_features;
  device_features_sel_ = s.device_features_sel;
  driver_features_sel_ = s.driver_features_sel;
  queue_sel_ = s.queue_sel;
  status_ = s.status;
  config_generation_ = s.config_generation;
  irq_->restore(s.interrupt_status);
  for (std::size_t i = 0; i < s.queues.size(); ++i) {
    const auto& q = s.queues[i];
    queues_[i] = {{q.size, q.desc_table, q.avail_ring, q.used_ring}, q.ready == 1};
  }
  return {};
}

void mmio_transport::signal_used_buffers() { irq_->raise(interrupt_bit::used_buffer); }

void mmio_transport::signal_config_change() {
  ++config_generation_;
  irq_->raise(interrupt_bit::config_change);
}

void mmio_transport::set_needs_reset() {
  status_ |= status_bit::needs_reset;
  if (status_ & status_bit::driver_ok) signal_config_change();
}

}  // namespace smvm::devices::virtio
