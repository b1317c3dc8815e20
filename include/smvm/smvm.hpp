#pragma once
// smvm as a library: run an OCI or Docker image as a microVM, and manage
// the local image store. What `smvm run`, `smvm pull`, `smvm images` and
// `smvm rmi` do, for programs that embed smvm (link smvm::smvm).
//
//   smvm::run_options options;
//   options.image = "registry.example:5000/app:1";   // or a docker-archive / OCI layout path
//   options.command = {"sh", "-c", "echo hello"};
//   int status = smvm::run_image(options);                 // the workload's exit status

#include "common/result.hpp"
#include "image/progress.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace smvm {

struct run_options {
  std::string image;                          // a registry reference, or a path to a docker-archive or OCI layout
  std::vector<std::string> command;           // replaces the image's Cmd when not empty
  std::optional<std::string> entrypoint;      // replaces the image's Entrypoint ("" clears it)
  std::vector<std::string> env;               // NAME=value, or NAME to pass the host's value
  std::vector<std::filesystem::path> env_files;  // lines of NAME=value; # comments
  std::string workdir;                        // absolute; replaces WorkingDir
  std::string user;                           // name, uid, name:group, uid:gid; replaces User
  unsigned cpus = 1;
  std::uint64_t memory_mib = 512;
  bool interactive = false;                   // relay stdin to the workload (docker run -i)
  // "slirp": a NAT to the host's network (eth0 10.0.2.15, the host as
  // 10.0.2.2), as Docker's default bridge; "none": no network card.
  std::string network = "slirp";
  std::vector<std::string> publish;           // [HOST_IP:]HOST_PORT:GUEST_PORT[/udp], as docker run -p
  std::filesystem::path kernel;               // default: the cached kernel (tools/build-kernel.sh)
  std::filesystem::path kernel_log;           // where the guest kernel's log goes; default nowhere
  image::progress_fn progress;                // pull and unpack progress; may be empty
  // The VM's name in the runtime folder (run/vm_state.hpp), where smvm exec,
  // cp, ps and stop find it; default: a new one. Its entry goes when the VM
  // ends, unless keep_state (smvm run -d: for smvm logs and ps -a).
  std::string name;
  bool keep_state = false;
  bool name_claimed = false;                  // the caller claimed `name` already (smvm run -d's background process)
};

/// Boots the image and runs its workload to the end. Returns the workload's
/// exit status (128+N after signal N), or 125 when smvm failed, with the
/// reason on stderr: Docker's convention.
int run_image(const run_options& options);

struct image_info {
  std::string name;
  std::string id;  // the config digest
  std::uint64_t size = 0;
};

/// Fetches a registry image (or imports a local archive or layout) into the
/// store and unpacks its root disk.
result<image_info> pull(const std::string& reference, const image::progress_fn& progress = {});
std::vector<image_info> images();
/// Removes `reference` from the store, and every blob no other image uses.
result<void> remove_image(const std::string& reference);

}  // namespace smvm
