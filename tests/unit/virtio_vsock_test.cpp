// virtio-vsock by calling it: packets read from and written into chains,
// the muxer with real Unix sockets in a temporary folder (host clients,
// host listeners, credit, resets), and the device through its queues.
#include "devices/virtio/vsock/device.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

using namespace smvm;
using namespace smvm::devices::virtio;
using namespace smvm::devices::virtio::vsock;

namespace {

constexpr std::uint64_t guest = 3;

/// A chain over `bytes`: the first `readable` bytes device-readable, in
/// buffers of at most `piece` bytes, the rest device-writable.
struct test_chain {
  std::vector<std::uint8_t> bytes;
  chain c;
  test_chain(std::size_t readable, std::size_t writable, std::size_t piece = 1 << 20)
      : bytes(readable + writable) {
    for (std::size_t at = 0; at < bytes.size();) {
      const std::size_t end = at < readable ? std::min(readable, at + piece) : std::min(bytes.size(), at + piece);
      c.buffers.push_back({std::span(bytes).subspan(at, end - at), at >= readable});
      at = end;
    }
  }
};

header guest_header(std::uint16_t o, std::uint32_t src_port, std::uint32_t dst_port, std::uint32_t len = 0) {
  header h;
  h.src_cid = guest;
  h.dst_cid = host_cid;
  h.src_port = src_port;
  h.dst_port = dst_port;
  h.op = o;
  h.len = len;
  h.buf_alloc = 64 * 1024;
  return h;
}

/// A transmit chain holding `h` and `payload`, split into `piece`-byte buffers.
test_chain transmit(const header& h, const std::string& payload = "", std::size_t piece = 1 << 20) {
  test_chain t(header::size + payload.size(), 0, piece);
  h.encode(std::span<std::uint8_t, header::size>(t.bytes.data(), header::size));
  std::memcpy(t.bytes.data() + header::size, payload.data(), payload.size());
  return t;
}

std::string error_of(const test_chain& t) {
  header h;
  auto p = read_packet(t.c, guest, h);
  return p ? "" : p.error().message;
}

guest_packet packet(const header& h, const std::string& payload = "") {
  return guest_packet{h, std::vector<std::uint8_t>(payload.begin(), payload.end())};
}

/// A temporary folder for sockets, removed afterwards.
struct socket_dir {
  std::filesystem::path path;
  socket_dir() {
    char tmpl[] = "/tmp/smvm-vsock-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~socket_dir() { std::filesystem::remove_all(path); }
  std::string at(const std::string& name) const { return (path / name).string(); }
};

int connect_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  return fd;
}

int listen_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 8) == 0);
  return fd;
}

void send_text(int fd, const std::string& s) { REQUIRE(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size())); }

/// What `fd` has to read within a second ("" at end of file).
std::string receive_text(int fd, std::size_t at_most = 4096) {
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string s(at_most, '\0');
  const ssize_t n = ::recv(fd, s.data(), s.size(), 0);
  s.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return s;
}

/// The muxer and its socket folder.
struct mux_fixture {
  socket_dir dir;
  std::unique_ptr<muxer> mux;
  explicit mux_fixture(std::chrono::milliseconds answer_within = request_timeout) {
    auto m = muxer::open(guest, dir.at("v.sock"), answer_within);
    REQUIRE(m);
    mux = std::move(*m);
  }
  /// The next packet for the guest, after the host side has been polled.
  std::optional<std::pair<header, std::string>> next(std::size_t room = 4096) {
    mux->poll_host();
    header h;
    std::vector<std::uint8_t> payload(room);
    if (!mux->next_for_guest(h, payload)) return std::nullopt;
    return std::pair{h, std::string(payload.begin(), payload.begin() + h.len)};
  }
  /// A host client that asked for guest port `port`, answered by the guest:
  /// its socket and the host port it was given.
  std::pair<int, std::uint32_t> connected_client(std::uint32_t port) {
    int client = connect_unix(dir.at("v.sock"));
    send_text(client, "CONNECT " + std::to_string(port) + "\n");
    auto request = next();
    REQUIRE(request);
    REQUIRE(request->first.op == op::request);
    mux->from_guest(packet(guest_header(op::response, port, request->first.src_port)));
    REQUIRE(receive_text(client) == "OK " + std::to_string(request->first.src_port) + "\n");
    return {client, request->first.src_port};
  }
};

}  // namespace

