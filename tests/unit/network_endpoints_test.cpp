// A card's links outside the process, against frames built by hand as a
// guest would send them. The NAT (network/slirp_stack): ARP for the router,
// a datagram and a connection out to host sockets, a published port that a
// host connection reaches the guest through, the error for a port that
// cannot be bound, and the bounded inbox. A TAP (network/tap_device): the
// host kernel answers ARP through it.
#include "network/slirp_stack.hpp"
#include "network/tap_device.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>

using namespace smvm::network;
using namespace std::chrono_literals;

namespace {

const std::array<std::uint8_t, 6> guest_mac{0x02, 0, 0, 0, 0, 0x15};
const std::array<std::uint8_t, 4> guest_ip{10, 0, 2, 15}, router_ip{10, 0, 2, 2};

/// Frames the stack sent the guest, for a test to wait on.
struct guest_side {
  std::mutex mutex;
  std::condition_variable arrived;
  std::deque<frame_bytes> frames;

  void take(std::vector<frame_bytes> batch) {
    std::lock_guard lock(mutex);
    for (auto& f : batch) frames.push_back(std::move(f));
    arrived.notify_all();
  }
  /// The first frame that `match` accepts, within 5 s.
  std::optional<frame_bytes> wait_for(const std::function<bool(const frame_bytes&)>& match) {
    std::unique_lock lock(mutex);
    const auto until = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      for (auto it = frames.begin(); it != frames.end(); ++it)
        if (match(*it)) {
          auto f = std::move(*it);
          frames.erase(it);
          return f;
        }
      if (arrived.wait_until(lock, until) == std::cv_status::timeout) return std::nullopt;
    }
  }
};

void put16(frame_bytes& f, std::size_t at, std::uint16_t v) {
  f[at] = static_cast<std::uint8_t>(v >> 8), f[at + 1] = static_cast<std::uint8_t>(v);
}
std::uint16_t get16(const frame_bytes& f, std::size_t at) { return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]); }

frame_bytes ethernet(std::uint16_t type, const std::array<std::uint8_t, 6>& to) {
  frame_bytes f(14, 0);
  std::copy(to.begin(), to.end(), f.begin());
  std::copy(guest_mac.begin(), guest_mac.end(), f.begin() + 6);
  put16(f, 12, type);
  return f;
}

/// "Who has `target`? Tell `sender`" (10.0.2.2 and 10.0.2.15), from the guest.
frame_bytes arp_request(const std::array<std::uint8_t, 4>& target = router_ip,
                        const std::array<std::uint8_t, 4>& sender = guest_ip) {
  auto f = ethernet(0x0806, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  f.resize(42);
  put16(f, 14, 1), put16(f, 16, 0x0800), f[18] = 6, f[19] = 4, put16(f, 20, 1);
  std::copy(guest_mac.begin(), guest_mac.end(), f.begin() + 22);
  std::copy(sender.begin(), sender.end(), f.begin() + 28);
  std::copy(target.begin(), target.end(), f.begin() + 38);
  return f;
}

std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

/// An IPv4 packet (`protocol`, `payload` bytes after a 20-byte header,
/// left for the caller) from the guest to the router, its checksum set.
frame_bytes ipv4_to_router(std::uint8_t protocol, std::size_t payload, const std::array<std::uint8_t, 6>& router_mac) {
  auto f = ethernet(0x0800, router_mac);
  const std::size_t ip = 14;
  f.resize(ip + 20 + payload);
  f[ip] = 0x45, put16(f, ip + 2, static_cast<std::uint16_t>(20 + payload)), f[ip + 8] = 64, f[ip + 9] = protocol;
  std::copy(guest_ip.begin(), guest_ip.end(), f.begin() + ip + 12);
  std::copy(router_ip.begin(), router_ip.end(), f.begin() + ip + 16);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2) sum += get16(f, ip + i);
  put16(f, ip + 10, fold(sum));
  return f;
}

/// A UDP datagram from the guest's port 5000 to the router's `port`.
frame_bytes udp_to_router(std::uint16_t port, std::string_view payload, const std::array<std::uint8_t, 6>& router_mac) {
  auto f = ipv4_to_router(17, 8 + payload.size(), router_mac);
  const std::size_t udp = 34;
  put16(f, udp, 5000), put16(f, udp + 2, port), put16(f, udp + 4, static_cast<std::uint16_t>(8 + payload.size()));
  std::copy(payload.begin(), payload.end(), f.begin() + udp + 8);  // checksum 0: none, as IPv4 allows
  return f;
}

