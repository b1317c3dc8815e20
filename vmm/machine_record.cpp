#include "vmm/machine_record.hpp"

#include "hv/x86/vm_state.hpp"
#include "snapshot/memory_file.hpp"
#include "common/state_codec.hpp"
#include "vmm/virtio_kinds.hpp"

#include <filesystem>

namespace smvm::vmm {

machine_record record_machine(const config::vm_config& config) {
  machine_record r;
  r.vcpus = config.machine.vcpus;
  r.memory_mib = config.machine.memory_mib;
  r.console_device = static_cast<std::uint8_t>(config.console.device);
  r.rng = config.rng;
  for (const auto& d : config.disks)
    r.disks.push_back({std::filesystem::absolute(d.path).lexically_normal().string(), d.read_only});
  return r;
}

result<config::vm_config> config_of(const machine_record& record, const std::string& where) {
  // A snapshot file is input like any other: its values get vm.toml's checks.
  if (record.vcpus == 0 || record.vcpus > config::max_vcpus)
    return make_error("{}: section machine: {} vCPUs is outside 1-{}", where, record.vcpus, config::max_vcpus);
  if (record.memory_mib < config::min_memory_mib || record.memory_mib > config::max_memory_mib)
    return make_error("{}: section machine: memory of {} MiB is outside {}-{} MiB", where, record.memory_mib,
                      config::min_memory_mib, config::max_memory_mib);
  if (record.console_device > static_cast<std::uint8_t>(config::console_device::virtio))
    return make_error("{}: section machine: unknown console device {}", where, record.console_device);
  config::vm_config c;
  c.source_file = where;
  c.machine.vcpus = record.vcpus;
  c.machine.memory_mib = record.memory_mib;
  c.console.device = static_cast<config::console_device>(record.console_device);
  c.rng = record.rng;
  for (const auto& d : record.disks) c.disks.push_back({d.path, d.read_only});
  if (const std::size_t devices = virtio_device_count(c); devices > config::max_virtio_devices)
    return make_error("{}: section machine: {} virtio devices, at most {} fit", where, devices,
                      config::max_virtio_devices);
  return c;
}

result<std::vector<snapshot::section>> capture_vm(const machine_record& record, const hv::vm& vm,
                                                  const hv::guest_memory& memory, const std::string& state_path) {
  auto state = hv::x86::save_vm_state(vm);
  if (!state) return state.error();
  const std::string memory_path = snapshot::memory_file_of(state_path);
  // A restored VM's RAM is a private mapping: its current bytes are in the
  // mapping, not in the file behind it.
  const int shared_fd = memory.is_private() ? -1 : memory.fd();
  auto written = snapshot::write_memory_file(memory_path, {{memory.host_base(), memory.total_size()}, shared_fd});
  if (!written) return written.error();
  memory_layout layout{memory.total_size(), memory.regions()};
  return std::vector<snapshot::section>{{"machine", encode_state(record)},
                                        {"vm", encode_state(*state)},
                                        {"memory", encode_state(layout)}};
}

}  // namespace smvm::vmm
