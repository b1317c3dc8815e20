#pragma once
// What only the machine can capture for a snapshot, with every vCPU and
// device frozen: how the VM was built ("machine": what a restore needs to
// build the same VM again), the VM's KVM state ("vm"), and guest memory,
// written to its own file beside the state file ("memory": the file's name,
// size and layout).

#include "common/result.hpp"
#include "config/vm_config.hpp"
#include "hv/guest_memory.hpp"
#include "hv/vm.hpp"
#include "snapshot/snapshot_file.hpp"

#include <optional>
#include <string>
#include <vector>

namespace smvm::vmm {

/// One setting of a device: its key, then its value by type.
struct setting_record {
  std::string key;
  std::uint8_t type = 0;  // 0 flag, 1 integer, 2 text (files too: absolute)
  std::int64_t number = 0;  // a flag's 0 or 1, or the integer
  std::string text;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.text("key", s.key) && v.value("type", s.type) && v.value("number", s.number) && v.text("text", s.text);
  }
};

/// One virtio device: its kind's name and its settings, as vm.toml gave
/// them; in window order, as config::vm_config::devices.
struct device_record {
  std::string kind;  // "virtio-blk"
  std::vector<setting_record> settings;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.text("kind", s.kind) && v.records("settings", s.settings);
  }
};

/// The "machine" section: the parts of vm.toml that decide what the guest
/// sees (vCPUs, RAM, devices and their windows). The kernel, initrd and
/// command line are in guest memory already.
struct machine_record {
  std::uint32_t vcpus = 1;
  std::uint64_t memory_mib = 0;
  // config::console_device, or console_streams: virtio-console carrying
  // smvm run's workload streams (common/stream_protocol.h).
  std::uint8_t console_device = 0;
  std::vector<device_record> devices;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("vcpus", s.vcpus) && v.value("memory_mib", s.memory_mib) &&
           v.value("console_device", s.console_device) && v.records("devices", s.devices);
  }
};

inline constexpr std::uint8_t console_streams = 2;

/// The record of a VM built from `config`.
machine_record record_machine(const config::vm_config& config);
/// A vm.toml equivalent of the record, to build the same VM again; errors
/// name the snapshot file `where` and the value that cannot be.
result<config::vm_config> config_of(const machine_record& record, const std::string& where);

/// Why clones of the VM `record` describes cannot run side by side (a
/// writable disk, say), or nothing.
std::optional<std::string> clone_conflict(const machine_record& record, const std::string& where);

/// The "memory" section: how the guest's RAM is laid out in the memory file.
struct memory_layout {
  std::uint64_t size = 0;
  std::vector<hv::memory_region> regions;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("size", s.size) && v.list("regions", s.regions);
  }
};

/// Captures the VM's sections; writes guest memory to memory_file_of(path).
result<std::vector<snapshot::section>> capture_vm(const machine_record& record, const hv::vm& vm,
                                                  const hv::guest_memory& memory, const std::string& state_path);

}  // namespace smvm::vmm