/// A TCP SYN from the guest's port 40000 to the router's `port`.
frame_bytes syn_to_router(std::uint16_t port, const std::array<std::uint8_t, 6>& router_mac) {
  auto f = ipv4_to_router(6, 20, router_mac);
  const std::size_t ip = 14, tcp = 34;
  put16(f, tcp, 40000), put16(f, tcp + 2, port);
  put16(f, tcp + 4, 0x1234), f[tcp + 12] = 5 << 4, f[tcp + 13] = 0x02, put16(f, tcp + 14, 65535);
  std::uint32_t sum = 6 + 20;  // the pseudo-header: protocol and TCP length, then the addresses
  for (std::size_t i = 12; i < 20; i += 2) sum += get16(f, ip + i);
  for (std::size_t i = 0; i < 20; i += 2) sum += get16(f, tcp + i);
  put16(f, tcp + 16, fold(sum));
  return f;
}

bool is_arp_reply(const frame_bytes& f) { return f.size() >= 42 && get16(f, 12) == 0x0806 && get16(f, 20) == 2; }

/// The router's MAC, from its answer to the guest's ARP.
std::array<std::uint8_t, 6> router_mac_of(slirp_stack& stack, guest_side& guest) {
  stack.send({arp_request()});
  auto reply = guest.wait_for(is_arp_reply);
  REQUIRE(reply);
  std::array<std::uint8_t, 6> mac;
  std::copy(reply->begin() + 22, reply->begin() + 28, mac.begin());
  return mac;
}

/// A socket of the host's on 127.0.0.1, and its port.
std::pair<int, std::uint16_t> host_socket(int type) {
  int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return {s, ntohs(a.sin_port)};
}

/// A port on 127.0.0.1 that nothing listens on now.
std::uint16_t free_port() {
  auto [s, port] = host_socket(SOCK_STREAM);
  ::close(s);
  return port;
}

}  // namespace

TEST_CASE("slirp: the guest's ARP for its router is answered, and the guest is learned") {
  guest_side guest;
  auto stack = slirp_stack::start({}, [&](auto frames) { guest.take(std::move(frames)); });
  REQUIRE(stack);
  (*stack)->send({arp_request()});
  auto reply = guest.wait_for(is_arp_reply);
  REQUIRE(reply);
  CHECK(std::equal(guest_mac.begin(), guest_mac.end(), reply->begin()));  // to the guest
  CHECK(std::equal(router_ip.begin(), router_ip.end(), reply->begin() + 28));
  CHECK((*stack)->counters().in_frames == 1);
  CHECK((*stack)->counters().out_frames >= 1);
}

TEST_CASE("slirp: a datagram to 10.0.2.2 reaches a socket on the host's 127.0.0.1") {
  guest_side guest;
  auto stack = slirp_stack::start({}, [&](auto frames) { guest.take(std::move(frames)); });
  REQUIRE(stack);
  const auto router_mac = router_mac_of(**stack, guest);
  auto [s, port] = host_socket(SOCK_DGRAM);
  timeval wait{5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  (*stack)->send({udp_to_router(port, "hello host", router_mac)});
  char got[64] = {};
  const auto n = ::recv(s, got, sizeof got, 0);
  ::close(s);
  CHECK(std::string(got, n > 0 ? static_cast<std::size_t>(n) : 0) == "hello host");
}

TEST_CASE("slirp: a guest's connection to 10.0.2.2 reaches a listener on the host's 127.0.0.1") {
  guest_side guest;
  auto stack = slirp_stack::start({}, [&](auto frames) { guest.take(std::move(frames)); });
  REQUIRE(stack);
  const auto router_mac = router_mac_of(**stack, guest);
  auto [s, port] = host_socket(SOCK_STREAM);
  REQUIRE(::listen(s, 1) == 0);
  (*stack)->send({syn_to_router(port, router_mac)});
  pollfd p{s, POLLIN, 0};
  CHECK(::poll(&p, 1, 5000) == 1);
  auto syn_ack = guest.wait_for([](const frame_bytes& f) {
    return f.size() >= 54 && get16(f, 12) == 0x0800 && f[23] == 6 && get16(f, 36) == 40000 && (f[47] & 0x12) == 0x12;
  });
  ::close(s);
  CHECK(syn_ack);
}

TEST_CASE("slirp: a connection to a published port reaches the guest's port as a SYN") {
  guest_side guest;
  const std::uint16_t host_port = free_port();
  auto forward = parse_port_forward(fmt::format("127.0.0.1:{}:8080", host_port));
  REQUIRE(forward);
  auto stack = slirp_stack::start({*forward}, [&](auto frames) { guest.take(std::move(frames)); });
  REQUIRE(stack);
  (*stack)->send({arp_request()});  // the stack learns where 10.0.2.15 is
  REQUIRE(guest.wait_for(is_arp_reply));
  int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(host_port);
  ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a);
  auto syn = guest.wait_for([](const frame_bytes& f) {
    return f.size() >= 54 && get16(f, 12) == 0x0800 && f[23] == 6 && get16(f, 36) == 8080 && (f[47] & 0x02);
  });
  ::close(c);
  REQUIRE(syn);
  CHECK(std::equal(guest_ip.begin(), guest_ip.end(), syn->begin() + 30));
}

