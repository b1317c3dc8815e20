/* The agent's EXEC: runs a command beside the workload, as docker exec
 * does, with its stdio relayed as frames on the connection. */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* In the child: the terminal or pipes, then the user, the folder, exec.
 * On failure writes exec_as's failure to `report` (close-on-exec: it
 * closes on success). */
static void exec_child(const struct run_spec* spec, const struct identity* id, int tty_slave, int in, int out,
                       int err, int report) {
  setsid();
  if (tty_slave >= 0) {
    ioctl(tty_slave, TIOCSCTTY, 0);
    in = out = err = tty_slave;
  }
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  for (int fd = 3; fd < 1024; ++fd)
    if (fd != report) close(fd);
  const int failure = exec_as(spec, id);
  (void)!write(report, &failure, sizeof failure);
  _exit(127);
}

/* Tells the host why the command did not start; returns its exit status. */
static int start_failure(int conn, const struct run_spec* spec, const struct identity* id, int failure) {
  char why[600];
  describe_exec_failure(failure, spec, id, why, sizeof why);
  agent_send_error(conn, "%s", why);
  return EXEC_FAILURE_STEP(failure) == EXEC_STEP_RUN && EXEC_FAILURE_ERRNO(failure) == ENOENT ? 127 : 126;
}

static void send_exit(int conn, int status) {
  unsigned char s[4] = {(unsigned char)status, (unsigned char)(status >> 8), (unsigned char)(status >> 16),
                        (unsigned char)(status >> 24)};
  agent_send(conn, SMVM_AGENT_EXIT, s, sizeof s);
}

/* The request over the image's defaults: argv from the request, env the
 * image's plus the request's, cwd and user the request's if given. */
static int build_spec(struct run_spec* spec, const struct run_spec* image, struct agent_frame* request) {
  struct run_spec* asked = calloc(1, sizeof *asked);
  parse_spec_records((char*)request->payload, request->len, asked);
  memset(spec, 0, sizeof *spec);
  memcpy(spec->argv, asked->argv, sizeof spec->argv);
  spec->argc = asked->argc;
  memcpy(spec->env, image->env, sizeof spec->env);
  spec->envc = image->envc;
  for (size_t i = 0; i < asked->envc; ++i) spec_putenv(spec, asked->env[i]);
  spec->cwd = asked->cwd && *asked->cwd ? asked->cwd : image->cwd;
  spec->user = asked->user && *asked->user ? asked->user : image->user;
  spec->relay_stdin = asked->relay_stdin;
  spec->tty = asked->tty;
  spec->rows = asked->rows;
  spec->cols = asked->cols;
  free(asked);
  return spec->argc > 0 ? 0 : -1;
}

/* Opens a pseudo-terminal pair: the master here, the slave for the child. */
static int open_tty(int* master, int* slave, unsigned short rows, unsigned short cols) {
  *master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0 || grantpt(*master) || unlockpt(*master)) return -1;
  const char* name = ptsname(*master);
  *slave = name ? open(name, O_RDWR | O_NOCTTY) : -1;
  if (*slave < 0) return -1;
  if (rows && cols) {
    struct winsize ws = {rows, cols, 0, 0};
    ioctl(*master, TIOCSWINSZ, &ws);
  }
  return 0;
}

