// smvm-test-vsock-host: the host side of tests/e2e/vsock.sh, against the
// guest's guest/vsock-peer through smvm's vsock device (Unix sockets on the
// host, the Firecracker way).
//   smvm-test-vsock-host connect [--retry-until-ok SECONDS] UDS PORT BYTES
//     connects to UDS (up to 60 s for it to appear), sends "CONNECT PORT\n"
//     and wants "OK <n>\n"; with --retry-until-ok, an EOF instead (nothing
//     listens in the guest yet) means a fresh connection 200 ms later, until
//     SECONDS have passed.
//   smvm-test-vsock-host listen PATH BYTES
//     listens at PATH for the guest's connection to the host (120 s at most).
// Then BYTES each way at once: the host-to-guest pattern out, the guest's in,
// and "host sent N checksum X" / "host received N checksum X", the same
// pattern and FNV-1a 64 as vsock-peer.c. The host closes first, once it has
// all BYTES; the guest waits for that EOF (see vsock-peer.c for why).
// Exit: 0 done, 1 an error, 2 usage, 3 no OK, 4 no connection to PATH in 120 s.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
constexpr size_t chunk = 64 * 1024;
constexpr int stall_ms = 60000;
constexpr uint64_t to_guest_seed = 0x9e3779b97f4a7c15ull;  // vsock-peer.c has the guest's

[[noreturn]] void fail(const std::string& what, int status = 1) {
  std::printf("%s\n", what.c_str());
  std::exit(status);
}
[[noreturn]] void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

// xorshift64's words, low byte first: any chunking gives the same stream.
struct pattern {
  uint64_t state, word = 0;
  int left = 0;
  void fill(unsigned char* buf, size_t n) {
    for (size_t i = 0; i < n; i++) {
      if (left == 0) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        word = state; left = 8;
      }
      buf[i] = static_cast<unsigned char>(word); word >>= 8; left--;
    }
  }
};
void fnv1a(uint64_t& h, const unsigned char* buf, size_t n) {
  for (size_t i = 0; i < n; i++) { h ^= buf[i]; h *= 0x100000001b3ull; }
}

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) fail("socket path too long: " + path, 2);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// A connection to UDS; smvm may not have made it yet (ENOENT) or be about
// to listen on it (ECONNREFUSED): tried again every 100 ms until deadline.
int connect_uds(const std::string& path, clock_type::time_point deadline) {
  const sockaddr_un a = unix_address(path);
  for (;;) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail_errno("socket");
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) return fd;
    const int e = errno;
    close(fd);
    if ((e != ENOENT && e != ECONNREFUSED) || clock_type::now() >= deadline)
      fail("cannot connect to " + path + ": " + std::strerror(e));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// One line, a byte at a time so that nothing after it is taken from the
// stream. Empty, with why saying why, if none came whole by deadline.
std::string read_line(int fd, clock_type::time_point deadline, std::string& why) {
  std::string line;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || poll(&p, 1, static_cast<int>(left)) == 0) { why = "no line in time, got '" + line + "'"; return {}; }
    char c;
    const ssize_t k = read(fd, &c, 1);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) { why = std::string("read: ") + std::strerror(errno); return {}; }
    if (k == 0) { why = line.empty() ? "EOF" : "EOF after '" + line + "'"; return {}; }
    if (c == '\n') return line;
    line += c;
    if (line.size() > 200) { why = "a line longer than 200 bytes: '" + line + "'"; return {}; }
  }
}

