// restore_machine: the VM of a snapshot file, built again from its
// "machine" section, its RAM the memory file mapped MAP_PRIVATE, and every
// part put back in its saved state before any actor runs.

#include "vmm/machine_builder.hpp"

#include "hv/x86/e820.hpp"
#include "hv/x86/vcpu_state.hpp"
#include "hv/x86/vm_state.hpp"
#include "common/state_codec.hpp"
#include "snapshot/memory_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace smvm::vmm {

namespace {

template <class State>
result<State> decode_section(const snapshot::snapshot_contents& contents, const std::string& name) {
  auto section = contents.require(name);
  if (!section) return section.error();
  return decode_state<State>((*section)->bytes, fmt::format("{}: section {}", contents.where, name));
}

/// Maps the memory file beside the state file, after checking the layout is
/// the one smvm gives a VM of that size.
result<hv::guest_memory> map_memory_file(const std::filesystem::path& snapshot_path, const std::string& where,
                                         const memory_layout& layout, std::uint64_t memory_mib) {
  const auto expected = hv::x86::ram_regions(memory_mib << 20);
  const bool same = layout.size == (memory_mib << 20) && layout.regions.size() == expected.size() &&
                    std::equal(expected.begin(), expected.end(), layout.regions.begin(), [](auto& a, auto& b) {
                      return a.guest_address == b.guest_address && a.size == b.size && a.file_offset == b.file_offset;
                    });
  if (!same)
    return make_error("{}: section memory: the layout is not that of a {} MiB guest", where, memory_mib);
  const std::filesystem::path path = snapshot::memory_file_of(snapshot_path.string());
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error("{}: memory file {}: {}", where, path.string(), std::strerror(errno));
  struct stat st{};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || static_cast<std::uint64_t>(st.st_size) != layout.size)
    return make_error("{}: memory file {} is not a regular file of {} bytes (truncated, or from another snapshot?)",
                      where, path.string(), layout.size);
  auto memory = hv::guest_memory::map_private(std::move(fd), layout.regions);
  if (!memory) return make_error("{}: memory file {}: {}", where, path.string(), memory.error().message);
  return memory;
}

}  // namespace

result<built_machine> restore_machine(const std::filesystem::path& snapshot_path, const restore_options& options) {
  auto contents = snapshot::read_snapshot_file(snapshot_path);
  if (!contents) return contents.error();
  const std::string& where = contents->where;

  // Every section is decoded and checked before KVM is touched.
  auto record = decode_section<machine_record>(*contents, "machine");
  if (!record) return record.error();
  auto config = config_of(*record, where);
  if (!config) return config.error();
  if (config->console.workload_streams) {  // smvm run's VM: its streams are the workload's, in and out
    config->console.input = config::console_input::none;
    config->console.output = config::console_output::none;
  } else {
    config->console.input = options.console.input;
    config->console.output = options.console.output;
    config->console.output_file = options.console.output_file;
  }
  if (!options.socket_folder.empty())
    for (auto& device : config->devices)
      for (const auto& spec : device.kind->settings)
        if (spec.type == devices::virtio::setting_type::socket) {
          const std::string key(spec.key);
          const std::filesystem::path was = device.settings.text(key);
          if (was.empty()) continue;
          auto values = device.settings.values();
          values[key] = (options.socket_folder / was.filename()).string();
          device.settings = devices::virtio::device_settings(std::move(values));
        }
  if (options.clone_index > 0)
    for (auto& device : config->devices)
      if (device.kind->for_clone) {
        auto values = device.settings.values();
        device.kind->for_clone(values, options.clone_index);
        device.settings = devices::virtio::device_settings(std::move(values));
      }
  auto layout = decode_section<memory_layout>(*contents, "memory");
  if (!layout) return layout.error();
  auto vm_state = decode_section<hv::x86::vm_state>(*contents, "vm");
  if (!vm_state) return vm_state.error();
  std::vector<hv::x86::vcpu_state> vcpu_states;
  for (unsigned id = 0; id < record->vcpus; ++id) {
    auto state = decode_section<hv::x86::vcpu_state>(*contents, fmt::format("vcpu.{}", id));
    if (!state) return state.error();
    vcpu_states.push_back(std::move(*state));
  }

  auto machine = build_base(*config, [&] { return map_memory_file(snapshot_path, where, *layout, record->memory_mib); });
  if (!machine) return machine.error();
  for (auto& spec : machine->parts.virtio.devices) {
    auto state = decode_section<devices::virtio::virtio_device_state>(*contents, spec.section);
    if (!state) return state.error();
    spec.restored = std::move(*state);
  }
  for (const char* name : {"serial", "i8042"}) {
    auto section = contents->require(name);
    if (!section) return section.error();
    machine->parts.device_states[name] = (*section)->bytes;
  }

  // The irqchips first: a vCPU's LAPIC state goes into the in-kernel
  // irqchip the VM already holds.
  if (auto r = machine->parts.vm->restore(*vm_state); !r)
    return make_error("{}: section vm: {}", where, r.error().message);
  auto added = add_vcpus(*machine, record->vcpus, [&](unsigned id, hv::vcpu& cpu) -> result<void> {
    if (auto r = cpu.restore(vcpu_states[id]); !r)
      return make_error("{}: section vcpu.{}: {}", where, id, r.error().message);
    return {};
  });
  if (!added) return added.error();
  machine->console = config->console;
  return machine;
}

}  // namespace smvm::vmm
