#include "devices/virtio/device_kind.hpp"

namespace smvm::devices::virtio {

// The kinds, in window order: a new kind is its folder and its name here.
#define SMVM_VIRTIO_KINDS(X) X(blk) X(rng) X(console) X(vsock) X(net)

#define SMVM_DECLARE_KIND(folder) namespace folder { extern const device_kind kind; }
SMVM_VIRTIO_KINDS(SMVM_DECLARE_KIND)
#undef SMVM_DECLARE_KIND

std::span<const device_kind* const> device_kinds() {
#define SMVM_KIND_ENTRY(folder) &folder::kind,
  static const device_kind* const kinds[] = {SMVM_VIRTIO_KINDS(SMVM_KIND_ENTRY)};
#undef SMVM_KIND_ENTRY
  return kinds;
}

const device_kind* find_device_kind(std::string_view name) {
  for (const device_kind* kind : device_kinds())
    if (kind->name == name) return kind;
  return nullptr;
}

}  // namespace smvm::devices::virtio
