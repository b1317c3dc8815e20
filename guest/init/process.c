/* What init's workload and the agent's execs share: writes that finish,
 * the kernel log, and becoming the user in the folder to exec. */
#define _GNU_SOURCE
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char** environ;

int write_all(int fd, const void* data, size_t len) {
  const char* p = data;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void kernel_log(const char* line, size_t len) {
  int kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC); /* smvm run --kernel-log shows it */
  if (kmsg < 0) return;
  (void)!write(kmsg, line, len);
  close(kmsg);
}

int exec_as(const struct run_spec* spec, const struct identity* id) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL); /* an ignored signal stays ignored across exec */
  if (setgroups((size_t)id->ngroups, id->groups) || setgid(id->gid) || setuid(id->uid))
    return EXEC_FAILURE(EXEC_STEP_USER, errno);
  if (chdir(spec->cwd) != 0) return EXEC_FAILURE(EXEC_STEP_FOLDER, errno);
  environ = (char**)spec->env; /* execvp searches the command's PATH */
  execvp(spec->argv[0], spec->argv);
  return EXEC_FAILURE(EXEC_STEP_RUN, errno);
}

void describe_exec_failure(int failure, const struct run_spec* spec, const struct identity* id, char* why,
                           size_t why_size) {
  const int err = EXEC_FAILURE_ERRNO(failure);
  switch (EXEC_FAILURE_STEP(failure)) {
    case EXEC_STEP_USER:
      snprintf(why, why_size, "cannot switch to uid %u gid %u: %s", id->uid, id->gid, strerror(err));
      break;
    case EXEC_STEP_FOLDER:
      snprintf(why, why_size, "cannot enter the working folder %s: %s", spec->cwd, strerror(err));
      break;
    default:
      snprintf(why, why_size, "cannot run %s: %s", spec->argv[0], strerror(err));
  }
}
