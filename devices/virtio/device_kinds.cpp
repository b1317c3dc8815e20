#include "devices/virtio/device_kind.hpp"

#include <array>

namespace smvm::devices::virtio {

// A new kind: its folder, and a line in each of these two lists.
namespace blk { extern const device_kind kind; }
namespace rng { extern const device_kind kind; }
namespace console { extern const device_kind kind; }

std::span<const device_kind* const> device_kinds() {
  static const std::array<const device_kind*, 3> kinds{&blk::kind, &rng::kind, &console::kind};
  return kinds;
}

const device_kind* find_device_kind(std::string_view name) {
  for (const device_kind* kind : device_kinds())
    if (kind->name == name) return kind;
  return nullptr;
}

}  // namespace smvm::devices::virtio
