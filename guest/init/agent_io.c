/* Frames on an agent connection (common/agent_protocol.h). */
#include "agent.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* 1: all of it; 0: EOF before the first byte; -1: failed or cut short. */
static int read_exact(int fd, void* data, size_t len) {
  char* p = data;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return got == 0 && n == 0 ? 0 : -1;
    got += (size_t)n;
  }
  return 1;
}

int agent_read_frame(int conn, struct agent_frame* frame) {
  unsigned char h[SMVM_AGENT_HEADER_SIZE];
  int r = read_exact(conn, h, sizeof h);
  if (r <= 0) return r;
  size_t len = h[4] | (size_t)h[5] << 8 | (size_t)h[6] << 16 | (size_t)h[7] << 24;
  if (h[1] || h[2] || h[3] || len > SMVM_AGENT_MAX_PAYLOAD) return -1;
  frame->type = h[0];
  frame->len = len;
  if (len && read_exact(conn, frame->payload, len) != 1) return -1;
  frame->payload[len] = 0;
  return 1;
}

int agent_send(int conn, int type, const void* data, size_t len) {
  unsigned char h[SMVM_AGENT_HEADER_SIZE] = {(unsigned char)type, 0, 0, 0, (unsigned char)len,
                                             (unsigned char)(len >> 8), (unsigned char)(len >> 16),
                                             (unsigned char)(len >> 24)};
  if (write_all(conn, h, sizeof h)) return -1;
  return len ? write_all(conn, data, len) : 0;
}

void agent_send_error(int conn, const char* fmt, ...) {
  char text[1024];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(text, sizeof text, fmt, args);
  va_end(args);
  if (n < 0) return;
  agent_send(conn, SMVM_AGENT_ERROR, text, strlen(text));
}

const char* agent_record(const struct agent_frame* request, const char* key) {
  size_t at = 0;
  const char *k, *v;
  while (next_record((const char*)request->payload, request->len, &at, &k, &v))
    if (!strcmp(k, key)) return v;
  return NULL;
}