TEST_CASE("vsock packet: a well-formed RW packet is read whole, even split over buffers") {
  auto t = transmit(guest_header(op::rw, 1000, 52, 11), "hello world", 7);
  header h;
  auto p = read_packet(t.c, guest, h);
  REQUIRE(p);
  CHECK(p->hdr.op == op::rw);
  CHECK(p->hdr.src_port == 1000);
  CHECK(std::string(p->payload.begin(), p->payload.end()) == "hello world");
}

TEST_CASE("vsock packet: each broken header rule is refused, naming it") {
  CHECK(error_of(test_chain(20, 0)) == "a packet of 20 readable bytes, shorter than its 44-byte header");
  auto h = guest_header(op::rw, 1, 2);
  h.type = 2;
  CHECK(error_of(transmit(h)) == "socket type 2, not a stream (1)");
  CHECK(error_of(transmit(guest_header(9, 1, 2))) == "unknown op 9");
  h = guest_header(op::request, 1, 2);
  h.src_cid = 7;
  CHECK(error_of(transmit(h)) == "source CID 7, not the guest's 3");
  h = guest_header(op::request, 1, 2);
  h.dst_cid = 5;
  CHECK(error_of(transmit(h)) == "destination CID 5, not the host's (2)");
  CHECK(error_of(transmit(guest_header(op::request, 1, 2, 4), "data")) == "REQUEST with 4 bytes of payload");
  CHECK(error_of(transmit(guest_header(op::rw, 1, 2, max_payload + 1))) == "a payload of 65537 bytes, more than 65536");
  CHECK(error_of(transmit(guest_header(op::rw, 1, 2, 100), "short")) ==
        "a header saying 100 bytes of payload in a chain holding 5");
}

TEST_CASE("vsock packet: a packet is written over the guest's receive buffers, or refused when it does not fit") {
  test_chain t(0, header::size + 8, 10);
  header h = guest_header(op::rw, 1, 2, 5);
  auto n = write_packet(t.c, h, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>("hello"), 5));
  REQUIRE(n);
  CHECK(*n == header::size + 5);
  CHECK(header::decode(std::span<const std::uint8_t, header::size>(t.bytes.data(), header::size)).len == 5);
  CHECK(std::string(t.bytes.begin() + header::size, t.bytes.begin() + header::size + 5) == "hello");
  CHECK(payload_room(t.c) == 8);
  test_chain small(0, 40);
  CHECK_FALSE(write_packet(small.c, h, {}));
}

TEST_CASE("vsock muxer: a host client's CONNECT becomes a REQUEST, the guest's RESPONSE its OK, then bytes both ways") {
  mux_fixture f;
  auto [client, port] = f.connected_client(52);
  CHECK(port >= (1u << 30));
  send_text(client, "from the host");
  auto data = f.next();
  REQUIRE(data);
  CHECK(data->first.op == op::rw);
  CHECK(data->first.dst_port == 52);
  CHECK(data->second == "from the host");
  f.mux->from_guest(packet(guest_header(op::rw, 52, port, 14), "from the guest"));
  CHECK(receive_text(client) == "from the guest");
  ::close(client);
}

TEST_CASE("vsock muxer: a CONNECT line that is not one closes the host client") {
  mux_fixture f;
  int client = connect_unix(f.dir.at("v.sock"));
  send_text(client, "HELLO 52\n");
  CHECK_FALSE(f.next());
  CHECK(receive_text(client).empty());  // end of file
  ::close(client);
}

TEST_CASE("vsock muxer: a guest that does not answer a REQUEST in time gets a reset, and the host client EOF") {
  mux_fixture f(std::chrono::milliseconds(50));
  int client = connect_unix(f.dir.at("v.sock"));
  send_text(client, "CONNECT 7\n");
  auto request = f.next();
  REQUIRE(request);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto rst = f.next();
  REQUIRE(rst);
  CHECK(rst->first.op == op::rst);
  CHECK(rst->first.dst_port == 7);
  CHECK(receive_text(client).empty());
  CHECK(f.mux->connection_count() == 0);
  ::close(client);
}

