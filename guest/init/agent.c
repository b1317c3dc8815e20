/* The guest agent: a process beside the workload that accepts vsock
 * connections on SMVM_AGENT_PORT and serves each in a child of its own,
 * so operations run at once and one that fails takes nothing else down. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The agent must not write hvc0 (init's frames would interleave with its
 * own), so its own failures go to the kernel log (smvm run --kernel-log). */
static void agent_log(const char* what) {
  char line[256];
  int n = snprintf(line, sizeof line, "smvm-agent: %s: %s\n", what, strerror(errno));
  if (n > 0) kernel_log(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void start_agent(const struct run_spec* spec, int channel) {
  pid_t pid = fork();
  if (pid != 0) {
    if (pid < 0) agent_log("cannot start");
    return;
  }
  if (channel >= 0) close(channel);
  run_agent(spec);
}

void run_agent(const struct run_spec* spec) {
  signal(SIGCHLD, SIG_IGN); /* connections' children are reaped by the kernel */
  signal(SIGPIPE, SIG_IGN);
  int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_port = SMVM_AGENT_PORT, .svm_cid = VMADDR_CID_ANY};
  if (s < 0 || bind(s, (struct sockaddr*)&addr, sizeof addr) || listen(s, 64)) {
    agent_log("cannot listen on vsock");
    _exit(1);
  }
  for (;;) {
    int conn = accept4(s, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      if (errno != EINTR && errno != ECONNABORTED) {
        agent_log("accept");
        usleep(100000); /* not a spin, whatever keeps failing */
      }
      continue;
    }
    pid_t child = fork();
    if (child == 0) {
      close(s);
      signal(SIGCHLD, SIG_DFL);
      serve_agent_connection(conn, spec);
      _exit(0);
    }
    if (child < 0) agent_log("cannot serve a connection");
    close(conn);
  }
}
