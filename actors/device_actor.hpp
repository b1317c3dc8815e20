#pragma once
// The device actor: a thin adapter that turns register accesses arriving as
// messages into calls on one device model.

#include "actors/messages.hpp"
#include "devices/io_device.hpp"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace smvm::actors {

struct device_spec {
  std::unique_ptr<devices::io_device> device;
  std::uint64_t base = 0;  // where its window starts: accesses arrive as absolute addresses
  /// Where console_input goes (the UART's receive path); empty for others.
  std::function<void(std::span<const std::uint8_t>)> input;
  /// Its snapshot section: the name (empty for a device without state), and
  /// the device's state as bytes.
  std::string section;
  std::function<std::vector<std::uint8_t>()> save;
  /// The device's writes may block (the UART's output waits on smvm's
  /// stdout, which a slow reader holds up): a thread of its own, not one of
  /// the scheduler's.
  bool blocking = false;
};

/// Spawns the actor that owns `spec.device`.
device_actor spawn_device(caf::actor_system& system, device_spec spec);

}  // namespace smvm::actors
