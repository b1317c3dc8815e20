// libFuzzer target: a guest's virtio-vsock queues. Guest RAM and the queue
// sizes come from the fuzzer; the device reads every packet on the
// transmit queue (headers, payload lengths, ops for connections that exist
// or not) and writes what it owes into the receive queue. A host listener
// at <uds_path>_5 takes guest connections to port 5 and drops them, so
// connections are made and broken too. Nothing may crash, touch memory
// outside guest RAM (ASan watches the 64 KiB buffer) or grow without bound.

#include "devices/virtio/vsock/device.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

using namespace smvm;
using namespace smvm::devices;
using namespace smvm::devices::virtio;

namespace {

class fuzz_memory final : public memory_view {
 public:
  explicit fuzz_memory(std::vector<std::uint8_t>& ram) : ram_(ram) {}
  result<std::span<std::uint8_t>> slice(std::uint64_t address, std::uint64_t length) const override {
    if (address > ram_.size() || length > ram_.size() - address) return make_error("outside");
    return std::span<std::uint8_t>(ram_.data() + address, length);
  }

 private:
  std::vector<std::uint8_t>& ram_;
};

/// The socket folder and the port-5 listener, made once per process.
struct host_side {
  std::string dir, uds;
  int listener = -1;
  host_side() {
    char tmpl[] = "/tmp/smvm-vsock-fuzz-XXXXXX";
    dir = ::mkdtemp(tmpl);
    uds = dir + "/v.sock";
    listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, (uds + "_5").c_str(), sizeof a.sun_path - 1);
    ::bind(listener, reinterpret_cast<const sockaddr*>(&a), sizeof a);
    ::listen(listener, 256);
  }
  /// Takes the guest's connections and drops them.
  void drop_accepted() const {
    for (int fd; (fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) ::close(fd);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static host_side host;
  constexpr std::size_t ram_size = 64 * 1024;
  if (size < 4) return 0;
  std::vector<std::uint8_t> ram(ram_size);
  std::memcpy(ram.data(), data + 4, std::min(size - 4, ram_size));
  fuzz_memory memory(ram);
  auto device = vsock::device::open(memory, 3, host.uds);
  if (!device) return 0;
  // rx rings at 0x0000/0x1000/0x1800, tx at 0x2000/0x3000/0x3800, event at 0x4000/0x4800/0x4c00.
  const std::vector<queue_config> queues{{static_cast<std::uint16_t>(1u << (data[0] % 9)), 0x0000, 0x1000, 0x1800},
                                         {static_cast<std::uint16_t>(1u << (data[1] % 9)), 0x2000, 0x3000, 0x3800},
                                         {8, 0x4000, 0x4800, 0x4c00}};
  if (!(*device)->activate(feature::version_1 | ((data[2] & 1) ? feature::ring_event_idx : 0), queues)) return 0;
  for (int round = 0; round < 1 + data[3] % 4; ++round) {
    (void)(*device)->process_queue(vsock::device::tx_queue);
    host.drop_accepted();
    (void)(*device)->process_queue(vsock::device::rx_queue);
    (void)(*device)->process_queue(vsock::device::event_queue);
  }
  return 0;
}
