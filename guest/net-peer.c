// net-peer: the guest side of tests/e2e/net.sh. Two guests exchange BYTES
// bytes each way over TCP, at once, and print what they sent and received
// as "sent N checksum X" / "received N checksum X" (guest/peer_pattern.h),
// for the suite to compare across the two VMs; the time it took and the
// rate, as "exchanged in T ms, R KB/s each way".
//   net-peer serve PORT BYTES                 accept one connection on PORT
//   net-peer connect IP PORT BYTES SECONDS    connect, retrying for SECONDS
//                                             while nothing listens yet
//   net-peer probe IP PORT SECONDS            one connect, given up after
//                                             SECONDS: "connected" or
//                                             "connect failed: ..."
//   net-peer flood IP PORT SECONDS            UDP datagrams to IP:PORT as
//                                             fast as they go, for SECONDS
// Each side half-closes once it has sent everything, so each reads exactly
// BYTES and then EOF: nothing is cut short and nothing extra arrives; and
// closes only once the peer has acknowledged all it sent (SO_LINGER), so a
// VM that powers off next loses nothing in flight.
// Exit: 0 done, 1 an error, 2 usage, 3 connect failed.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "peer_pattern.h"

enum { CHUNK = 64 * 1024, STALL_MS = 60000 };
static const uint64_t server_seed = 0x9e3779b97f4a7c15ull, client_seed = 0xd1b54a32d192ed03ull;

static void die(const char* what) { printf("%s: %s\n", what, strerror(errno)); exit(1); }
static unsigned char out_buf[CHUNK], in_buf[CHUNK];

static long long now_ms(void) {
  struct timeval t;
  gettimeofday(&t, NULL);
  return t.tv_sec * 1000LL + t.tv_usec / 1000;
}

static void exchange(int fd, uint64_t n, uint64_t seed) {
  struct pattern pat = {seed, 0, 0};
  uint64_t sent = 0, got = 0, sent_sum = fnv1a_basis, got_sum = fnv1a_basis;
  size_t off = 0, len = 0;  // out_buf[off, len) is made but not yet sent
  int eof = 0, shut = 0;
  long long start = now_ms();
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  while (!eof || sent < n) {
    if (sent == n && !shut) { shutdown(fd, SHUT_WR); shut = 1; }
    struct pollfd p = {fd, (short)((eof ? 0 : POLLIN) | (sent < n ? POLLOUT : 0)), 0};
    int r = poll(&p, 1, STALL_MS);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("poll");
    if (r == 0) { printf("stalled for %d s: sent %llu, received %llu of %llu\n", STALL_MS / 1000,
                         (unsigned long long)sent, (unsigned long long)got, (unsigned long long)n); exit(1); }
    if (!eof && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = read(fd, in_buf, CHUNK);
      if (k == 0) eof = 1;
      if (k < 0 && errno != EAGAIN) die("read");
      if (k > 0) { fnv1a(&got_sum, in_buf, (size_t)k); got += (uint64_t)k; }
    }
    if (sent < n && (p.revents & (POLLOUT | POLLERR))) {
      if (off == len) {
        len = n - sent < CHUNK ? n - sent : CHUNK; off = 0;
        pattern_fill(&pat, out_buf, len); fnv1a(&sent_sum, out_buf, len);
      }
      ssize_t k = write(fd, out_buf + off, len - off);
      if (k < 0 && errno != EAGAIN) die("write");
      if (k > 0) { off += (size_t)k; sent += (uint64_t)k; }
    }
  }
  long long ms = now_ms() - start;
  // Our last bytes may still wait for the peer's acknowledgement (a lost
  // segment is sent again): close only once they are acknowledged, or the
  // VM may power off with them unsent.
  struct linger l = {1, STALL_MS / 1000};
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(fd);
  printf("sent %llu checksum %016llx\n", (unsigned long long)sent, (unsigned long long)sent_sum);
  printf("received %llu checksum %016llx\n", (unsigned long long)got, (unsigned long long)got_sum);
  printf("exchanged in %lld ms, %llu KB/s each way\n", ms, ms ? (unsigned long long)(n / (uint64_t)ms) : 0ULL);
  if (got != n) exit(1);
}

static struct sockaddr_in address(const char* ip, unsigned long port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) { fprintf(stderr, "net-peer: %s is not an IPv4 address\n", ip); exit(2); }
  return a;
}

/// One connect, given up after `seconds`: the socket, or -1 with errno set.
static int connect_within(struct sockaddr_in a, int seconds) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) == 0) return fd;
  if (errno != EINPROGRESS) { int e = errno; close(fd); errno = e; return -1; }
  struct pollfd p = {fd, POLLOUT, 0};
  int r = poll(&p, 1, seconds * 1000);
  int err = 0;
  socklen_t len = sizeof err;
  if (r <= 0) err = ETIMEDOUT;
  else getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) { close(fd); errno = err; return -1; }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

static void flood(struct sockaddr_in a, int seconds) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1;
  if (fd < 0) die("socket");
  setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);  // a broadcast address floods every port
  memset(out_buf, 'f', 1400);
  unsigned long long datagrams = 0;
  long long end = now_ms() + seconds * 1000LL;
  while (now_ms() < end)
    for (int i = 0; i < 64; i++)
      if (sendto(fd, out_buf, 1400, 0, (struct sockaddr*)&a, sizeof a) == 1400) datagrams++;
  printf("flood: %llu datagrams of 1400 bytes in %d s\n", datagrams, seconds);
}

static unsigned long number(const char* s) {
  char* end;
  unsigned long long v = strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0') { fprintf(stderr, "net-peer: %s is not a number\n", s); exit(2); }
  return (unsigned long)v;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);  // a closed peer is an EPIPE to report, not a silent death
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "serve") == 0 && argc == 4) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)number(argv[2]))};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr*)&a, sizeof a) != 0) die("bind");
    if (listen(fd, 1) != 0) die("listen");
    printf("listening on %s\n", argv[2]);
    int c = accept(fd, NULL, NULL);
    if (c < 0) die("accept");
    close(fd);
    exchange(c, number(argv[3]), server_seed);
    return 0;
  }
  if (strcmp(mode, "connect") == 0 && argc == 6) {
    struct sockaddr_in a = address(argv[2], number(argv[3]));
    long long give_up = now_ms() + (long long)number(argv[5]) * 1000;
    int fd;
    while ((fd = connect_within(a, 5)) < 0) {
      if (now_ms() >= give_up) { printf("connect failed: %s\n", strerror(errno)); return 3; }
      usleep(200 * 1000);  // the listener is not up yet
    }
    exchange(fd, number(argv[4]), client_seed);
    return 0;
  }
  if (strcmp(mode, "probe") == 0 && argc == 5) {
    int fd = connect_within(address(argv[2], number(argv[3])), (int)number(argv[4]));
    if (fd < 0) { printf("connect failed: %s\n", strerror(errno)); return 3; }
    printf("connected\n");
    close(fd);
    return 0;
  }
  if (strcmp(mode, "flood") == 0 && argc == 5) {
    flood(address(argv[2], number(argv[3])), (int)number(argv[4]));
    return 0;
  }
  fprintf(stderr, "usage: net-peer serve PORT BYTES | connect IP PORT BYTES SECONDS | probe IP PORT SECONDS | "
                  "flood IP PORT SECONDS\n");
  return 2;
}
