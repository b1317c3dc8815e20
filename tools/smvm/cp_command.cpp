// smvm cp SRC DST: a file into or out of a running VM, one side NAME:PATH,
// as docker cp (one regular file; `-` is stdin or stdout, as raw bytes).

#include "tools/smvm/commands.hpp"

#include "agent/files.hpp"
#include "run/run_vm.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smvm::cli {

namespace {

constexpr int failure = run::smvm_failure_status;
constexpr auto connect_timeout = std::chrono::seconds(10);

struct vm_path {
  std::string name, path;
};

/// NAME:PATH, when what is before the colon is a VM name (a host path
/// with a colon in it is written ./a:b, as with docker cp).
std::optional<vm_path> parse_vm_path(const std::string& arg) {
  const auto colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  const std::string name = arg.substr(0, colon);
  if (!run::check_vm_name(name)) return std::nullopt;
  std::string path = arg.substr(colon + 1);
  if (path.empty() || path.front() != '/') path = "/" + path;  // relative to the VM's /, as docker cp
  return vm_path{name, path};
}

int copy_in(const std::string& source, const vm_path& to, const std::filesystem::path& vsock) {
  int fd = STDIN_FILENO;
  agent::file_attributes attributes;
  std::string name;
  if (source != "-") {
    fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0) {
      fmt::print(stderr, "smvm cp: {}: {}\n", source, std::strerror(errno));
      return failure;
    }
    if (!S_ISREG(st.st_mode)) {
      fmt::print(stderr, "smvm cp: {}: only a regular file can be copied (folders are not supported yet)\n", source);
      ::close(fd);
      return failure;
    }
    attributes.mode = st.st_mode & 07777;  // owned by root in the guest, as docker cp does
    name = std::filesystem::path(source).filename().string();
  }
  auto done = agent::write_file(vsock, to.path, fd, attributes, name, connect_timeout);
  if (fd != STDIN_FILENO) ::close(fd);
  if (!done) {
    fmt::print(stderr, "smvm cp: {}:{}: {}\n", to.name, to.path, done.error().message);
    return failure;
  }
  return 0;
}

int copy_out(const vm_path& from, const std::string& destination, const std::filesystem::path& vsock) {
  if (destination == "-") {
    auto info = agent::read_file(vsock, from.path, STDOUT_FILENO, connect_timeout);
    if (!info) {
      fmt::print(stderr, "smvm cp: {}:{}: {}\n", from.name, from.path, info.error().message);
      return failure;
    }
    return 0;
  }
  std::filesystem::path target = destination;
  std::error_code ec;
  if (std::filesystem::is_directory(target, ec)) target /= std::filesystem::path(from.path).filename();
  // Into a temporary file beside the target, renamed over it when whole.
  std::string temp = (target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path()) /
                     fmt::format(".{}.smvm-XXXXXX", target.filename().string());
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    fmt::print(stderr, "smvm cp: {}: {}\n", target.string(), std::strerror(errno));
    return failure;
  }
  auto info = agent::read_file(vsock, from.path, fd, connect_timeout);
  std::string problem;
  if (!info) problem = fmt::format("{}:{}: {}", from.name, from.path, info.error().message);
  else if (::fchmod(fd, info->mode) != 0 || ::fsync(fd) != 0 || ::close(std::exchange(fd, -1)) != 0 ||
           ::rename(temp.c_str(), target.c_str()) != 0)
    problem = fmt::format("{}: {}", target.string(), std::strerror(errno));
  if (fd >= 0) ::close(fd);
  if (!problem.empty()) {
    ::unlink(temp.c_str());
    fmt::print(stderr, "smvm cp: {}\n", problem);
    return failure;
  }
  return 0;
}

}  // namespace

int cp_command(const std::string& source, const std::string& destination) {
  auto from = parse_vm_path(source);
  auto to = parse_vm_path(destination);
  if (bool(from) == bool(to)) {
    fmt::print(stderr, "smvm cp: exactly one of SRC and DST must be NAME:PATH (a VM's file)\n");
    return failure;
  }
  const vm_path& remote = from ? *from : *to;
  auto vm = running_vm(remote.name);
  if (!vm) {
    fmt::print(stderr, "smvm cp: {}\n", vm.error().message);
    return failure;
  }
  return to ? copy_in(source, *to, vm->state.vsock()) : copy_out(*from, destination, vm->state.vsock());
}

}  // namespace smvm::cli
