/* smvm-test-agent-server SOCKET: the guest agent's own code
 * (guest/init/agent_*.c) served on the host, behind a Unix socket that
 * speaks the host side of Firecracker's vsock handshake as smvm's muxer
 * does. The agent client tests (tests/unit/agent_client_test.cpp) run
 * against it without KVM. Port SMVM_AGENT_PORT is the agent; any other
 * port is refused, as a guest with no listener there would be. */
#define _GNU_SOURCE
#include "../../guest/init/agent.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char path_env[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
static char image_env[] = "FROM_IMAGE=yes";

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: smvm-test-agent-server SOCKET\n");
    return 2;
  }
  static struct run_spec image;
  image.env[image.envc++] = path_env;
  image.env[image.envc++] = image_env;
  image.cwd = "/";
  image.user = "";
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  unlink(argv[1]);
  if (s < 0 || bind(s, (struct sockaddr*)&addr, sizeof addr) || listen(s, 64)) {
    perror("smvm-test-agent-server: listen");
    return 1;
  }
  signal(SIGCHLD, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) continue;
    if (fork() == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the server: nothing outlives a test */
      close(s);
      signal(SIGCHLD, SIG_DFL);
      char line[64];
      size_t n = 0;
      while (n < sizeof line - 1 && read(conn, line + n, 1) == 1 && line[n] != '\n') ++n;
      line[n] = 0;
      if (strcmp(line, "CONNECT 52") != 0) _exit(0); /* nothing listens there: the host sees EOF */
      if (write_all(conn, "OK 1073741824\n", 14) == 0) serve_agent_connection(conn, &image);
      _exit(0);
    }
    close(conn);
  }
}