void exchange(int fd, uint64_t n) {
  pattern pat{to_guest_seed};
  uint64_t sent = 0, got = 0, sent_sum = 0xcbf29ce484222325ull, got_sum = sent_sum;
  std::vector<unsigned char> out(chunk), in(chunk);
  size_t off = 0, len = 0;  // out[off, len) is generated but not yet sent
  while (sent < n || got < n) {
    pollfd p{fd, static_cast<short>((got < n ? POLLIN : 0) | (sent < n ? POLLOUT : 0)), 0};
    const int r = poll(&p, 1, stall_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail_errno("poll");
    if (r == 0)
      fail("stalled for " + std::to_string(stall_ms / 1000) + " s: sent " + std::to_string(sent) + ", received " +
           std::to_string(got) + " of " + std::to_string(n));
    if (got < n && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      const ssize_t k = recv(fd, in.data(), std::min<uint64_t>(n - got, chunk), MSG_DONTWAIT);
      if (k == 0) fail("EOF after " + std::to_string(got) + " of " + std::to_string(n) + " bytes");
      if (k < 0 && errno != EAGAIN && errno != EINTR) fail_errno("read");
      if (k > 0) { fnv1a(got_sum, in.data(), k); got += k; }
    }
    if (sent < n && (p.revents & (POLLOUT | POLLHUP | POLLERR))) {
      if (off == len) {
        len = std::min<uint64_t>(n - sent, chunk); off = 0;
        pat.fill(out.data(), len); fnv1a(sent_sum, out.data(), len);
      }
      const ssize_t k = send(fd, out.data() + off, len - off, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (k < 0 && errno != EAGAIN && errno != EINTR) fail_errno("write");
      if (k > 0) { off += k; sent += k; }
    }
  }
  close(fd);  // the guest waits for this EOF before it ends
  std::printf("host sent %llu checksum %016llx\n", static_cast<unsigned long long>(sent),
              static_cast<unsigned long long>(sent_sum));
  std::printf("host received %llu checksum %016llx\n", static_cast<unsigned long long>(got),
              static_cast<unsigned long long>(got_sum));
}

int connect_mode(const std::string& uds, unsigned long port, double retry_seconds) {
  const auto start = clock_type::now();
  const auto ok_deadline = start + std::chrono::duration_cast<clock_type::duration>(
                                       std::chrono::duration<double>(retry_seconds));
  const auto socket_deadline = std::max(start + std::chrono::seconds(60), ok_deadline);
  for (;;) {
    const int fd = connect_uds(uds, socket_deadline);
    const std::string request = "CONNECT " + std::to_string(port) + "\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      fail_errno("write CONNECT");
    std::string why;
    // An answer may take a while from a nested guest; 60 s, or what
    // --retry-until-ok leaves if that is longer.
    const std::string line = read_line(fd, std::max(clock_type::now() + std::chrono::seconds(60), ok_deadline), why);
    const bool eof = why.rfind("EOF", 0) == 0 || why.rfind("read:", 0) == 0;
    if (line.empty() && eof && clock_type::now() < ok_deadline) {
      close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    const bool is_ok = line.size() > 3 && line.rfind("OK ", 0) == 0 &&
                       line.find_first_not_of("0123456789", 3) == std::string::npos;
    if (!is_ok) fail("no OK: " + (line.empty() ? why : "'" + line + "'"), 3);
    std::printf("host got OK\n");
    std::fflush(stdout);
    return fd;
  }
}

int listen_mode(const std::string& path) {
  const sockaddr_un a = unix_address(path);
  unlink(path.c_str());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail_errno("socket");
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) fail_errno("bind " + path);
  if (listen(fd, 1) != 0) fail_errno("listen");
  std::printf("listening\n");
  std::fflush(stdout);
  pollfd p{fd, POLLIN, 0};
  int r;
  while ((r = poll(&p, 1, 120000)) < 0 && errno == EINTR) {}
  if (r == 0) fail("no connection to " + path + " in 120 s", 4);
  const int c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0) fail_errno("accept");
  close(fd);
  unlink(path.c_str());
  return c;
}

bool number(const char* s, unsigned long long max, unsigned long long& v) {
  char* end = nullptr;
  errno = 0;
  v = std::strtoull(s, &end, 10);
  return *s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && v <= max;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  double retry = 0;
  if (args.size() >= 3 && args[0] == "connect" && args[1] == "--retry-until-ok") {
    retry = std::atof(args[2].c_str());
    args.erase(args.begin() + 1, args.begin() + 3);
  }
  unsigned long long port = 0, n = 0;
  const bool ok = args.size() == 4 && args[0] == "connect" ? number(args[2].c_str(), 0xffffffffull, port) &&
                                                                 number(args[3].c_str(), ~0ull, n)
                  : args.size() == 3 && args[0] == "listen" ? number(args[2].c_str(), ~0ull, n)
                                                            : false;
  if (!ok || retry < 0) {
    std::fprintf(stderr,
                 "usage: smvm-test-vsock-host connect [--retry-until-ok SECONDS] UDS PORT BYTES\n"
                 "       smvm-test-vsock-host listen PATH BYTES\n");
    return 2;
  }
  const int fd = args[0] == "connect" ? connect_mode(args[1], port, retry) : listen_mode(args[1]);
  exchange(fd, n);
  return 0;
}
