#include "devices/virtio/queue.hpp"

#include <atomic>
#include <cstring>

namespace smvm::devices::virtio {

namespace {

constexpr std::uint64_t desc_size = 16;

struct raw_descriptor {
  std::uint64_t address;
  std::uint32_t length;
  std::uint16_t flags;
  std::uint16_t next;
};
static_assert(sizeof(raw_descriptor) == desc_size);

std::uint64_t avail_ring_bytes(std::uint16_t size) { return 6 + 2ull * size; }
std::uint64_t used_ring_bytes(std::uint16_t size) { return 6 + 8ull * size; }

/// virtio's vring_need_event: has new_idx passed event since old?
bool need_event(std::uint16_t event, std::uint16_t new_idx, std::uint16_t old) {
  return static_cast<std::uint16_t>(new_idx - event - 1) < static_cast<std::uint16_t>(new_idx - old);
}

}  // namespace

std::size_t chain::readable_bytes() const {
  std::size_t n = 0;
  for (auto& b : buffers)
    if (!b.device_writable) n += b.bytes.size();
  return n;
}

std::size_t chain::writable_bytes() const {
  std::size_t n = 0;
  for (auto& b : buffers)
    if (b.device_writable) n += b.bytes.size();
  return n;
}

result<queue> queue::create(const memory_view& memory, queue_config c, bool event_idx) {
  if (c.size == 0 || c.size > max_queue_size || (c.size & (c.size - 1)) != 0)
    return make_error("queue size {} is not a power of two from 1 to {}", c.size, max_queue_size);
  if (c.desc_table % 16 || c.avail_ring % 2 || c.used_ring % 4)
    return make_error("virtqueue rings are misaligned (descriptors {:#x}, available {:#x}, used {:#x})",
                      c.desc_table, c.avail_ring, c.used_ring);
  if (!memory.slice(c.desc_table, desc_size * c.size) || !memory.slice(c.avail_ring, avail_ring_bytes(c.size)) ||
      !memory.slice(c.used_ring, used_ring_bytes(c.size)))
    return make_error("a virtqueue ring lies outside guest memory");
  return queue(memory, c, event_idx);
}

result<queue> queue::create_live(const memory_view& memory, const std::vector<queue_config>& queues,
                                 std::size_t index, bool event_idx, std::string_view what) {
  if (index >= queues.size() || queues[index].size == 0) return make_error("{}: the queue is not set up", what);
  auto q = create(memory, queues[index], event_idx);
  if (!q) return make_error("{}: {}", what, q.error().message);
  return q;
}

void queue::set_cursors(std::uint16_t next_avail, std::uint16_t next_used) {
  next_avail_ = next_avail;
  next_used_ = signalled_used_ = next_used;
}

result<std::uint16_t> queue::load16(std::uint64_t address) const {
  auto bytes = memory_->slice(address, 2);
  if (!bytes) return bytes.error();
  std::uint16_t v;
  std::memcpy(&v, bytes->data(), 2);
  return v;
}

result<void> queue::store16(std::uint64_t address, std::uint16_t value) const {
  auto bytes = memory_->slice(address, 2);
  if (!bytes) return bytes.error();
  std::memcpy(bytes->data(), &value, 2);
  return {};
}

result<std::uint16_t> queue::available_index() const {
  auto idx = load16(config_.avail_ring + 2);
  std::atomic_thread_fence(std::memory_order_acquire);
  return idx;
}

result<void> queue::notify_on_next_offer() {
  if (!event_idx_) return {};  // without it the driver notifies every offer
  auto idx = available_index();
  if (!idx) return idx.error();
  return store16(config_.used_ring + 4 + 8ull * config_.size, *idx);
}

result<std::optional<chain>> queue::pop() {
  auto avail_idx = load16(config_.avail_ring + 2);
  if (!avail_idx) return avail_idx.error();
  std::atomic_thread_fence(std::memory_order_acquire);  // ring entries after the index
  const std::uint16_t pending = static_cast<std::uint16_t>(*avail_idx - next_avail_);
  if (pending == 0) return std::optional<chain>{};
  if (pending > config_.size)
    return make_error("the available index moved by {} entries, more than the queue size {}", pending, config_.size);
  auto head = load16(config_.avail_ring + 4 + 2ull * (next_avail_ % config_.size));
  if (!head) return head.error();
  ++next_avail_;
  if (event_idx_)  // avail_event: ask to be notified about the next request
    if (auto r = store16(config_.used_ring + 4 + 8ull * config_.size, next_avail_); !r) return r.error();
  if (*head >= config_.size) return make_error("descriptor head {} is outside a queue of {}", *head, config_.size);
  chain c;
  c.head = *head;
  if (auto r = walk(config_.desc_table, config_.size, *head, false, c); !r) return r.error();
  return std::optional<chain>{std::move(c)};
}

result<void> queue::walk(std::uint64_t table, std::uint32_t table_size, std::uint16_t first, bool indirect,
                         chain& out) const {
  std::uint32_t index = first, visited = 0;
  bool seen_writable = false;
  for (;;) {
    if (index >= table_size)
      return make_error("descriptor {} is outside a table of {}", index, table_size);
    if (++visited > table_size) return make_error("the descriptor chain loops");
    auto bytes = memory_->slice(table + desc_size * index, desc_size);
    if (!bytes) return bytes.error();
    raw_descriptor d;  // one copy: the guest may change the table under us
    std::memcpy(&d, bytes->data(), sizeof d);

    if (d.flags & desc_flags::indirect) {
      if (indirect) return make_error("an indirect descriptor inside an indirect table");
      if (d.flags & desc_flags::next) return make_error("a descriptor with both INDIRECT and NEXT");
      if (d.length == 0 || d.length % desc_size)
        return make_error("an indirect table of {} bytes is not a whole number of descriptors", d.length);
      if (d.length / desc_size > max_indirect_descriptors)
        return make_error("an indirect table of {} descriptors is longer than {}", d.length / desc_size,
                          max_indirect_descriptors);
      if (!memory_->slice(d.address, d.length)) return make_error("an indirect table lies outside guest memory");
      if (seen_writable || !out.buffers.empty())
        return make_error("an indirect descriptor after direct ones");
      return walk(d.address, static_cast<std::uint32_t>(d.length / desc_size), 0, true, out);
    }

    const bool writable = d.flags & desc_flags::write;
    if (!writable && seen_writable) return make_error("a device-readable buffer after a device-writable one");
    seen_writable |= writable;
    auto data = memory_->slice(d.address, d.length);
    if (!data)
      return make_error("buffer [{:#x}, +{:#x}) of descriptor {} lies outside guest memory", d.address, d.length,
                        index);
    out.buffers.push_back({*data, writable});
    if (!(d.flags & desc_flags::next)) return {};
    index = d.next;
  }
}

result<void> queue::push_used(std::uint16_t head, std::uint32_t written) {
  if (head >= config_.size) return make_error("used head {} is outside a queue of {}", head, config_.size);
  auto slot = memory_->slice(config_.used_ring + 4 + 8ull * (next_used_ % config_.size), 8);
  if (!slot) return slot.error();
  const std::uint32_t element[2] = {head, written};
  std::memcpy(slot->data(), element, sizeof element);
  std::atomic_thread_fence(std::memory_order_release);  // the element before the index
  ++next_used_;
  return store16(config_.used_ring + 2, next_used_);
}

bool queue::should_interrupt() {
  std::atomic_thread_fence(std::memory_order_seq_cst);  // our used index before their event index
  if (event_idx_) {
    auto used_event = load16(config_.avail_ring + 4 + 2ull * config_.size);
    const std::uint16_t old = signalled_used_;
    signalled_used_ = next_used_;
    return !used_event || need_event(*used_event, next_used_, old);
  }
  auto flags = load16(config_.avail_ring);
  return !flags || !(*flags & avail_flag_no_interrupt);
}

}  // namespace smvm::devices::virtio
