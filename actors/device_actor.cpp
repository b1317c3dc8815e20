#include "actors/device_actor.hpp"

namespace smvm::actors {

namespace {

struct device_state {
  device_spec spec;
  static inline const char* name = "device";
};

device_actor::behavior_type device_behavior(device_actor::stateful_pointer<device_state> self, device_spec spec) {
  self->state.spec = std::move(spec);
  auto access = [self](std::uint64_t address, unsigned size, bool is_write, std::uint64_t data) -> std::uint64_t {
    auto& s = self->state.spec;
    std::uint64_t offset = address - s.base;
    if (is_write) {
      s.device->write(offset, size, data);
      return 0;
    }
    return s.device->read(offset, size);
  };
  return {
    [access](const pio_exit& x) { return access(x.port, x.size, x.is_write, x.data); },
    [access](const mmio_exit& x) { return access(x.address, x.size, x.is_write, x.data); },
    [self](const console_input& x) {
      if (self->state.spec.input) self->state.spec.input(x.bytes);
    },
    [](const queue_failed&) { /* no queues here */ },
    [](const queue_notify&) {},
    [](queue_lease&) {},
    [](sync_atom) { return true; },
    // Register accesses come from vCPUs only, so with every vCPU frozen
    // nothing changes this device until thaw: its state can be taken now.
    [self](freeze_atom) {
      auto& s = self->state.spec;
      return saved_section{s.section, s.save ? s.save() : std::vector<std::uint8_t>{}};
    },
    [](thaw_atom) {},
  };
}

}  // namespace

device_actor spawn_device(caf::actor_system& system, device_spec spec) {
  if (spec.blocking) return system.spawn<caf::detached>(device_behavior, std::move(spec));
  return system.spawn(device_behavior, std::move(spec));
}

}  // namespace smvm::actors