TEST_CASE("slirp: a port that cannot be published is an error naming it") {
  auto [s, port] = host_socket(SOCK_STREAM);
  REQUIRE(::listen(s, 1) == 0);
  auto forward = parse_port_forward(fmt::format("127.0.0.1:{}:80", port));
  REQUIRE(forward);
  auto stack = slirp_stack::start({*forward}, [](auto) {});
  ::close(s);
  REQUIRE_FALSE(stack);
  CHECK_THAT(stack.error().message, Catch::Contains(fmt::format("cannot publish 127.0.0.1:{}:80/tcp", port)));
}

TEST_CASE("slirp: frames beyond the inbox are dropped and counted, not kept") {
  guest_side guest;
  auto stack = slirp_stack::start({}, [&](auto frames) { guest.take(std::move(frames)); });
  REQUIRE(stack);
  std::vector<frame_bytes> flood(frame_inbox::default_limit / 60000 + 8, frame_bytes(60000, 0));
  (*stack)->send(std::move(flood));
  const auto counters = (*stack)->counters();
  CHECK(counters.in_frames + counters.dropped == frame_inbox::default_limit / 60000 + 8);
  CHECK(counters.dropped >= 1);
}

TEST_CASE("published ports: docker run -p's forms, and what is wrong with each bad one") {
  auto f = parse_port_forward("8080:80");
  REQUIRE(f);
  CHECK(to_string(*f) == "0.0.0.0:8080:80/tcp");
  f = parse_port_forward("127.0.0.1:5353:53/udp");
  REQUIRE(f);
  CHECK(to_string(*f) == "127.0.0.1:5353:53/udp");
  CHECK(parse_port_forward("80").error().message.find("is not [HOST_IP:]HOST_PORT:GUEST_PORT") != std::string::npos);
  CHECK(parse_port_forward("0:80").error().message.find("the host port \"0\"") != std::string::npos);
  CHECK(parse_port_forward("8080:70000").error().message.find("the guest port \"70000\"") != std::string::npos);
  CHECK(parse_port_forward("8080:80/sctp").error().message.find("tcp or udp") != std::string::npos);
  CHECK(parse_port_forward("1.2.3:8080:80").error().message.find("not an IPv4 address") != std::string::npos);
  CHECK(parse_port_forward("1.2.3.256:8080:80").error().message.find("not an IPv4 address") != std::string::npos);
  CHECK_FALSE(parse_port_forward("a:b:c:d"));
  CHECK_FALSE(parse_port_forward("+80:80"));
}

namespace {

/// Sets the host's side of TAP `name` to 10.199.0.1/24, up.
void host_address(const std::string& name) {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name.c_str());
  auto* a = reinterpret_cast<sockaddr_in*>(&ifr.ifr_addr);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(0x0ac70001);
  CHECK(ioctl(s, SIOCSIFADDR, &ifr) == 0);
  a->sin_addr.s_addr = htonl(0xffffff00);
  CHECK(ioctl(s, SIOCSIFNETMASK, &ifr) == 0);
  CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
  ifr.ifr_flags |= IFF_UP;
  CHECK(ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
  ::close(s);
}

}  // namespace

TEST_CASE("tap: the host's kernel answers the guest's ARP through the TAP device") {
  if (::geteuid() != 0 || ::access("/dev/net/tun", R_OK | W_OK) != 0) {
    WARN("not root, or no /dev/net/tun: the TAP is not tried here (CI runs as root)");
    return;
  }
  guest_side guest;
  const std::string name = fmt::format("smvmt{}", ::getpid() % 100000);
  auto tap = tap_device::open(name, [&](auto frames) { guest.take(std::move(frames)); });
  REQUIRE(tap);
  host_address(name);
  (*tap)->send({arp_request({10, 199, 0, 1}, {10, 199, 0, 2})});
  auto reply = guest.wait_for(is_arp_reply);
  REQUIRE(reply);
  CHECK(std::equal(guest_mac.begin(), guest_mac.end(), reply->begin()));
  const std::array<std::uint8_t, 4> host{10, 199, 0, 1};
  CHECK(std::equal(host.begin(), host.end(), reply->begin() + 28));
  CHECK((*tap)->counters().in_frames == 1);
}

TEST_CASE("tap: a name that is no interface name, or a TAP that cannot be had, is an error saying why") {
  auto bad = tap_device::open("a-name-longer-than-15", [](auto) {});
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("an interface name is 1 to 15 characters"));
  if (::geteuid() != 0) return;
  // Root can make any TAP; one that is another kind of device cannot be had.
  auto lo = tap_device::open("lo", [](auto) {});
  REQUIRE_FALSE(lo);
  CHECK_THAT(lo.error().message, Catch::Contains("tap lo: cannot attach to it"));
}
