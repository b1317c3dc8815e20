#pragma once
// What the guest init runs: the image config merged with `smvm run`'s
// options as Docker merges them, and the run spec that carries it into the
// guest (common/stream_protocol.h).

#include "image/manifest.hpp"
#include "include/smvm/smvm.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace smvm::run {

struct workload {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // NAME=value, unique names, in order
  std::string cwd = "/";
  std::string user;
  bool relay_stdin = false;
  bool agent = false;  // start the guest agent (common/agent_protocol.h)
  bool network = false;  // eth0 on the NAT's plan (network/slirp_stack.hpp)
};

/// Entrypoint + Cmd, Env, WorkingDir and User, with the options' overrides.
/// `host_env` answers NAME-only -e entries.
result<workload> make_workload(const image::image_config& image, const run_options& options,
                               const std::function<const char*(const char*)>& host_env = std::getenv);

/// The records guest/init reads from /smvm/run.
std::vector<std::uint8_t> encode_run_spec(const workload& w);

}  // namespace smvm::run
