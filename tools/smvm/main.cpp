// smvm: run OCI and Docker images, or a vm.toml, as microVMs. A thin client
// of the library (include/smvm/smvm.hpp, run/run_vm.hpp).

#include "run/run_vm.hpp"
#include "config/vm_config.hpp"
#include "include/smvm/smvm.hpp"
#include "snapshot/snapshot_file.hpp"
#include "tools/smvm/commands.hpp"
#include "tools/smvm/progress_line.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <caf/config.hpp>

#include <cmath>
#include <csignal>
#include <set>

namespace {

constexpr int failure = smvm::run::smvm_failure_status;

/// Docker's sizes: a number of bytes, or with b, k, m or g.
std::optional<std::uint64_t> parse_memory_mib(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (...) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b' && unit.size() == 2) unit.pop_back();
  double bytes = 0;
  if (unit.empty() || unit == "b") bytes = value;
  else if (unit == "k") bytes = value * 1024;
  else if (unit == "m") bytes = value * 1024 * 1024;
  else if (unit == "g") bytes = value * 1024 * 1024 * 1024;
  else return std::nullopt;
  if (!(bytes > 0)) return std::nullopt;
  return static_cast<std::uint64_t>(std::ceil(bytes / (1024 * 1024)));
}

int run_command(const std::vector<std::string>& args) {
  auto split = smvm::cli::split_at_operand(args, {"-e", "--env", "--env-file", "-w", "--workdir", "-u", "--user",
                                                 "--entrypoint", "--cpus", "-m", "--memory", "--kernel",
                                                 "--kernel-log", "--name", "--network", "-p", "--publish"});
  CLI::App app{"Run IMAGE as a microVM: its Entrypoint and Cmd, or COMMAND", "smvm run"};
  bool detach = false;
  smvm::run_options options;
  std::string entrypoint, cpus = "1", memory = "512m";
  bool has_entrypoint = false;
  app.add_option("image", options.image, "A docker-archive or OCI layout (folder or tar) path, or a registry reference")
    ->required();
  app.add_option("-e,--env", options.env, "Set NAME=value (or pass the host's NAME) in the workload's environment");
  app.add_option("--env-file", options.env_files, "Read NAME=value lines from FILE")->type_name("FILE");
  app.add_option("-w,--workdir", options.workdir, "Working folder inside the image (absolute)");
  app.add_option("-u,--user", options.user, "User: name, uid, name:group or uid:gid");
  app.add_option("--entrypoint", entrypoint, "Replace the image's Entrypoint (\"\" clears it)")
    ->each([&](const std::string&) { has_entrypoint = true; });
  app.add_option("--cpus", cpus, "vCPUs (fractions round up); default 1");
  app.add_option("-m,--memory", memory, "Guest memory, e.g. 512m or 2g; default 512m");
  app.add_flag("-i,--interactive", options.interactive, "Pass smvm's stdin to the workload");
  app.add_option("--network", options.network, "slirp (default: a NAT to the host's network) or none");
  app.add_option("-p,--publish", options.publish, "Publish a guest port on the host: [HOST_IP:]HOST_PORT:GUEST_PORT[/udp]");
  app.add_flag("-d,--detach", detach, "Run in the background and print the VM's name (smvm exec, logs, stop)");
  app.add_option("--name", options.name, "Name the VM (default: vm- and 8 hex digits)");
  app.add_option("--kernel", options.kernel, "Guest kernel (default: the cached one tools/build-kernel.sh builds)");
  app.add_option("--kernel-log", options.kernel_log, "Write the guest kernel's log to FILE")->type_name("FILE");
  app.footer("Options go before IMAGE; what follows IMAGE (or `--`) is the command.\n"
             "Exit status: the workload's; 125 when smvm failed, 126/127 when the command cannot run.");
  if (auto done = smvm::cli::parse_options(app, split.options)) return *done;
  if (has_entrypoint) options.entrypoint = entrypoint;
  options.command = split.rest;
  char* end = nullptr;
  const double cpu_count = std::strtod(cpus.c_str(), &end);
  if (cpus.empty() || *end || !(cpu_count > 0) || cpu_count > smvm::config::max_vcpus) {
    fmt::print(stderr, "smvm run: --cpus {}: expected a number of vCPUs from 1 to {}\n", cpus, smvm::config::max_vcpus);
    return failure;
  }
  options.cpus = static_cast<unsigned>(std::ceil(cpu_count));
  auto mib = parse_memory_mib(memory);
  if (!mib) {
    fmt::print(stderr, "smvm run: --memory {}: expected a size such as 512m or 2g\n", memory);
    return failure;
  }
  options.memory_mib = *mib;
  if (!options.name.empty())
    if (auto ok = smvm::run::check_vm_name(options.name); !ok) {
      fmt::print(stderr, "smvm run: --name: {}\n", ok.error().message);
      return failure;
    }
  if (smvm::cli::is_detached_child()) {
    smvm::cli::adopt_detached_name(options);
  } else if (detach) {
    return smvm::cli::run_detached(options, args);
  }
  options.progress = smvm::cli::progress_line();
  return smvm::run_image(options);
}

int pull_command(const std::string& reference) {
  auto info = smvm::pull(reference, smvm::cli::progress_line());
  if (!info) {
    fmt::print(stderr, "smvm pull: {}\n", info.error().message);
    return failure;
  }
  fmt::print("{}\n{}\n", info->name, info->id);
  return 0;
}

int images_command() {
  fmt::print("{:<60} {:<19} {:>10}\n", "IMAGE", "ID", "SIZE");
  for (const auto& i : smvm::images())
    fmt::print("{:<60} {:<19} {:>7.1f} MB\n", i.name, i.id.substr(7, 12), static_cast<double>(i.size) / 1e6);
  return 0;
}

int rmi_command(const std::vector<std::string>& references) {
  int status = 0;
  for (const auto& r : references) {
    if (auto done = smvm::remove_image(r); !done) {
      fmt::print(stderr, "smvm rmi: {}\n", done.error().message);
      status = 1;
    } else {
      fmt::print("removed {}\n", r);
    }
  }
  return status;
}

int snapshot_inspect_command(const std::string& path) {
  auto snapshot = smvm::snapshot::read_snapshot_file(path);
  if (!snapshot) {
    fmt::print(stderr, "smvm snapshot inspect: {}\n", snapshot.error().message);
    return failure;
  }
  fmt::print("{}: smvm snapshot, format version {}, {} bytes, {} sections (checksums verified)\n", path,
             snapshot->version, snapshot->file_length, snapshot->table.size());
  fmt::print("  {:<40} {:>10} {:>10}  {}\n", "SECTION", "OFFSET", "BYTES", "CRC-32");
  for (const auto& e : snapshot->table) fmt::print("  {:<40} {:>10} {:>10}  {:08x}\n", e.name, e.offset, e.length, e.crc);
  return 0;
}

int restore_command(smvm::run::restore_request request, const std::string& path, const std::string& output,
                    const std::string& api_socket, bool detach, const std::vector<std::string>& raw_args) {
  if (request.clones < 1 || request.clones > smvm::run::max_clones) {
    fmt::print(stderr, "smvm restore: --clones must be 1 to {}, got {}\n", smvm::run::max_clones, request.clones);
    return failure;
  }
  if (!api_socket.empty() && request.clones > 1) {
    fmt::print(stderr, "smvm restore: --api-sock serves one VM; it cannot go with --clones {}\n", request.clones);
    return failure;
  }
  request.snapshot = path;
  if (!api_socket.empty()) request.control_socket = api_socket;
  using smvm::config::console_output;
  if (output == "none") request.console.output = console_output::none;
  else if (!output.empty() && output != "stdout") {
    request.console.output = console_output::file;
    request.console.output_file = output;
  }
  request.report_timing = std::getenv("SMVM_RESTORE_TIMING") != nullptr;
  if (!request.name.empty())
    if (auto ok = smvm::run::check_vm_name(request.name); !ok) {
      fmt::print(stderr, "smvm restore: --name: {}\n", ok.error().message);
      return failure;
    }
  if (!smvm::cli::adopt_detached_name(request) && detach) return smvm::cli::restore_detached(request, raw_args);
  return smvm::run::restore_vm(request);
}

}  // namespace

