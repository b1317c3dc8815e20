// virtio-vsock's entry: [vsock] { cid, uds_path }, Firecracker's host side.
#include "devices/virtio/device_kind.hpp"
#include "devices/virtio/vsock/device.hpp"

#include <fmt/format.h>

#include <array>

namespace smvm::devices::virtio::vsock {

namespace {

constexpr std::array<setting_spec, 2> settings{{
  {"cid", setting_type::integer, "the guest's context ID, 3 or more"},
  {"uds_path", setting_type::socket, "the Unix socket host programs connect to"},
}};

/// 0-2 are the hypervisor, local and host addresses; 2^32 - 1 is "any".
constexpr std::int64_t first_guest_cid = 3, last_guest_cid = 0xfffffffe;

result<void> validate(const device_settings& s) {
  const std::int64_t cid = s.integer("cid", 0);
  if (cid < first_guest_cid || cid > last_guest_cid)
    return make_error("cid: must be {} to {}, got {}", first_guest_cid, last_guest_cid, cid);
  return {};
}

result<made_device> make(const device_context& context, const device_settings& s) {
  if (auto r = validate(s); !r) return r.error();  // a snapshot's record is checked again
  const std::int64_t cid = s.integer("cid", 0);
  auto made = device::open(context.memory, static_cast<std::uint64_t>(cid), s.text("uds_path"));
  if (!made) return make_error("uds_path: {}", made.error().message);
  return made_device{.model = std::move(*made)};
}

}  // namespace

extern const device_kind kind{
  .name = "virtio-vsock",
  .section = "vsock",
  .repeatable = false,
  .noun = "vsock device",
  .settings = settings,
  .blocking = false,  // every socket is non-blocking
  .make = make,
  .validate = validate,
};

}  // namespace smvm::devices::virtio::vsock
