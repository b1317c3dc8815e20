#pragma once
// Running a command in a VM through its guest agent (smvm exec,
// smvm::vm::exec): stdin, stdout and stderr relayed, signals forwarded, the
// exit status back.

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace smvm::agent {

struct exec_request {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value, over the image's environment
  std::string cwd;               // default: the image's WorkingDir
  std::string user;              // default: the image's User
  bool tty = false;              // a pseudo-terminal in the guest
  std::uint16_t rows = 0, cols = 0;
};

struct exec_streams {
  int in = -1;   // read until its end and sent as stdin; -1: the command's stdin is /dev/null
  int out = 1;   // the command's stdout (and, with a tty, its terminal's output)
  int err = 2;
  /// A signalfd: SIGWINCH becomes a resize (with a tty, of `in`'s terminal
  /// size), any other signal is sent to the command. -1: none.
  int signals = -1;
};

struct exec_outcome {
  int status = 0;     // the command's exit status; 128+N after signal N
  std::string error;  // why it did not start (status 126 or 127), or empty
};

class channel;

/// Runs `request` to its end. An error when the VM cannot be reached or
/// the connection fails midway; the command's own failure is an outcome.
result<exec_outcome> exec(const std::filesystem::path& uds_path, const exec_request& request,
                          const exec_streams& streams, std::chrono::milliseconds connect_timeout);
/// The same on a channel already open.
result<exec_outcome> exec(channel& c, const exec_request& request, const exec_streams& streams);

}  // namespace smvm::agent
