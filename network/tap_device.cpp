#include "network/tap_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smvm::network {

namespace {

/// The largest frame a TAP hands over: what the card accepts (64 KiB and
/// a VLAN-tagged header), so nothing it could carry is cut short.
constexpr std::size_t max_frame = 65536 + 18;
/// Frames read in one round before they go to the card, so one batch
/// does not grow without bound while the host sends.
constexpr std::size_t batch_frames = 256;

}  // namespace

result<std::unique_ptr<tap_device>> tap_device::open(const std::string& name, deliver_fn deliver) {
  if (name.empty() || name.size() >= IFNAMSIZ)
    return make_error("tap \"{}\": an interface name is 1 to {} characters", name, IFNAMSIZ - 1);
  std::unique_ptr<tap_device> tap(new tap_device);
  tap->fd_ = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (tap->fd_ < 0)
    return make_error("tap {}: cannot open /dev/net/tun: {} (is the tun module loaded?)", name, std::strerror(errno));
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (ioctl(tap->fd_, TUNSETIFF, &ifr) != 0)
    return make_error("tap {}: cannot attach to it: {} (make it first, `ip tuntap add {} mode tap user $USER`, or "
                      "run as root)",
                      name, std::strerror(errno), name);
  if (!tap->inbox_.ready()) return make_error("tap {}: cannot make an eventfd: {}", name, std::strerror(errno));
  tap->deliver_ = std::move(deliver);
  tap->thread_ = std::thread([t = tap.get()] { t->run(); });
  return tap;
}

tap_device::~tap_device() {
  stop_ = true;
  if (thread_.joinable()) {
    inbox_.wake();
    thread_.join();
  }
  if (fd_ >= 0) close(fd_);
}

void tap_device::run() {
  std::vector<std::uint8_t> buffer(max_frame);
  while (!stop_) {
    pollfd fds[2] = {{inbox_.wake_fd(), POLLIN, 0}, {fd_, POLLIN, 0}};
    if (poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    if (stop_) break;
    // A frame the host's queue has no room for is dropped, as on a wire.
    for (auto& f : inbox_.take()) (void)!write(fd_, f.data(), f.size());
    std::vector<frame_bytes> received;
    while (received.size() < batch_frames) {
      const ssize_t n = read(fd_, buffer.data(), buffer.size());
      if (n <= 0) break;  // EAGAIN: nothing more now
      received.emplace_back(buffer.begin(), buffer.begin() + n);
    }
    if (!received.empty()) {
      inbox_.count_out(received.size());
      deliver_(std::move(received));
    }
  }
}

}  // namespace smvm::network
