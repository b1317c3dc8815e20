// virtio-blk's entry: one device per [[disk]] { path, read_only }, in
// vm.toml order (vda, vdb, ...).
#include "devices/virtio/blk/device.hpp"
#include "devices/virtio/device_kind.hpp"

#include <fmt/format.h>

#include <array>

namespace smvm::devices::virtio::blk {

namespace {

constexpr std::array<setting_spec, 2> settings{{
  {"path", setting_type::file, "the raw disk image to attach"},
  {"read_only", setting_type::flag, ""},
}};

result<made_device> make(const device_context& context, const device_settings& s) {
  auto disk = device::open(context.memory, s.text("path"), s.flag("read_only"));
  if (!disk) return make_error("path: {}", disk.error().message);
  return made_device{.model = std::move(*disk)};
}

std::optional<std::string> clone_conflict(const device_settings& s) {
  if (s.flag("read_only")) return std::nullopt;
  return fmt::format("the disk {} is writable, and clones would write over each other's blocks; snapshot a VM "
                     "whose disks are read_only to clone it", s.text("path"));
}

}  // namespace

extern const device_kind kind{
  .name = "virtio-blk",
  .section = "disk",
  .repeatable = true,
  .noun = "disk",
  .settings = settings,
  .blocking = true,  // disk I/O
  .make = make,
  .clone_conflict = clone_conflict,
};

}  // namespace smvm::devices::virtio::blk
