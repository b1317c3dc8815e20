#include "vmm/machine_builder.hpp"

#include "hv/x86/boot_loader.hpp"
#include "hv/x86/bzimage.hpp"
#include "hv/x86/e820.hpp"
#include "hv/x86/mptable.hpp"
#include "hv/x86/vcpu_setup.hpp"
#include "hv/x86/vcpu_state.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace smvm::vmm {

namespace {

/// The whole file in one sized read: kernels and initrds are megabytes, and
/// this is on the boot path.
result<std::vector<std::uint8_t>> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return make_error("cannot read {}: {}", path.string(), std::strerror(errno));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size())))
    return make_error("cannot read {}: {}", path.string(), std::strerror(errno));
  return bytes;
}

}  // namespace

result<built_machine> build_base(const config::vm_config& config,
                                 const std::function<result<hv::guest_memory>()>& make_memory) {
  auto kvm = hv::kvm::open();
  if (!kvm) return kvm.error();
  built_machine machine;
  machine.record = record_machine(config);
  auto& parts = machine.parts;
  parts.kvm = std::make_shared<hv::kvm>(std::move(*kvm));
  static_assert(config::max_vcpus <= hv::x86::mptable_max_cpus, "vm.toml allows more vCPUs than the MP table holds");
  const unsigned max_vcpus = std::min(parts.kvm->max_vcpus(), hv::x86::mptable_max_cpus);
  if (config.machine.vcpus > max_vcpus)
    return make_error("{}machine.vcpus = {} is more than KVM allows here ({})", config.where("machine.vcpus"),
                      config.machine.vcpus, max_vcpus);

  auto vm = hv::vm::create(*parts.kvm);
  if (!vm) return vm.error();
  parts.vm = std::make_shared<hv::vm>(std::move(*vm));

  auto memory = make_memory();
  if (!memory) return memory.error();
  parts.memory = std::make_shared<hv::guest_memory>(std::move(*memory));
  if (auto r = parts.vm->map_memory(*parts.memory); !r) return r.error();

  auto console = actors::console_sink::open(config.console);
  if (!console) return make_error("{}console.output: {}", config.where("console.output"), console.error().message);
  parts.console = std::move(*console);
  auto view = std::make_shared<const actors::guest_memory_view>(parts.memory);
  if (config.console.workload_streams) parts.channel = actors::console_sink::workload_streams();
  auto virtio_console = parts.channel ? parts.channel : parts.console;
  auto virtio = wire_virtio_devices(config, *parts.vm, view, virtio_console);
  if (!virtio) return virtio.error();
  parts.virtio = std::move(*virtio);
  parts.capture = [record = machine.record, vm = parts.vm, memory = parts.memory](const std::string& path) {
    return capture_vm(record, *vm, *memory, path);
  };

  auto msrs = hv::x86::saveable_msrs(*parts.kvm);
  if (!msrs) return msrs.error();
  machine.saved_msrs = std::make_shared<const std::vector<std::uint32_t>>(std::move(*msrs));
  return machine;
}

result<void> add_vcpus(built_machine& machine, unsigned count,
                       const std::function<result<void>(unsigned id, hv::vcpu& cpu)>& prepare) {
  auto& parts = machine.parts;
  for (unsigned id = 0; id < count; ++id) {
    auto cpu = hv::vcpu::create(*parts.kvm, *parts.vm, id);
    if (!cpu) return cpu.error();
    auto shared = std::make_shared<hv::vcpu>(std::move(*cpu));
    if (auto r = hv::x86::setup_vcpu(*parts.kvm, *shared, count); !r)
      return make_error("vCPU {}: {}", id, r.error().message);
    if (auto r = prepare(id, *shared); !r) return make_error("vCPU {}: {}", id, r.error().message);
    shared->save_msrs_from(machine.saved_msrs);
    parts.vcpus.push_back(std::move(shared));
  }
  return {};
}

result<built_machine> build_machine(const config::vm_config& config) {
  const auto& kernel_path = config.boot.kernel;
  auto kernel = read_file(kernel_path);
  if (!kernel) return make_error("{}boot.kernel: {}", config.where("boot.kernel"), kernel.error().message);
  auto header = hv::x86::parse_bzimage(*kernel);
  if (!header)
    return make_error("{}boot.kernel: {}: {}", config.where("boot.kernel"), kernel_path.string(),
                      header.error().message);
  std::vector<std::uint8_t> initrd;
  if (config.boot.initrd) {
    auto bytes = read_file(*config.boot.initrd);
    if (!bytes) return make_error("{}boot.initrd: {}", config.where("boot.initrd"), bytes.error().message);
    initrd = std::move(*bytes);
  } else {
    initrd = config.boot.initrd_data;
  }

  const std::uint64_t memory_bytes = config.machine.memory_mib << 20;
  auto machine = build_base(config, [&]() -> result<hv::guest_memory> {
    auto memory = hv::guest_memory::create(hv::x86::ram_regions(memory_bytes));
    if (!memory) return make_error("{}machine.memory_mib: {}", config.where("machine.memory_mib"), memory.error().message);
    return memory;
  });
  if (!machine) return machine.error();

  hv::x86::linux_boot boot;
  boot.kernel = *kernel;
  boot.header = &*header;
  boot.initrd = initrd;
  const std::string own_cmdline = config::base_cmdline(config) + machine->parts.virtio.cmdline;
  boot.cmdline = own_cmdline;
  if (!config.boot.cmdline.empty()) boot.cmdline += " " + config.boot.cmdline;
  boot.cpus = config.machine.vcpus;
  if (boot.cmdline.size() > header->cmdline_size)
    return make_error("{}boot.cmdline: the kernel command line is {} bytes with smvm's own \"{}\", this kernel "
                      "takes at most {}", config.where("boot.cmdline"), boot.cmdline.size(), own_cmdline,
                      header->cmdline_size);
  // With the command line checked, what can still fail is room in memory.
  auto entry = hv::x86::load_linux(*machine->parts.memory, memory_bytes, boot);
  if (!entry) return make_error("{}machine.memory_mib: {}", config.where("machine.memory_mib"), entry.error().message);

  auto added = add_vcpus(*machine, config.machine.vcpus, [&](unsigned id, hv::vcpu& cpu) -> result<void> {
    return id == 0 ? hv::x86::setup_boot_processor(cpu, *entry) : result<void>{};
  });
  if (!added) return added.error();
  machine->console = config.console;
  return machine;
}

}  // namespace smvm::vmm