TEST_CASE("vsock muxer: a guest connecting to the host reaches the listener at uds_path_PORT; none there is a reset") {
  mux_fixture f;
  int listener = listen_unix(f.dir.at("v.sock_5000"));
  f.mux->from_guest(packet(guest_header(op::request, 1234, 5000)));
  auto response = f.next();
  REQUIRE(response);
  CHECK(response->first.op == op::response);
  CHECK(response->first.src_port == 5000);
  CHECK(response->first.dst_port == 1234);
  int server = ::accept(listener, nullptr, nullptr);
  REQUIRE(server >= 0);
  f.mux->from_guest(packet(guest_header(op::rw, 1234, 5000, 2), "hi"));
  CHECK(receive_text(server) == "hi");

  f.mux->from_guest(packet(guest_header(op::request, 1235, 5001)));  // nobody listens on 5001
  auto rst = f.next();
  REQUIRE(rst);
  CHECK(rst->first.op == op::rst);
  CHECK(rst->first.dst_port == 1235);
  ::close(server);
  ::close(listener);
}

TEST_CASE("vsock muxer: packets for no connection are answered with a reset, and a reset is not") {
  mux_fixture f;
  f.mux->from_guest(packet(guest_header(op::rw, 9, 10, 1), "x"));
  auto rst = f.next();
  REQUIRE(rst);
  CHECK(rst->first.op == op::rst);
  f.mux->from_guest(packet(guest_header(op::rst, 9, 10)));
  CHECK_FALSE(f.next());
}

TEST_CASE("vsock muxer: resets owed for strays are bounded") {
  mux_fixture f;
  for (std::uint32_t i = 0; i < 10 * max_pending_resets; ++i) f.mux->from_guest(packet(guest_header(op::rw, i, 10)));
  std::size_t owed = 0;
  while (f.next()) ++owed;
  CHECK(owed == max_pending_resets);
}

TEST_CASE("vsock muxer: the host sends the guest no more than the guest's credit") {
  mux_fixture f;
  int client = connect_unix(f.dir.at("v.sock"));
  send_text(client, "CONNECT 52\n");
  auto request = f.next();
  REQUIRE(request);
  auto response = guest_header(op::response, 52, request->first.src_port);
  response.buf_alloc = 8;  // the guest has room for 8 bytes
  f.mux->from_guest(packet(response));
  REQUIRE(receive_text(client).rfind("OK ", 0) == 0);
  send_text(client, "0123456789abcdef");
  auto first = f.next();
  REQUIRE(first);
  CHECK(first->second == "01234567");
  CHECK_FALSE(f.next());  // out of credit: the rest waits in the socket
  auto update = guest_header(op::credit_update, 52, request->first.src_port);
  update.buf_alloc = 8;
  update.fwd_cnt = 8;  // the guest's application read them
  f.mux->from_guest(packet(update));
  auto second = f.next();
  REQUIRE(second);
  CHECK(second->second == "89abcdef");
  ::close(client);
}

TEST_CASE("vsock muxer: a guest sending beyond its credit is reset, and the host client sees the end") {
  mux_fixture f;
  auto [client, port] = f.connected_client(52);
  // The host client reads nothing, so the guest's bytes pile up in smvm.
  const std::string chunk(max_payload, 'g');
  bool reset = false;
  for (int i = 0; i < 200 && !reset; ++i) {
    f.mux->from_guest(packet(guest_header(op::rw, 52, port, max_payload), chunk));
    while (auto p = f.next()) reset = reset || p->first.op == op::rst;
  }
  CHECK(reset);
  CHECK(f.mux->connection_count() == 0);
  ::close(client);
}

TEST_CASE("vsock muxer: the host's end of file becomes SHUTDOWN; the guest's close, a reset and the host's EOF") {
  mux_fixture f;
  auto [client, port] = f.connected_client(52);
  ::shutdown(client, SHUT_WR);
  auto shutdown = f.next();
  REQUIRE(shutdown);
  CHECK(shutdown->first.op == op::shutdown);
  CHECK(shutdown->first.flags == shutdown_flag::send);
  // The guest may still send: the host only stopped sending.
  f.mux->from_guest(packet(guest_header(op::rw, 52, port, 4), "last"));
  CHECK(receive_text(client) == "last");
  auto close = guest_header(op::shutdown, 52, port);
  close.flags = shutdown_flag::both;
  f.mux->from_guest(packet(close));
  auto rst = f.next();
  REQUIRE(rst);
  CHECK(rst->first.op == op::rst);
  CHECK(receive_text(client).empty());
  CHECK(f.mux->connection_count() == 0);
  ::close(client);
}

