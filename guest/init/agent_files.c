/* The agent's WRITE_FILE and READ_FILE: files into and out of the guest
 * (smvm cp, smvm::vm::write_file and read_file). */
#define _GNU_SOURCE
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long record_number(const struct agent_frame* request, const char* key, int base, unsigned long dflt) {
  const char* v = agent_record(request, key);
  if (!v || !*v) return dflt;
  char* end;
  unsigned long n = strtoul(v, &end, base);
  return *end ? dflt : n;
}

void agent_write_file(int conn, struct agent_frame* request) {
  const char* asked = agent_record(request, "path");
  const char* name = agent_record(request, "name");
  if (!asked || asked[0] != '/') {
    agent_send_error(conn, "write file: the path must be absolute, got '%s'", asked ? asked : "");
    return;
  }
  char path[4096];
  struct stat st;
  if (stat(asked, &st) == 0 && S_ISDIR(st.st_mode)) { /* into a folder, under the source's name */
    if (!name || !*name || strchr(name, '/')) {
      agent_send_error(conn, "write file: %s is a folder", asked);
      return;
    }
    snprintf(path, sizeof path, "%s/%s", asked, name);
  } else {
    snprintf(path, sizeof path, "%s", asked);
  }
  const mode_t mode = (mode_t)record_number(request, "mode", 8, 0644) & 07777;
  const uid_t uid = (uid_t)record_number(request, "uid", 10, 0);
  const gid_t gid = (gid_t)record_number(request, "gid", 10, 0);
  char folder_buf[4096], base_buf[4096], temp[4096 + 32];
  snprintf(folder_buf, sizeof folder_buf, "%s", path);
  snprintf(base_buf, sizeof base_buf, "%s", path);
  const char* folder = dirname(folder_buf);
  snprintf(temp, sizeof temp, "%s/.%s.smvm-XXXXXX", folder, basename(base_buf));
  int fd = mkostemp(temp, O_CLOEXEC);
  if (fd < 0) {
    agent_send_error(conn, "write file: cannot create a file in %s: %s", folder, strerror(errno));
    return;
  }
  static struct agent_frame frame;
  int error = 0, r;
  while ((r = agent_read_frame(conn, &frame)) == 1 && frame.type == SMVM_AGENT_DATA)
    if (!error && write_all(fd, frame.payload, frame.len)) error = errno;
  if (r != 1 || frame.type != SMVM_AGENT_END) { /* the host went away or broke off: no half file */
    unlink(temp);
    close(fd);
    return;
  }
  if (!error && (fchown(fd, uid, gid) || fchmod(fd, mode) || fsync(fd))) error = errno;
  if (close(fd) && !error) error = errno;
  if (!error && rename(temp, path)) error = errno;
  if (error) {
    unlink(temp);
    agent_send_error(conn, "write file %s: %s", path, strerror(error));
    return;
  }
  agent_send(conn, SMVM_AGENT_OK, NULL, 0);
}

void agent_read_file(int conn, struct agent_frame* request) {
  const char* path = agent_record(request, "path");
  if (!path || path[0] != '/') {
    agent_send_error(conn, "read file: the path must be absolute, got '%s'", path ? path : "");
    return;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st)) {
    agent_send_error(conn, "read file %s: %s", path, strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    agent_send_error(conn, "read file %s: %s", path, S_ISDIR(st.st_mode) ? "is a folder" : "not a regular file");
    close(fd);
    return;
  }
  char info[128];
  int n = snprintf(info, sizeof info, "mode%c%o%csize%c%lld", 0, (unsigned)(st.st_mode & 07777), 0, 0,
                   (long long)st.st_size);
  agent_send(conn, SMVM_AGENT_FILE, info, (size_t)n + 1);
  static char buffer[SMVM_AGENT_MAX_PAYLOAD];
  ssize_t got;
  while ((got = read(fd, buffer, sizeof buffer)) != 0) {
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      agent_send_error(conn, "read file %s: %s", path, strerror(errno));
      close(fd);
      return;
    }
    if (agent_send(conn, SMVM_AGENT_DATA, buffer, (size_t)got)) break;
  }
  close(fd);
  agent_send(conn, SMVM_AGENT_END, NULL, 0);
}
