/* smvm-init: PID 1 of a `smvm run` guest. */
#ifndef SMVM_INIT_H
#define SMVM_INIT_H

#include <stddef.h>
#include <sys/types.h>

#define MAX_ITEMS 4096

struct run_spec {
  char* argv[MAX_ITEMS + 1];
  size_t argc;
  char* env[MAX_ITEMS + 2]; /* room for a HOME init adds */
  size_t envc;
  const char* cwd;
  const char* user;
  int relay_stdin;
  int tty;                    /* agent exec: on a pseudo-terminal */
  unsigned short rows, cols;  /* agent exec: its size */
  int agent;                  /* start the guest agent (common/agent_protocol.h) */
  const char* address;        /* eth0's, "10.0.2.15/24"; NULL: no network */
  const char* gateway;
  const char* dns;
};

struct identity {
  uid_t uid;
  gid_t gid;
  gid_t groups[64];
  int ngroups;
  char home[256];
};

/* spec.c: parses /smvm/run; returns 0 or -1 with a message in `why`. */
int read_run_spec(struct run_spec* spec, char* why, size_t why_size);
/* spec.c: the record at *at of key NUL value NUL records, moving *at past
 * it; 0 at the end, or at a record cut short. */
int next_record(const char* data, size_t len, size_t* at, const char** key, const char** value);
/* spec.c: fills `spec` from key NUL value NUL records; values point into data. */
void parse_spec_records(char* data, size_t len, struct run_spec* spec);
const char* spec_getenv(const struct run_spec* spec, const char* name);
/* Sets NAME=value, replacing an earlier NAME. */
void spec_putenv(struct run_spec* spec, char* entry);

/* network.c: eth0 up with the spec's address, its default route and
 * /etc/resolv.conf and /etc/hosts, in the image root; 0, or -1 with why. */
int configure_network(const struct run_spec* spec, char* why, size_t why_size);

/* user.c: resolves `user` through the root's /etc/passwd and /etc/group. */
int resolve_user(const char* user, struct identity* id, char* why, size_t why_size);

/* process.c: writes all of `len` bytes to a blocking fd; 0, or -1. */
int write_all(int fd, const void* data, size_t len);
/* process.c: one line for the kernel log (/dev/kmsg). */
void kernel_log(const char* line, size_t len);

/* process.c: in a child with its stdio in place: signals unblocked, the
 * user's identity, the spec's folder, exec. Returns only on failure, with
 * the step that failed and errno: EXEC_FAILURE(step, errno). */
enum exec_step { EXEC_STEP_USER, EXEC_STEP_FOLDER, EXEC_STEP_RUN };
#define EXEC_FAILURE(step, err) ((int)(step) << 16 | (err))
#define EXEC_FAILURE_STEP(failure) ((failure) >> 16)
#define EXEC_FAILURE_ERRNO(failure) ((failure) & 0xffff)
int exec_as(const struct run_spec* spec, const struct identity* id);
/* process.c: what exec_as's failure means, for the user. */
void describe_exec_failure(int failure, const struct run_spec* spec, const struct identity* id, char* why,
                           size_t why_size);

/* relay.c: runs the workload with its stdio relayed over `channel` (hvc0);
 * returns its exit status (128+N when signal N ended it). */
int run_workload(int channel, const struct run_spec* spec, const struct identity* id);

/* relay.c: writes one frame (common/stream_protocol.h) whole, unless the
 * channel fails. */
void send_frame(int channel, int type, const void* data, size_t len);

/* agent.c: starts the guest agent, which serves vsock port SMVM_AGENT_PORT
 * in a process of its own. `channel` is closed there: only init writes it. */
void start_agent(const struct run_spec* spec, int channel);
/* The agent itself, in this process; never returns. */
void run_agent(const struct run_spec* spec) __attribute__((noreturn));

/* agent_session.c: serves one agent connection (a request and what
 * follows) to its end. `image` is the image's run spec: an exec's defaults. */
void serve_agent_connection(int conn, const struct run_spec* image);

/* main.c: a message for the user, on stderr's frame when the channel is up. */
void init_fail(const char* fmt, ...);

#endif
