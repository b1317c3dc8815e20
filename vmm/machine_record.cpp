#include "vmm/machine_record.hpp"

#include "hv/x86/vm_state.hpp"
#include "snapshot/memory_file.hpp"
#include "common/state_codec.hpp"

#include <algorithm>
#include <filesystem>

namespace smvm::vmm {

namespace {

namespace virtio = devices::virtio;

setting_record record_setting(const std::string& key, const virtio::setting_value& value) {
  if (const bool* flag = std::get_if<bool>(&value)) return {key, 0, *flag ? 1 : 0, {}};
  if (const std::int64_t* number = std::get_if<std::int64_t>(&value)) return {key, 1, *number, {}};
  return {key, 2, 0, std::get<std::string>(value)};
}

result<virtio::setting_value> value_of(const setting_record& r, const std::string& where) {
  switch (r.type) {
    case 0:
      if (r.number != 0 && r.number != 1) break;
      return virtio::setting_value{r.number == 1};
    case 1: return virtio::setting_value{r.number};
    case 2: return virtio::setting_value{r.text};
  }
  return make_error("{}: the value of {} (type {}, {}) is none smvm writes", where, r.key, r.type, r.number);
}

}  // namespace

machine_record record_machine(const config::vm_config& config) {
  machine_record r;
  r.vcpus = config.machine.vcpus;
  r.memory_mib = config.machine.memory_mib;
  r.console_device = config.console.workload_streams ? console_streams : static_cast<std::uint8_t>(config.console.device);
  for (const auto& device : config.devices) {
    device_record d{std::string(device.kind->name), {}};
    for (const auto& [key, value] : device.settings.values()) d.settings.push_back(record_setting(key, value));
    r.devices.push_back(std::move(d));
  }
  return r;
}

result<config::vm_config> config_of(const machine_record& record, const std::string& where) {
  // A snapshot file is input like any other: its values get vm.toml's checks.
  if (record.vcpus == 0 || record.vcpus > config::max_vcpus)
    return make_error("{}: section machine: {} vCPUs is outside 1-{}", where, record.vcpus, config::max_vcpus);
  if (record.memory_mib < config::min_memory_mib || record.memory_mib > config::max_memory_mib)
    return make_error("{}: section machine: memory of {} MiB is outside {}-{} MiB", where, record.memory_mib,
                      config::min_memory_mib, config::max_memory_mib);
  if (record.console_device > console_streams)
    return make_error("{}: section machine: unknown console device {}", where, record.console_device);
  if (record.devices.size() > config::max_virtio_devices)
    return make_error("{}: section machine: {} virtio devices, at most {} fit", where, record.devices.size(),
                      config::max_virtio_devices);
  config::vm_config c;
  c.source_file = where;
  c.machine.vcpus = record.vcpus;
  c.machine.memory_mib = record.memory_mib;
  c.console.workload_streams = record.console_device == console_streams;
  c.console.device = c.console.workload_streams ? config::console_device::virtio
                                                : static_cast<config::console_device>(record.console_device);
  const std::string in = fmt::format("{}: section machine", where);
  for (const auto& d : record.devices) {
    std::map<std::string, virtio::setting_value> values;
    for (const auto& s : d.settings) {
      auto value = value_of(s, in);
      if (!value) return value.error();
      values[s.key] = std::move(*value);
    }
    if (auto r = config::add_device(c, d.kind, virtio::device_settings(std::move(values))); !r)
      return make_error("{}: {}", in, r.error().message);
  }
  // The record's window order must be the one smvm lays out, or the saved
  // device states would go to other devices.
  for (std::size_t i = 0; i < record.devices.size(); ++i)
    if (c.devices[i].kind->name != record.devices[i].kind)
      return make_error("{}: device {} ({}) is out of smvm's window order", in, i, record.devices[i].kind);
  const bool has_console = std::any_of(c.devices.begin(), c.devices.end(),
                                       [](auto& d) { return d.kind->name == "virtio-console"; });
  if (c.console.device == config::console_device::virtio && !has_console)
    return make_error("{}: the console is virtio-console, but there is no such device", in);
  return c;
}

std::optional<std::string> clone_conflict(const machine_record& record, const std::string& where) {
  auto config = config_of(record, where);
  if (!config) return config.error().message;
  for (const auto& device : config->devices)
    if (device.kind->clone_conflict)
      if (auto conflict = device.kind->clone_conflict(device.settings)) return conflict;
  return std::nullopt;
}

result<std::vector<snapshot::section>> capture_vm(const machine_record& record, const hv::vm& vm,
                                                  const hv::guest_memory& memory, const std::string& state_path) {
  auto state = vm.save();
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
