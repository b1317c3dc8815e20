// virtio-blk: one device per [[disk]], in vm.toml order (vda, vdb, ...).
#include "devices/virtio/block.hpp"
#include "vmm/virtio_kinds.hpp"

#include <fmt/format.h>

namespace smvm::vmm {

namespace {

std::size_t count(const config::vm_config& config) { return config.disks.size(); }

result<actors::virtio_device_spec> make(const virtio_kind_context& c, std::size_t index) {
  const auto& disk = c.config.disks.at(index);
  const std::string key = fmt::format("disk[{}].path", index);
  auto model = devices::virtio::block::open(*c.memory, disk.path.string(), disk.read_only);
  if (!model) return make_error("{}{}: {}", c.config.where(key), key, model.error().message);
  actors::virtio_device_spec spec;
  spec.name = fmt::format("virtio-blk disk[{}]", index);
  spec.model = share_model(model->release(), c.memory);
  spec.blocking = true;  // disk I/O blocks: its workers get threads of their own
  return spec;
}

}  // namespace

const virtio_kind blk_kind{"virtio-blk", count, make};

}  // namespace smvm::vmm
