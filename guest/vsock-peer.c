// vsock-peer: the guest side of tests/e2e/vsock.sh. Exchanges BYTES bytes
// each way with the host peer (tests/e2e/vsock_host.cpp) over AF_VSOCK:
//   vsock-peer serve PORT BYTES    listen on PORT, accept one connection
//   vsock-peer connect PORT BYTES  connect to the host (CID 2) on PORT
//   vsock-peer flood PORT CONNS    open CONNS connections to the host's PORT
//     and write to all of them for 10 s, as fast as each takes bytes; then
//     "flood: N connections, B bytes, the last write T ms before the end"
//     (a host that never reads should stop the flood with its credit)
// Both directions run at once; each side prints what it sent and received
// as "guest sent N checksum X" / "guest received N checksum X" (FNV-1a 64
// over the bytes), for the suite to compare with the host peer's lines.
//
// The end needs no half-close, which Firecracker-style devices do not carry
// (a host EOF shuts both directions; a guest SHUT_WR never reaches the
// host): each side reads exactly BYTES, the host then closes, and this side
// waits for that EOF before exiting, so the VM never stops while its last
// bytes are still on their way to the host.
// Exit: 0 done, 1 an error, 2 usage, 3 connect failed.
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
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
// The guest-to-host pattern's seed (the host's is 0x9e3779b97f4a7c15); the
// same in vsock_host.cpp.
static const uint64_t to_host_seed = 0xd1b54a32d192ed03ull;

static void die(const char* what) { printf("%s: %s\n", what, strerror(errno)); exit(1); }

static unsigned char out_buf[CHUNK], in_buf[CHUNK];

static void exchange(int fd, uint64_t n) {
  struct pattern pat = {to_host_seed, 0, 0};
  uint64_t sent = 0, got = 0, sent_sum = fnv1a_basis, got_sum = sent_sum;
  size_t off = 0, len = 0;  // out_buf[off, len) is generated but not yet sent
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  while (sent < n || got < n) {
    struct pollfd p = {fd, (short)((got < n ? POLLIN : 0) | (sent < n ? POLLOUT : 0)), 0};
    int r = poll(&p, 1, STALL_MS);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) die("poll");
    if (r == 0) { printf("stalled for %d s: sent %llu, received %llu of %llu\n", STALL_MS / 1000,
                         (unsigned long long)sent, (unsigned long long)got, (unsigned long long)n); exit(1); }
    if (got < n && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = read(fd, in_buf, n - got < CHUNK ? n - got : CHUNK);
      if (k == 0) { printf("EOF after %llu of %llu bytes\n", (unsigned long long)got, (unsigned long long)n); exit(1); }
      if (k < 0 && errno != EAGAIN) die("read");
      if (k > 0) { fnv1a(&got_sum, in_buf, k); got += k; }
    }
    if (sent < n && (p.revents & (POLLOUT | POLLHUP | POLLERR))) {
      if (off == len) {
        len = n - sent < CHUNK ? n - sent : CHUNK; off = 0;
        pattern_fill(&pat, out_buf, len); fnv1a(&sent_sum, out_buf, len);
      }
      ssize_t k = write(fd, out_buf + off, len - off);
      if (k < 0 && errno != EAGAIN) die("write");
      if (k > 0) { off += k; sent += k; }
    }
  }
  // The host closes once it has all our bytes; any more data is an error.
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, STALL_MS) <= 0) { printf("no EOF from the host within %d s\n", STALL_MS / 1000); exit(1); }
  ssize_t k = read(fd, in_buf, 1);
  if (k > 0) { printf("more than %llu bytes from the host\n", (unsigned long long)n); exit(1); }
  if (k < 0 && errno != ECONNRESET) die("read at the end");
  close(fd);
  printf("guest sent %llu checksum %016llx\n", (unsigned long long)sent, (unsigned long long)sent_sum);
  printf("guest received %llu checksum %016llx\n", (unsigned long long)got, (unsigned long long)got_sum);
}

static int connect_host(unsigned port) {
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_HOST};
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) die("socket(AF_VSOCK)");
  // Linux gives up a vsock connect after 2 s by default; a nested guest's
  // host may take longer to answer, and a refusal comes at once anyway.
  struct timeval limit = {30, 0};
  setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &limit, sizeof limit);
  if (connect(fd, (struct sockaddr*)&addr, sizeof addr) != 0) {
    printf("connect failed: %s\n", strerror(errno));
    exit(3);
  }
  return fd;
}

static long long now_ms(void) {
  struct timeval t;
  gettimeofday(&t, NULL);
  return t.tv_sec * 1000LL + t.tv_usec / 1000;
}

static void flood(unsigned port, unsigned conns) {
  enum { MAX_CONNS = 256, SECONDS = 10 };
  if (conns > MAX_CONNS) conns = MAX_CONNS;
  static struct pollfd fds[MAX_CONNS];
  for (unsigned i = 0; i < conns; i++) {
    fds[i].fd = connect_host(port);
    fds[i].events = POLLOUT;
    fcntl(fds[i].fd, F_SETFL, fcntl(fds[i].fd, F_GETFL) | O_NONBLOCK);
  }
  printf("flooding %u connections\n", conns);
  memset(out_buf, 'f', sizeof out_buf);
  unsigned long long total = 0;
  long long start = now_ms(), last = start;
  while (now_ms() - start < SECONDS * 1000) {
    if (poll(fds, conns, 200) <= 0) continue;
    for (unsigned i = 0; i < conns; i++) {
      if (!(fds[i].revents & POLLOUT)) continue;
      ssize_t k = write(fds[i].fd, out_buf, sizeof out_buf);
      if (k > 0) { total += (unsigned long long)k; last = now_ms(); }
      else if (k < 0 && errno != EAGAIN) die("write");
    }
  }
  printf("flood: %u connections, %llu bytes, the last write %lld ms before the end\n", conns, total,
         start + SECONDS * 1000 - last);
}

int main(int argc, char** argv) {
  char* end = NULL;
  unsigned long port = argc == 4 ? strtoul(argv[2], &end, 10) : 0;
  unsigned long long n = argc == 4 && *end == '\0' ? strtoull(argv[3], &end, 10) : 0;
  if (argc != 4 || *end != '\0' || port == 0 || port > 0xffffffffUL ||
      (strcmp(argv[1], "serve") != 0 && strcmp(argv[1], "connect") != 0 && strcmp(argv[1], "flood") != 0)) {
    fprintf(stderr, "usage: vsock-peer serve|connect PORT BYTES, or flood PORT CONNECTIONS\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);  // a closed peer is an EPIPE to report, not a silent death
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argv[1][0] == 'f') {
    flood((unsigned)port, (unsigned)n);
    return 0;
  }
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = (unsigned)port};
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
  if (fd < 0) die("socket(AF_VSOCK)");
  if (argv[1][0] == 's') {
    addr.svm_cid = VMADDR_CID_ANY;
    if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0) die("bind");
    if (listen(fd, 1) != 0) die("listen");
    printf("listening\n");
    int c = accept(fd, NULL, NULL);
    if (c < 0) die("accept");
    close(fd);
    fd = c;
  } else {
    close(fd);
    fd = connect_host((unsigned)port);
  }
  exchange(fd, n);
  return 0;
}
