#pragma once
// Why a vCPU came back from running the guest, in terms any hypervisor has
// (port I/O, MMIO, halt, shutdown, an error), so that nothing above hv/
// reads KVM's kvm_run. Like kvm-ioctls' VcpuExit, an exit that reads
// carries the bytes to fill: they live in the backend's exit record, and
// the next run() completes the guest's instruction with them.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace smvm::hv {

namespace exits {

/// IN or OUT, `count` times (a REP string instruction) of `size` bytes each:
/// `data` holds count * size bytes, the values written or the room to read into.
struct port_io {
  std::uint16_t port = 0;
  std::uint8_t size = 0;  // 1, 2 or 4
  bool write = false;
  std::uint32_t count = 1;
  std::span<std::uint8_t> data;
};

/// A load or store of `data.size()` bytes (1 to 8) at a guest-physical
/// address no memory slot covers.
struct mmio {
  std::uint64_t address = 0;
  bool write = false;
  std::span<std::uint8_t> data;
};

/// Cut short before or during the run: immediate_exit was set or the thread
/// got a signal. How a kick arrives.
struct interrupted {};
/// The guest halted with interrupts off, or the backend leaves HLT to us.
struct halt {};
/// A triple fault: an x86 machine resets.
struct shutdown {};
/// The guest asked the platform to reset or power off (PSCI, ACPI, ...).
struct system_event {
  std::uint32_t type = 0;
};
/// The hypervisor refused to enter the guest; `reason` is the hardware's code.
struct entry_failed {
  std::uint64_t reason = 0;
};
/// The hypervisor gave up on the guest (it could not emulate an instruction,
/// say); where the guest was, when the backend could tell.
struct internal_error {
  std::uint32_t suberror = 0;
  std::optional<std::uint64_t> rip;
};
/// The run call itself failed with this errno.
struct run_failed {
  int error = 0;
};
/// An exit this backend's record holds that smvm does not handle, or one
/// whose sizes and offsets break the backend's own rules.
struct unexpected {
  std::string what;
};

}  // namespace exits

using vcpu_exit = std::variant<exits::port_io, exits::mmio, exits::interrupted, exits::halt, exits::shutdown,
                               exits::system_event, exits::entry_failed, exits::internal_error, exits::run_failed,
                               exits::unexpected>;

/// One line naming the exit, for SMVM_TRACE_EXITS ("mmio read 0xd0000070 size 4").
std::string describe(const vcpu_exit& exit);

}  // namespace smvm::hv
