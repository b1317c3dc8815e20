/* The run spec: what smvm decided to run (argv, env, cwd, user). */
#include "init.h"

#include "../../common/agent_protocol.h"
#include "../../common/stream_protocol.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int next_record(const char* data, size_t len, size_t* at, const char** key, const char** value) {
  if (*at >= len) return 0;
  const char* key_end = memchr(data + *at, 0, len - *at);
  if (!key_end) return 0;
  size_t value_at = (size_t)(key_end - data) + 1;
  const char* value_end = value_at < len ? memchr(data + value_at, 0, len - value_at) : NULL;
  if (!value_end) return 0;
  *key = data + *at;
  *value = data + value_at;
  *at = (size_t)(value_end - data) + 1;
  return 1;
}

void parse_spec_records(char* data, size_t len, struct run_spec* spec) {
  size_t at = 0;
  const char *key, *v;
  while (next_record(data, len, &at, &key, &v)) {
    char* value = (char*)v; /* in `data`, which the caller lets the spec point into */
    if (!strcmp(key, "arg") && spec->argc < MAX_ITEMS) spec->argv[spec->argc++] = value;
    else if (!strcmp(key, "env") && spec->envc < MAX_ITEMS) spec->env[spec->envc++] = value;
    else if (!strcmp(key, "cwd")) spec->cwd = value;
    else if (!strcmp(key, "user")) spec->user = value;
    else if (!strcmp(key, "stdin")) spec->relay_stdin = !strcmp(value, "1");
    else if (!strcmp(key, "tty")) spec->tty = !strcmp(value, "1");
    else if (!strcmp(key, "rows")) spec->rows = (unsigned short)strtoul(value, NULL, 10);
    else if (!strcmp(key, "cols")) spec->cols = (unsigned short)strtoul(value, NULL, 10);
    else if (!strcmp(key, SMVM_RUN_SPEC_AGENT)) spec->agent = !strcmp(value, "1");
    else if (!strcmp(key, "address")) spec->address = value;
    else if (!strcmp(key, "gateway")) spec->gateway = value;
    else if (!strcmp(key, "dns")) spec->dns = value;
  }
}

int read_run_spec(struct run_spec* spec, char* why, size_t why_size) {
  memset(spec, 0, sizeof *spec);
  int fd = open(SMVM_RUN_SPEC_PATH, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(why, why_size, "cannot open %s", SMVM_RUN_SPEC_PATH);
    return -1;
  }
  size_t cap = 1 << 16, len = 0;
  char* data = malloc(cap);
  for (;;) {
    if (len == cap) data = realloc(data, cap *= 2);
    ssize_t n = read(fd, data + len, cap - len);
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  parse_spec_records(data, len, spec);
  if (spec->argc == 0) {
    snprintf(why, why_size, "no command to run: the image has no Entrypoint or Cmd, and none was given");
    return -1;
  }
  if (!spec->cwd || !*spec->cwd) spec->cwd = "/";
  if (!spec->user) spec->user = "";
  return 0;
}

static size_t name_length(const char* entry) {
  const char* eq = strchr(entry, '=');
  return eq ? (size_t)(eq - entry) : strlen(entry);
}

const char* spec_getenv(const struct run_spec* spec, const char* name) {
  size_t n = strlen(name);
  for (size_t i = 0; i < spec->envc; ++i)
    if (!strncmp(spec->env[i], name, n) && spec->env[i][n] == '=') return spec->env[i] + n + 1;
  return NULL;
}

void spec_putenv(struct run_spec* spec, char* entry) {
  size_t n = name_length(entry);
  for (size_t i = 0; i < spec->envc; ++i)
    if (name_length(spec->env[i]) == n && !strncmp(spec->env[i], entry, n)) {
      spec->env[i] = entry;
      return;
    }
  if (spec->envc < MAX_ITEMS) spec->env[spec->envc++] = entry;
}