void agent_exec(int conn, const struct run_spec* image, struct agent_frame* request) {
  static struct run_spec spec;
  if (build_spec(&spec, image, request) != 0) {
    agent_send_error(conn, "exec: no command given");
    send_exit(conn, 125);
    return;
  }
  struct identity id;
  char why[512];
  if (resolve_user(spec.user, &id, why, sizeof why) != 0) {
    agent_send_error(conn, "%s", why);
    send_exit(conn, 126);
    return;
  }
  static char home[300];
  if (!spec_getenv(&spec, "HOME")) {
    snprintf(home, sizeof home, "HOME=%s", id.home);
    spec_putenv(&spec, home);
  }
  static char term[] = "TERM=xterm";
  if (spec.tty && !spec_getenv(&spec, "TERM")) spec_putenv(&spec, term);
  spec.env[spec.envc] = NULL;
  spec.argv[spec.argc] = NULL;

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, report[2], master = -1, slave = -1;
  if (pipe2(report, O_CLOEXEC) ||
      (spec.tty ? open_tty(&master, &slave, spec.rows, spec.cols)
                : (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)))) {
    agent_send_error(conn, "exec: cannot make its %s: %s", spec.tty ? "terminal" : "pipes", strerror(errno));
    send_exit(conn, 126);
    return;
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  int child_in = in_pipe[0];
  if (!spec.tty && !spec.relay_stdin) child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid == 0) exec_child(&spec, &id, slave, child_in, out_pipe[1], err_pipe[1], report[1]);
  close(report[1]);
  if (slave >= 0) close(slave);
  if (!spec.tty) {
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (child_in != in_pipe[0]) close(child_in);
  }
  if (pid < 0) {
    agent_send_error(conn, "exec: cannot start %s: %s", spec.argv[0], strerror(errno));
    send_exit(conn, 126);
    return;
  }
  int e = 0;
  ssize_t got;
  while ((got = read(report[0], &e, sizeof e)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (got == sizeof e) {
    int status = start_failure(conn, &spec, &id, e);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    send_exit(conn, status);
    return;
  }
  unsigned char started[4] = {(unsigned char)pid, (unsigned char)(pid >> 8), (unsigned char)(pid >> 16),
                              (unsigned char)(pid >> 24)};
  agent_send(conn, SMVM_AGENT_STARTED, started, sizeof started);

  /* The relay: as guest/init/relay.c, with the connection for the channel. */
  int out_fd = spec.tty ? master : out_pipe[0], err_fd = spec.tty ? -1 : err_pipe[0];
  int stdin_fd = spec.tty ? master : (spec.relay_stdin ? in_pipe[1] : -1);
  if (!spec.tty && !spec.relay_stdin) close(in_pipe[1]);
  if (stdin_fd >= 0) fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
  static struct agent_frame frame;
  static unsigned char pending[SMVM_AGENT_MAX_PAYLOAD];
  static char buffer[SMVM_AGENT_MAX_PAYLOAD];
  size_t pending_len = 0, pending_off = 0;
  int status = -1, conn_open = 1, stdin_eof = 0;
  while (status < 0 || out_fd >= 0 || err_fd >= 0) {
    struct pollfd fds[5] = {
      {pending_len || !conn_open ? -1 : conn, POLLIN, 0},
      {out_fd, POLLIN, 0},
      {err_fd, POLLIN, 0},
      {sfd, POLLIN, 0},
      {pending_len && stdin_fd >= 0 ? stdin_fd : -1, POLLOUT, 0},
    };
    int ready = poll(fds, 5, status < 0 ? -1 : 200);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) break; /* exited, and its output went quiet: a daemon it left holds it */
    if (fds[3].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) == sizeof si) {
      }
      int ws;
      if (waitpid(pid, &ws, WNOHANG) == pid) status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    }
    for (int i = 1; i <= 2; ++i) {
      int* fd = i == 1 ? &out_fd : &err_fd;
      if (!fds[i].revents || *fd < 0) continue;
      ssize_t n = read(*fd, buffer, sizeof buffer);
      if (n > 0) {
        if (agent_send(conn, i == 1 ? SMVM_AGENT_STDOUT : SMVM_AGENT_STDERR, buffer, (size_t)n)) conn_open = 0;
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) { /* a tty master reads EIO once the child is gone */
        if (*fd != master) close(*fd);
        *fd = -1;
      }
    }
    if (fds[4].revents) {
      ssize_t n = write(stdin_fd, pending + pending_off, pending_len - pending_off);
      if (n > 0) pending_off += (size_t)n;
      if (n < 0 && errno != EAGAIN && errno != EINTR) pending_off = pending_len; /* it closed its stdin */
      if (pending_off == pending_len) pending_len = pending_off = 0;
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (agent_read_frame(conn, &frame) != 1) {
        conn_open = 0; /* the host went away: end the command, as docker exec's does without a client */
        kill(-pid, SIGHUP);
        stdin_eof = 1;
      } else if (frame.type == SMVM_AGENT_STDIN && stdin_fd >= 0 && !stdin_eof) {
        memcpy(pending, frame.payload, frame.len);
        pending_len = frame.len;
        pending_off = 0;
      } else if (frame.type == SMVM_AGENT_STDIN_EOF) {
        stdin_eof = 1;
        if (spec.tty && stdin_fd >= 0) {
          pending[0] = 4; /* a terminal's end of input: ^D */
          pending_len = 1;
          pending_off = 0;
        }
      } else if (frame.type == SMVM_AGENT_SIGNAL && frame.len == 1 && frame.payload[0] > 0 && frame.payload[0] < 65) {
        kill(-pid, frame.payload[0]);
      } else if (frame.type == SMVM_AGENT_RESIZE && frame.len == 4 && master >= 0) {
        struct winsize ws = {(unsigned short)(frame.payload[0] | frame.payload[1] << 8),
                             (unsigned short)(frame.payload[2] | frame.payload[3] << 8), 0, 0};
        ioctl(master, TIOCSWINSZ, &ws);
      }
    }
    if (!pending_len && stdin_eof && stdin_fd >= 0 && !spec.tty) {
      close(stdin_fd);
      stdin_fd = -1;
    }
  }
  if (status < 0) {
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  }
  if (conn_open) send_exit(conn, status);
}
