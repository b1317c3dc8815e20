/* The agent's CONNECT: splices the connection to a TCP port on the guest's
 * loopback, so a host program reaches a server inside (smvm::vm::connect). */
#define _GNU_SOURCE
#include "agent.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void agent_connect(int conn, struct agent_frame* request) {
  const char* text = agent_record(request, "port");
  char* end = NULL;
  unsigned long port = text ? strtoul(text, &end, 10) : 0;
  if (!text || !*text || *end || port == 0 || port > 65535) {
    agent_send_error(conn, "connect: '%s' is not a TCP port", text ? text : "");
    return;
  }
  int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (tcp < 0 || connect(tcp, (struct sockaddr*)&addr, sizeof addr)) {
    agent_send_error(conn, "connect to port %lu in the guest: %s", port, strerror(errno));
    if (tcp >= 0) close(tcp);
    return;
  }
  if (agent_send(conn, SMVM_AGENT_OK, NULL, 0)) {
    close(tcp);
    return;
  }
  /* Both ways until both have ended; an end is passed on as a shutdown. */
  static char buffer[SMVM_AGENT_MAX_PAYLOAD];
  int ends[2] = {conn, tcp}, open_from[2] = {1, 1};
  while (open_from[0] || open_from[1]) {
    struct pollfd fds[2] = {{open_from[0] ? conn : -1, POLLIN, 0}, {open_from[1] ? tcp : -1, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      ssize_t n = read(ends[i], buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0 && write_all(ends[1 - i], buffer, (size_t)n) == 0) continue;
      open_from[i] = 0;
      shutdown(ends[1 - i], SHUT_WR);
      if (n != 0) open_from[1 - i] = 0; /* an error, not an end: drop both */
    }
  }
  close(tcp);
}
