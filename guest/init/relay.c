/* Runs the workload and relays its stdio as frames over the channel:
 * stdout and stderr out, stdin and signals in. Reaps every orphan (init is
 * PID 1) and returns when the workload has exited and its output is out. */
#define _GNU_SOURCE
#include "init.h"

#include "../../common/stream_protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

void send_frame(int channel, int type, const void* data, size_t len) {
  unsigned char header[SMVM_FRAME_HEADER_SIZE] = {(unsigned char)type, 0, (unsigned char)(len & 0xff),
                                                  (unsigned char)(len >> 8)};
  write_all(channel, header, sizeof header);
  write_all(channel, data, len);
}

/* In the child: its stdio, then the user, the folder, exec. Never returns. */
static void exec_workload(const struct run_spec* spec, const struct identity* id, int in, int out, int err) {
  setsid();
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  for (int fd = 3; fd < 64; ++fd) close(fd);
  const int failure = exec_as(spec, id);
  char why[600];
  describe_exec_failure(failure, spec, id, why, sizeof why);
  fprintf(stderr, "smvm-init: %s\n", why);
  if (EXEC_FAILURE_STEP(failure) != EXEC_STEP_RUN) _exit(SMVM_STATUS_INIT_FAILED);
  _exit(EXEC_FAILURE_ERRNO(failure) == ENOENT ? SMVM_STATUS_NOT_FOUND : SMVM_STATUS_NOT_EXECUTABLE);
}

struct inbound {
  unsigned char buf[SMVM_FRAME_HEADER_SIZE + SMVM_FRAME_MAX_PAYLOAD];
  size_t len;
};

int run_workload(int channel, const struct run_spec* spec, const struct identity* id) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) {
    init_fail("cannot make pipes: %s", strerror(errno));
    return SMVM_STATUS_INIT_FAILED;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  int child_in = in_pipe[0];
  if (!spec->relay_stdin) child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) exec_workload(spec, id, child_in, out_pipe[1], err_pipe[1]);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!spec->relay_stdin) {
    close(child_in);
    close(in_pipe[1]);
    in_pipe[1] = -1;
  }
  if (pid < 0) {
    init_fail("cannot start the workload: %s", strerror(errno));
    return SMVM_STATUS_INIT_FAILED;
  }
  int stdin_fd = in_pipe[1];
  if (stdin_fd >= 0) fcntl(stdin_fd, F_SETFL, O_NONBLOCK);
  signal(SIGPIPE, SIG_IGN);

  static struct inbound from_host;
  static unsigned char pending[SMVM_FRAME_MAX_PAYLOAD];  /* stdin bytes the workload has not taken yet */
  size_t pending_len = 0, pending_off = 0;
  int stdin_eof = 0, status = -1, channel_open = 1;
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  static char buffer[SMVM_FRAME_MAX_PAYLOAD];

  /* Until the workload has exited and its stdout and stderr are closed (or
   * quiet for a moment after it exited: a daemon it left may hold them). */
  while (status < 0 || out_fd >= 0 || err_fd >= 0) {
    struct pollfd fds[5] = {
      {pending_len || !channel_open ? -1 : channel, POLLIN, 0},
      {out_fd, POLLIN, 0},
      {err_fd, POLLIN, 0},
      {sfd, POLLIN, 0},
      {pending_len && stdin_fd >= 0 ? stdin_fd : -1, POLLOUT, 0},
    };
    int ready = poll(fds, 5, status < 0 ? -1 : 200);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) break; /* exited, and its output went quiet */
    if (fds[3].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
      }
      int ws;
      pid_t done;
      while ((done = waitpid(-1, &ws, WNOHANG)) > 0)
        if (done == pid) status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    }
    for (int i = 1; i <= 2; ++i) {
      int* fd = i == 1 ? &out_fd : &err_fd;
      if (!fds[i].revents || *fd < 0) continue;
      ssize_t n = read(*fd, buffer, sizeof buffer);
      if (n > 0) send_frame(channel, i == 1 ? SMVM_FRAME_STDOUT : SMVM_FRAME_STDERR, buffer, (size_t)n);
      else if (n == 0 || errno != EINTR) {
        close(*fd);
        *fd = -1;
      }
    }
    if (fds[4].revents) {
      ssize_t n = write(stdin_fd, pending + pending_off, pending_len - pending_off);
      if (n > 0) pending_off += (size_t)n;
      if (n < 0 && errno == EPIPE) pending_off = pending_len; /* the workload closed its stdin */
      if (pending_off == pending_len) pending_len = pending_off = 0;
    }
    if (!pending_len && stdin_eof && stdin_fd >= 0) {
      close(stdin_fd);
      stdin_fd = -1;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(channel, from_host.buf + from_host.len, sizeof from_host.buf - from_host.len);
      if (n > 0) from_host.len += (size_t)n;
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) channel_open = 0;
    }
    /* Whole frames only; a partial one waits for the rest. Stdin bytes the
     * workload has not taken yet hold back the frames behind them. */
    while (from_host.len >= SMVM_FRAME_HEADER_SIZE && !pending_len) {
      size_t size = from_host.buf[2] | (size_t)from_host.buf[3] << 8;
      if (from_host.len < SMVM_FRAME_HEADER_SIZE + size) break;
      unsigned char* payload = from_host.buf + SMVM_FRAME_HEADER_SIZE;
      switch (from_host.buf[0]) {
        case SMVM_FRAME_STDIN:
          if (stdin_fd >= 0) {
            memcpy(pending, payload, size);
            pending_len = size;
            pending_off = 0;
          }
          break;
        case SMVM_FRAME_STDIN_EOF:
          stdin_eof = 1;
          break;
        case SMVM_FRAME_SIGNAL:
          if (size == 1 && payload[0] > 0 && payload[0] < 65) kill(pid, payload[0]);
          break;
      }
      size_t used = SMVM_FRAME_HEADER_SIZE + size;
      memmove(from_host.buf, from_host.buf + used, from_host.len - used);
      from_host.len -= used;
    }
    if (!pending_len && stdin_eof && stdin_fd >= 0) {
      close(stdin_fd);
      stdin_fd = -1;
    }
  }
  if (status < 0) { /* output ended first: wait for the workload itself */
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  }
  return status;
}
