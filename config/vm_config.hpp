#pragma once
// vm.toml: one microVM, as validated plain data.
//
//   [machine]  vcpus = 2, memory_mib = 256
//   [boot]     kernel = "...", initrd = "...", cmdline = "..."
//   [console]  device = "serial" | "virtio", input = "stdin" | "none",
//              output = "stdout" | "none" | "<file>"
//   [[disk]]   path = "rootfs.ext4", read_only = false   (virtio-blk, repeatable)
//   [rng]      (virtio-rng from the host's getrandom)
//              (the virtio device sections and their keys come from
//              devices/virtio/<kind>/kind.cpp: device_kinds())
//   [snapshot] path = "vm.snap", on_ready = "stop" | "continue"
//              (taken when the guest writes to the snapshot port, 0xf5)

#include "common/result.hpp"
#include "devices/virtio/device_kind.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace smvm::config {

/// Where a value came from, for messages like "vm.toml:3: ...".
struct source_position {
  std::string file;
  std::uint32_t line = 0;
};

struct machine_section {
  unsigned vcpus = 1;
  std::uint64_t memory_mib = 256;
};

struct boot_section {
  std::filesystem::path kernel;                 // the default kernel if vm.toml names none
  std::optional<std::filesystem::path> initrd;
  std::string cmdline;                          // appended to smvm's own arguments
  /// An initrd made in memory (smvm run's); used when `initrd` is unset.
  std::vector<std::uint8_t> initrd_data;
};

enum class console_input { stdin_stream, none };
enum class console_output { stdout_stream, none, file };

enum class console_device { serial, virtio };

struct console_section {
  console_device device = console_device::serial;  // the UART's ttyS0, or virtio-console's hvc0
  console_input input = console_input::stdin_stream;
  console_output output = console_output::stdout_stream;
  std::filesystem::path output_file;
  /// smvm run: virtio-console carries the workload channel
  /// (common/stream_protocol.h) to smvm's stdin, stdout and stderr, and the
  /// UART (ttyS0) the kernel's log to `output`. Not a vm.toml key.
  bool workload_streams = false;
};

/// One virtio device vm.toml asks for.
struct device_config {
  const devices::virtio::device_kind* kind = nullptr;
  /// "disk[0]" for a [[disk]], "rng" for [rng]: keys in messages and
  /// `positions` start with it.
  std::string name;
  devices::virtio::device_settings settings;

  /// "virtio-blk disk[0]", or "virtio-rng": what messages call the device.
  std::string label() const;
};

struct snapshot_section {
  std::filesystem::path path;  // the state file; guest memory goes to path.mem
  bool stop_after = true;      // on_ready = "stop": the VM ends once it is written
};

struct vm_config {
  machine_section machine;
  boot_section boot;
  console_section console;
  /// In the order of device_kinds(), then of vm.toml (disks are /dev/vda,
  /// /dev/vdb, ...): the order of their register windows.
  std::vector<device_config> devices;
  std::optional<snapshot_section> snapshot;
  /// "machine.vcpus", "disk[0].path" -> where it was set; absent keys take
  /// their default.
  std::map<std::string, source_position> positions;

  /// "vm.toml:3: " for a key that was set, "vm.toml: " otherwise: the prefix
  /// of an error about that key.
  std::string where(const std::string& key) const;
  std::string source_file;
};

inline constexpr unsigned min_memory_mib = 16;
/// The MP table's processor entries: 8-bit APIC IDs, with 0xff the
/// broadcast ID (hv/x86/mptable.hpp). `smvm run` has the same limit.
inline constexpr unsigned max_vcpus = 254;
/// virtio-mmio devices take ISA interrupt lines 5-15: eleven in all, shared
/// by disks, the rng and the console.
inline constexpr std::size_t max_virtio_devices = 11;
inline constexpr std::uint64_t max_memory_mib = std::uint64_t{1} << 20;  // 1 TiB

/// Adds a device of kind `kind` (a name from device_kinds()) after the
/// others of its kind, checking `settings` (a file setting must be an
/// absolute path). For a VM made in code (smvm run's) or from a snapshot's record.
result<void> add_device(vm_config& config, std::string_view kind, devices::virtio::device_settings settings);
/// The guest's console is virtio-console's hvc0 (the device added).
void use_virtio_console(vm_config& config);
/// How many devices of each kind: "2 disks, the rng".
std::string count_devices(const vm_config& config);

/// Reads and validates a vm.toml. Relative paths are relative to the file's
/// folder; a leading ~ is the home folder.
result<vm_config> load_vm_config(const std::filesystem::path& file);
/// The same from text; `name` is what errors call the file.
result<vm_config> parse_vm_config(std::string_view text, const std::string& name,
                                  const std::filesystem::path& base_dir);

/// The kernel smvm boots when vm.toml names none: $SMVM_CACHE/bzImage
/// (default ~/.cache/smvm/bzImage), which tools/build-kernel.sh links.
std::filesystem::path default_kernel_path();

/// The command line smvm puts before the user's: the console, reboot
/// through the i8042, and a panic that ends the VM instead of hanging it.
std::string base_cmdline(const vm_config& config);

}  // namespace smvm::config
