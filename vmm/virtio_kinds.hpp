#pragma once
// The kinds of virtio device smvm wires, one entry each, in the order their
// windows are laid out (disks first: the guest names them vda, vdb, ...).
// Wiring and a snapshot's device count iterate this table; a kind's entry
// (vmm/virtio_kinds/<kind>.cpp) says how many devices a vm.toml asks for
// and makes the i-th from its model in devices/virtio/.

#include "actors/console_sink.hpp"
#include "actors/guest_memory_view.hpp"
#include "actors/virtio_device_actor.hpp"
#include "common/result.hpp"
#include "config/vm_config.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace smvm::vmm {

/// What a kind may use to make a device.
struct virtio_kind_context {
  const config::vm_config& config;
  std::shared_ptr<const actors::guest_memory_view> memory;
  std::shared_ptr<actors::console_sink> console;  // where a virtio console writes
};

struct virtio_kind {
  std::string_view name;  // "virtio-blk"
  /// How many devices of this kind `config` asks for.
  std::size_t (*count)(const config::vm_config& config);
  /// The `index`-th device of this kind, its model made; errors name the
  /// vm.toml key they are about. The window, line and eventfds come after.
  result<actors::virtio_device_spec> (*make)(const virtio_kind_context& context, std::size_t index);
};

/// Every kind, in window order.
std::span<const virtio_kind> virtio_kinds();

/// How many virtio devices `config` asks for, of every kind.
std::size_t virtio_device_count(const config::vm_config& config);

/// `model`, which reads guest memory through `memory`, shared so that the
/// view lives as long as the model.
std::shared_ptr<devices::virtio::device_model> share_model(devices::virtio::device_model* model,
                                                            const std::shared_ptr<const actors::guest_memory_view>& memory);

// One per kind, each in vmm/virtio_kinds/.
extern const virtio_kind blk_kind;
extern const virtio_kind rng_kind;
extern const virtio_kind console_kind;

}  // namespace smvm::vmm
