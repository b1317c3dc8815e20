// libFuzzer target: the packets a guest puts on virtio-vsock's transmit
// queue (virtqueue_fuzz covers the rings themselves). The fuzzer's bytes
// are the packets, each one chain of two buffers split where it says; the
// device reads every header and payload, runs the connections they make or
// name, and writes what it owes into the receive queue's buffers. A host listener
// at <uds_path>_5 takes guest connections to port 5 and drops them, so
// connections are made and broken too. Nothing may crash, touch memory
// outside guest RAM (ASan watches the 64 KiB buffer) or grow without bound.

#include "devices/virtio/vsock/device.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_memory.hpp"
#include "tests/fuzz/fuzz_ring.hpp"

#include <cstring>
#include <string>
#include <vector>

using namespace smvm;
using namespace smvm::devices;
using namespace smvm::devices::virtio;

namespace {

using fuzz::fuzz_memory;
using fuzz::ring;

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
  ~host_side() {
    ::close(listener);
    ::unlink((uds + "_5").c_str());
    ::rmdir(dir.c_str());
  }
  /// Takes the guest's connections and drops them.
  void drop_accepted() const {
    for (int fd; (fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;) ::close(fd);
  }
};

constexpr std::size_t ram_size = 256 * 1024;
constexpr std::uint16_t queue_size = 64;
constexpr std::uint64_t rx_desc = 0x0000, tx_desc = 0x1000, event_desc = 0x2000;
constexpr std::uint64_t rx_buffers = 0x4000;                          // 16 x 4 KiB
constexpr std::uint64_t tx_buffers = 0x14000, tx_buffers_end = ram_size;

void serve(vsock::device& d, const host_side& host) {
  (void)d.process_queue(vsock::device::tx_queue);
  host.drop_accepted();
  (void)d.process_queue(vsock::device::rx_queue);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static host_side host;
  std::vector<std::uint8_t> ram(ram_size);
  fuzz_memory memory(ram);
  auto device = vsock::device::open(memory, 3, host.uds);
  if (!device) return 0;
  auto& d = **device;
  ring rx{ram, rx_desc, queue_size}, tx{ram, tx_desc, queue_size}, event{ram, event_desc, queue_size};
  if (!d.activate(feature::version_1 | feature::ring_event_idx, {rx.config(), tx.config(), event.config()})) return 0;
  // The guest's receive buffers: 16 of 4 KiB (header and data in one), as Linux offers them.
  for (std::uint16_t i = 0; i < 16; ++i) rx.offer(i, {{rx_buffers + i * 0x1000ull, 0x1000, true}});
  // The input is a list of packets, each [u16 length][u8 split][bytes]: the
  // bytes go into guest RAM as one transmit chain, split into two buffers.
  std::uint64_t at = tx_buffers;
  std::uint16_t next = 0;
  while (size >= 3 && next < queue_size / 2) {
    std::size_t length = std::min<std::size_t>(data[0] | (data[1] << 8), size - 3);
    length = std::min<std::size_t>(length, tx_buffers_end - at);
    const std::size_t split = std::min<std::size_t>(data[2], length);
    std::memcpy(ram.data() + at, data + 3, length);
    tx.offer(next, {{at, static_cast<std::uint32_t>(split), false},
                    {at + split, static_cast<std::uint32_t>(length - split), false}});
    next = static_cast<std::uint16_t>(next + 2);
    at += length;
    data += 3 + length;
    size -= 3 + length;
    // Serve as the packets come, so later ones meet the state earlier ones made.
    if (next % 8 == 0) serve(d, host);
  }
  serve(d, host);
  return 0;
}