int main(int argc, char** argv) {
  // A closed stdout is an error smvm reports (EPIPE), not a signal that kills it mid-run.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && std::string_view(argv[1]) == "run")
    return run_command(std::vector<std::string>(argv + 2, argv + argc));
  if (argc >= 2 && std::string_view(argv[1]) == "exec")
    return smvm::cli::exec_command(std::vector<std::string>(argv + 2, argv + argc));
  if (argc == 4 && std::string_view(argv[1]) == "snapshot" && std::string_view(argv[2]) != "inspect")
    return smvm::cli::snapshot_command(argv[2], argv[3]);

  CLI::App app{"smvm: run OCI and Docker images, and Linux VMs, as KVM microVMs", "smvm"};
  std::vector<std::string> config_files;
  app.add_option("--config", config_files,
                 "Boot the VM described in this vm.toml; repeat it to run several VMs in one process (their "
                 "network cards share switches by name)")
    ->type_name("FILE");
  std::string api_socket;
  app.add_option("--api-sock", api_socket,
                 "Serve the control socket (JSON: status, pause, resume, snapshot, stop; link, switch) here; with "
                 "several --config, for the first VM and every switch")
    ->type_name("PATH");
  app.set_version_flag("--version", fmt::format("smvm {} (CAF {}.{}.{})", SMVM_VERSION, CAF_MAJOR_VERSION,
                                                CAF_MINOR_VERSION, CAF_PATCH_VERSION));
  app.add_subcommand("run", "Run an image: smvm run [OPTIONS] IMAGE [COMMAND...] (smvm run --help)");
  app.add_subcommand("exec", "Run a command in a running VM: smvm exec [OPTIONS] NAME COMMAND... (smvm exec --help)");
  std::string cp_source, cp_destination;
  auto* cp = app.add_subcommand("cp", "Copy a file into or out of a running VM: smvm cp SRC NAME:PATH, or NAME:PATH DST");
  cp->add_option("source", cp_source, "A host file (- for stdin), or NAME:PATH")->required();
  cp->add_option("destination", cp_destination, "A host file or folder (- for stdout), or NAME:PATH")->required();
  bool ps_all = false, ps_quiet = false;
  auto* ps = app.add_subcommand("ps", "List running VMs");
  ps->add_flag("-a,--all", ps_all, "Also those that have ended");
  ps->add_flag("-q,--quiet", ps_quiet, "Only their names");
  std::vector<std::string> stop_names;
  int stop_seconds = 10;
  auto* stop = app.add_subcommand("stop", "Stop running VMs: SIGTERM for the workload, then the VM after a grace time");
  stop->add_option("name", stop_names, "The VMs")->required();
  stop->add_option("-t,--time", stop_seconds, "Seconds the workload has to end before the VM is stopped (default 10)");
  std::string logs_name;
  bool logs_follow = false;
  auto* logs = app.add_subcommand("logs", "Print a detached VM's workload output (stdout and stderr)");
  logs->add_option("name", logs_name, "The VM")->required();
  logs->add_flag("-f,--follow", logs_follow, "Keep printing new output until the VM ends");
  std::vector<std::string> rm_names;
  bool rm_force = false;
  auto* rm = app.add_subcommand("rm", "Forget VMs that have ended (their logs too)");
  rm->add_option("name", rm_names, "The VMs")->required();
  rm->add_flag("-f,--force", rm_force, "Stop a running VM first");
  std::string pull_ref;
  auto* pull = app.add_subcommand("pull", "Fetch an image into the store and unpack its root disk");
  pull->add_option("reference", pull_ref, "Registry reference, or a docker-archive or OCI layout path")->required();
  auto* images = app.add_subcommand("images", "List the images in the store");
  std::vector<std::string> rmi_refs;
  auto* rmi = app.add_subcommand("rmi", "Remove images from the store");
  rmi->add_option("reference", rmi_refs, "Image names as smvm images lists them")->required();
  auto* snapshot = app.add_subcommand("snapshot", "smvm snapshot NAME PATH: snapshot a running VM; or inspect FILE");
  std::string inspect_path;
  auto* inspect = snapshot->add_subcommand("inspect", "Print what a snapshot file holds, after checking it");
  inspect->add_option("file", inspect_path, "The snapshot file")->required();
  smvm::run::restore_request restore_request;
  std::string restore_path, restore_output;
  auto* restore = app.add_subcommand("restore", "Run VMs from a snapshot file, from where it was taken");
  restore->add_option("snapshot", restore_path, "The snapshot file (its memory file is beside it)")->required();
  restore->add_option("--clones", restore_request.clones, "Run N VMs from the snapshot in this process (default 1)")
    ->type_name("N");
  restore->add_option("--api-sock", api_socket, "Serve the control socket here (one VM only)")->type_name("PATH");
  bool restore_detach = false;
  restore->add_flag("-d,--detach", restore_detach, "Run in the background and print the VMs' names");
  restore->add_option("--name", restore_request.name, "Name the VM; clones are NAME-0 ... NAME-N-1 (default: new names)");
  restore->add_option("--console-output", restore_output, "Where the guest console goes: stdout (default), none or FILE")
    ->type_name("WHERE");
  app.require_subcommand(0, 1);
  app.footer(
    "Exit status: the guest's status (smvm run: the workload's; --config: written to port 0xf4),\n"
    "0 when the guest reboots, 128+N when signal N stopped the VM, 125 when smvm itself failed.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : failure;
  }
  if (*pull) return pull_command(pull_ref);
  if (*cp) return smvm::cli::cp_command(cp_source, cp_destination);
  if (*ps) return smvm::cli::ps_command(ps_all, ps_quiet);
  if (*stop) return smvm::cli::stop_command(stop_names, stop_seconds);
  if (*logs) return smvm::cli::logs_command(logs_name, logs_follow);
  if (*rm) return smvm::cli::rm_command(rm_names, rm_force);
  if (*images) return images_command();
  if (*rmi) return rmi_command(rmi_refs);
  if (*inspect) return snapshot_inspect_command(inspect_path);
  if (*snapshot) {
    fmt::print(stderr, "smvm snapshot: give NAME PATH (a running VM, where to write), or inspect FILE\n");
    return failure;
  }
  if (*restore)
    return restore_command(restore_request, restore_path, restore_output, api_socket, restore_detach,
                           std::vector<std::string>(argv + 2, argv + argc));
  if (config_files.empty()) {
    fmt::print(stderr, "smvm: nothing to run: give --config FILE or a command (see smvm --help)\n");
    return failure;
  }
  std::vector<smvm::config::vm_config> configs;
  for (const auto& file : config_files) {
    auto config = smvm::config::load_vm_config(file);
    if (!config) {
      fmt::print(stderr, "smvm: {}\n", config.error().message);
      return failure;
    }
    configs.push_back(std::move(*config));
  }
  smvm::run::vm_options options;
  if (!api_socket.empty()) options.control_socket = api_socket;
  if (configs.size() == 1) return smvm::run::run_vm(configs.front(), options);
  return smvm::run::run_vms(std::move(configs), options);
}