TEST_CASE("vsock muxer: a socket file a program listens on is not taken over") {
  socket_dir dir;
  int listener = listen_unix(dir.at("busy.sock"));
  auto m = muxer::open(guest, dir.at("busy.sock"));
  REQUIRE_FALSE(m);
  CHECK(m.error().message == dir.at("busy.sock") + " is in use: another program (another VM?) listens on it");
  ::close(listener);
  CHECK(muxer::open(guest, dir.at("busy.sock")));  // a stale one is replaced
}

TEST_CASE("virtio-vsock device: a guest REQUEST on the transmit queue is answered on the receive queue") {
  test::test_memory m;
  socket_dir dir;
  int listener = listen_unix(dir.at("v.sock_80"));
  auto d = vsock::device::open(m, guest, dir.at("v.sock"));
  REQUIRE(d);
  auto& device = **d;
  CHECK(device.config_space()[0] == guest);
  // rx rings at 0x1000.., tx at 0x4000.., event at 0x7000..; buffers from 0x9000.
  std::vector<queue_config> queues{{8, 0x1000, 0x2000, 0x3000}, {8, 0x4000, 0x5000, 0x6000}, {8, 0x7000, 0x8000, 0x8800}};
  REQUIRE(device.activate(feature::version_1, queues));
  auto offer = [&](std::uint64_t table, std::uint64_t ring, std::uint64_t address, std::uint32_t length, bool writable) {
    m.put<std::uint64_t>(table, address);
    m.put<std::uint32_t>(table + 8, length);
    m.put<std::uint16_t>(table + 12, writable ? desc_flags::write : 0);
    m.put<std::uint16_t>(ring + 4, 0);
    m.put<std::uint16_t>(ring + 2, 1);
  };
  offer(0x1000, 0x2000, 0x9000, 4096, true);
  auto request = guest_header(op::request, 1234, 80);
  request.encode(std::span<std::uint8_t, header::size>(m.ram.data() + 0xa000, header::size));
  offer(0x4000, 0x5000, 0xa000, header::size, false);
  auto served = device.process_queue(vsock::device::tx_queue);
  REQUIRE(served);
  CHECK(*served);
  CHECK(m.get<std::uint16_t>(0x3002) == 1);  // one receive buffer used
  auto answer = header::decode(std::span<const std::uint8_t, header::size>(m.ram.data() + 0x9000, header::size));
  CHECK(answer.op == op::response);
  CHECK(answer.dst_cid == guest);
  CHECK(answer.dst_port == 1234);
  ::close(listener);

  // Restored, the guest is told its connections are gone; host programs'
  // connections wait until it has handled that (its next event notify).
  auto reset_state = [&device] {  // (resetting, backend wanted), asked of the lent server
    auto lent = device.lend(0);
    auto& server = static_cast<vsock::connection_server&>(*lent);
    auto state = std::pair(server.resetting(), server.backend_wanted());
    device.take_back(0, std::move(lent));
    return state;
  };
  CHECK(reset_state() == std::pair(false, true));
  REQUIRE(device.restore_extra({}));
  CHECK(reset_state() == std::pair(true, false));
  offer(0x7000, 0x8000, 0xb000, 4, true);
  REQUIRE(device.process_queue(vsock::device::event_queue));
  CHECK(m.get<std::uint16_t>(0x8802) == 1);
  CHECK(m.get<std::uint32_t>(0xb000) == 0);  // VIRTIO_VSOCK_EVENT_TRANSPORT_RESET
  CHECK(reset_state() == std::pair(true, false));  // written, not yet handled
  REQUIRE(device.process_queue(vsock::device::event_queue));  // a notify with no buffer back: still not
  CHECK(reset_state() == std::pair(true, false));
  m.put<std::uint16_t>(0x8000 + 4 + 2, 0);  // the guest gives the buffer back (ring entry 1) and notifies
  m.put<std::uint16_t>(0x8000 + 2, 2);
  REQUIRE(device.process_queue(vsock::device::event_queue));
  CHECK(reset_state() == std::pair(false, true));
}
