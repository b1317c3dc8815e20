// smvm-bench-vsock: the host side of tools/bench/vsock, against the guest
// agent (smvm-init agent) of a VM reached through smvm's vsock Unix socket
// or straight over AF_VSOCK (QEMU's vhost-vsock-device).
//   smvm-bench-vsock uds PATH | cid N     then one of:
//     wait SECONDS     until the agent answers a ping
//     rtt COUNT        COUNT runs of `exec true`: median and p99 in ms
//     to-guest MIB     MIB of stdin into `cat >/dev/null`: MB/s
//     from-guest MIB   MIB of `head -c` stdout out of the guest: MB/s
#include "agent/channel.hpp"
#include "agent/exec.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/vm_sockets.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

using namespace smvm;
using clock_type = std::chrono::steady_clock;

namespace {

struct target {
  bool over_uds = true;
  std::string path;
  unsigned cid = 0;
};

result<agent::channel> open_channel(const target& t) {
  if (t.over_uds) return agent::channel::open(t.path, std::chrono::seconds(5));
  unique_fd fd{::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = t.cid;
  addr.svm_port = SMVM_AGENT_PORT;
  if (!fd.valid() || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return make_error("vsock CID {} port {}: {}", t.cid, SMVM_AGENT_PORT, std::strerror(errno));
  return agent::channel::adopt(std::move(fd));
}

result<agent::exec_outcome> run(const target& t, std::vector<std::string> argv, int in, int out) {
  auto c = open_channel(t);
  if (!c) return c.error();
  agent::exec_request request;
  request.argv = std::move(argv);
  return agent::exec(*c, request, {in, out, STDERR_FILENO, -1});
}

double seconds_since(clock_type::time_point t) { return std::chrono::duration<double>(clock_type::now() - t).count(); }

int fail(const std::string& what) {
  fmt::print(stderr, "smvm-bench-vsock: {}\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return fail("usage: smvm-bench-vsock uds PATH|cid N wait S|rtt N|to-guest MIB|from-guest MIB");
  target t{std::string_view(argv[1]) == "uds", argv[2], 0};
  if (!t.over_uds) t.cid = static_cast<unsigned>(std::atoi(argv[2]));
  const std::string what = argv[3];
  const long n = std::atol(argv[4]);
  const int null_out = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (what == "wait") {
    const auto deadline = clock_type::now() + std::chrono::seconds(n);
    while (clock_type::now() < deadline) {
      if (auto c = open_channel(t); c && c->send(SMVM_AGENT_PING) && c->receive()) return 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return fail(fmt::format("no answer from the agent in {} s", n));
  }
  if (what == "rtt") {
    std::vector<double> ms;
    for (long i = 0; i < n; ++i) {
      const auto began = clock_type::now();
      auto r = run(t, {"true"}, -1, null_out);
      if (!r || r->status != 0) return fail(r ? fmt::format("exec true exited {}", r->status) : r.error().message);
      ms.push_back(seconds_since(began) * 1000);
    }
    std::sort(ms.begin(), ms.end());
    const auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<std::size_t>(q * ms.size()))]; };
    fmt::print("rtt median {:.2f} p99 {:.2f}\n", at(0.5), at(0.99));
    return 0;
  }
  const std::uint64_t bytes = static_cast<std::uint64_t>(n) << 20;
  auto began = clock_type::now();
  if (what == "to-guest") {
    int in = ::memfd_create("bench-stdin", MFD_CLOEXEC);  // sparse: reads give zeros, no host RAM
    if (in < 0 || ::ftruncate(in, static_cast<off_t>(bytes)) != 0) return fail("memfd");
    began = clock_type::now();
    auto r = run(t, {"sh", "-c", "cat >/dev/null"}, in, null_out);
    if (!r || r->status != 0) return fail(r ? "cat failed" : r.error().message);
  } else if (what == "from-guest") {
    auto r = run(t, {"head", "-c", std::to_string(bytes), "/dev/zero"}, -1, null_out);
    if (!r || r->status != 0) return fail(r ? "head failed" : r.error().message);
  } else {
    return fail("unknown measurement " + what);
  }
  fmt::print("{} {:.1f}\n", what, static_cast<double>(bytes) / 1e6 / seconds_since(began));
  return 0;
}
