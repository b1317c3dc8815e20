// The library's front door (include/smvm/smvm.hpp): run, pull, images, rmi.

#include "run/run_vm.hpp"
#include "image/manifest.hpp"
#include "image/rootfs.hpp"
#include "include/smvm/smvm.hpp"
#include "network/port_forward.hpp"
#include "run/image_resolver.hpp"
#include "run/initramfs.hpp"
#include "run/vm_state.hpp"
#include "run/workload.hpp"

#include <fmt/format.h>

namespace smvm {

namespace {

/// An image in the store with its root disk built: what a VM boots.
struct ready_image {
  image::image_record record;
  image::image_config config;
  std::filesystem::path rootfs;
};

result<ready_image> prepare(image::store& images, const std::string& reference, const image::progress_fn& progress,
                            bool pull) {
  auto record = run::resolve_image(images, reference, progress, pull);
  if (!record) return record.error();
  auto rootfs = image::ensure_rootfs(images, *record, progress);
  if (!rootfs) return rootfs.error();
  auto text = images.read_blob(record->config_digest);
  if (!text) return text.error();
  auto config = image::parse_image_config(*text, record->name + ": config");
  if (!config) return config.error();
  return ready_image{std::move(*record), std::move(*config), std::move(*rootfs)};
}

/// smvm run's guest boots its init and an image's userland from an ext4
/// root; a vm.toml guest may be a tiny initramfs (config::min_memory_mib).
constexpr std::uint64_t run_min_memory_mib = 64;

/// The machine's size, checked before any image is pulled or unpacked.
result<void> check_machine(const run_options& options) {
  if (options.cpus < 1 || options.cpus > config::max_vcpus)
    return make_error("--cpus must be from 1 to {}, got {}", config::max_vcpus, options.cpus);
  if (options.memory_mib < run_min_memory_mib)
    return make_error("--memory must be at least {} MiB, got {} MiB", run_min_memory_mib, options.memory_mib);
  if (options.memory_mib > config::max_memory_mib)
    return make_error("--memory must be at most {} MiB (1 TiB), got {} MiB", config::max_memory_mib, options.memory_mib);
  if (options.network != "slirp" && options.network != "none")
    return make_error("--network {}: smvm run knows slirp (a NAT to the host's network, the default) and none",
                      options.network);
  if (options.network == "none" && !options.publish.empty())
    return make_error("-p {}: a VM with --network none has no port to publish", options.publish.front());
  for (const auto& p : options.publish)
    if (auto f = network::parse_port_forward(p); !f) return make_error("-p {}", f.error().message);
  return {};
}

/// The VM that runs `image`, with its guest agent on a vsock device whose
/// host side is `state`'s vsock socket.
result<config::vm_config> vm_for(const ready_image& image, const run_options& options, const run::vm_state& state) {
  auto work = run::make_workload(image.config, options);
  if (!work) return work.error();
  work->agent = true;
  auto initramfs = run::make_initramfs(run::init_binary(), run::encode_run_spec(*work));
  if (!initramfs) return initramfs.error();
  config::vm_config vm;
  vm.source_file = "smvm run";
  vm.machine.vcpus = options.cpus;
  vm.machine.memory_mib = options.memory_mib;
  vm.boot.kernel = options.kernel.empty() ? config::default_kernel_path() : options.kernel;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(vm.boot.kernel, ec))
    return make_error("no guest kernel at {}: build it with tools/build-kernel.sh, or give --kernel",
                      vm.boot.kernel.string());
  vm.boot.initrd_data = std::move(*initramfs);
  vm.boot.cmdline = "quiet";
  config::use_virtio_console(vm);
  vm.console.workload_streams = true;
  vm.console.input = options.interactive ? config::console_input::stdin_stream : config::console_input::none;
  if (options.kernel_log.empty()) {
    vm.console.output = config::console_output::none;
  } else {
    vm.console.output = config::console_output::file;
    vm.console.output_file = options.kernel_log;
  }
  if (auto r = config::add_device(vm, "virtio-blk", devices::virtio::device_settings({{"path", std::filesystem::absolute(image.rootfs).string()},
                                                                                   {"read_only", true}}));
      !r)
    return r.error();
  if (auto r = config::add_device(vm, "virtio-vsock", devices::virtio::device_settings({{"cid", std::int64_t{3}},
                                                                                     {"uds_path", state.vsock().string()}}));
      !r)
    return r.error();
  if (options.network == "slirp") {
    std::string publish;
    for (const auto& p : options.publish) publish += (publish.empty() ? "" : "\n") + p;
    devices::virtio::device_settings net({{"mode", std::string("slirp")}});
    if (!publish.empty()) net = devices::virtio::device_settings({{"mode", std::string("slirp")}, {"publish", publish}});
    if (auto r = config::add_device(vm, "virtio-net", std::move(net)); !r) return r.error();
  }
  return vm;
}

image_info info_of(const image::image_record& r) {
  return {r.name, r.config_digest, r.size()};
}

}  // namespace

int run_image(const run_options& options) {
  if (auto r = check_machine(options); !r) {
    fmt::print(stderr, "smvm: {}\n", r.error().message);
    return run::smvm_failure_status;
  }
  image::store images(image::store::default_root());
  auto image = prepare(images, options.image, options.progress, false);
  if (!image) {
    fmt::print(stderr, "smvm: {}\n", image.error().message);
    return run::smvm_failure_status;
  }
  const std::string name = options.name.empty() ? run::new_vm_name() : options.name;
  auto state = run::register_vm(name, {options.image, options.command, run::now_seconds(), options.keep_state, ""},
                                options.name_claimed);
  if (!state) {
    fmt::print(stderr, "smvm: {}\n", state.error().message);
    return run::smvm_failure_status;
  }
  int status = run::smvm_failure_status;
  if (auto vm = vm_for(*image, options, *state); !vm)
    fmt::print(stderr, "smvm: {}\n", vm.error().message);
  else
    status = run::run_vm(*vm, {state->control()});
  run::unregister_vm(*state, status, options.keep_state);
  return status;
}

result<image_info> pull(const std::string& reference, const image::progress_fn& progress) {
  image::store images(image::store::default_root());
  auto image = prepare(images, reference, progress, true);
  if (!image) return image.error();
  return info_of(image->record);
}

std::vector<image_info> images() {
  image::store store(image::store::default_root());
  std::vector<image_info> out;
  for (const auto& r : store.list()) out.push_back(info_of(r));
  return out;
}

result<void> remove_image(const std::string& reference) {
  image::store images(image::store::default_root());
  auto name = run::stored_name(images, reference);
  if (!name) return name.error();
  return images.remove(*name);
}

}  // namespace smvm
