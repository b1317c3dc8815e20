#pragma once
// A split virtqueue's rings in a fuzz target's guest RAM, filled the way a
// driver fills them: descriptors at `desc`, the available ring 1 KiB after,
// the used ring 2 KiB after.

#include "devices/virtio/queue.hpp"

#include <cstring>
#include <initializer_list>
#include <vector>

namespace smvm::fuzz {

struct piece {
  std::uint64_t address;
  std::uint32_t length;
  bool writable;
};

struct ring {
  std::vector<std::uint8_t>& ram;
  std::uint64_t desc;
  std::uint16_t size;
  std::uint16_t avail = 0;

  devices::virtio::queue_config config() const { return {size, desc, desc + 0x400, desc + 0x800}; }
  template <class T>
  void put(std::uint64_t address, T value) { std::memcpy(ram.data() + address, &value, sizeof value); }
  /// Offers a chain of descriptors from `first` on.
  void offer(std::uint16_t first, std::initializer_list<piece> pieces) {
    namespace desc_flags = devices::virtio::desc_flags;
    std::uint16_t i = first;
    for (auto p = pieces.begin(); p != pieces.end(); ++p, ++i) {
      const bool last = p + 1 == pieces.end();
      put<std::uint64_t>(desc + 16ull * (i % size), p->address);
      put<std::uint32_t>(desc + 16ull * (i % size) + 8, p->length);
      put<std::uint16_t>(desc + 16ull * (i % size) + 12, static_cast<std::uint16_t>((last ? 0 : desc_flags::next) |
                                                                                    (p->writable ? desc_flags::write : 0)));
      put<std::uint16_t>(desc + 16ull * (i % size) + 14, static_cast<std::uint16_t>((i + 1) % size));
    }
    put<std::uint16_t>(desc + 0x400 + 4 + 2ull * (avail % size), static_cast<std::uint16_t>(first % size));
    put<std::uint16_t>(desc + 0x400 + 2, ++avail);
  }
};

}  // namespace smvm::fuzz
