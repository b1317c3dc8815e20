/* The guest agent's pieces (common/agent_protocol.h): frame I/O and the
 * operations one connection can carry. */
#ifndef SMVM_AGENT_H
#define SMVM_AGENT_H

#include "init.h"

#include "../../common/agent_protocol.h"

#include <stddef.h>

struct agent_frame {
  int type;
  size_t len;
  unsigned char payload[SMVM_AGENT_MAX_PAYLOAD + 1]; /* +1: room for a NUL after text */
};

/* Reads one whole frame. 1: a frame; 0: the connection ended between
 * frames; -1: it failed or the header is bad. */
int agent_read_frame(int conn, struct agent_frame* frame);
/* Sends one frame whole; 0, or -1 when the connection failed. */
int agent_send(int conn, int type, const void* data, size_t len);
/* Sends an ERROR frame with a message. */
void agent_send_error(int conn, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

/* The operations; each returns when its connection is done. */
void agent_exec(int conn, const struct run_spec* image, struct agent_frame* request);
void agent_write_file(int conn, struct agent_frame* request);
void agent_read_file(int conn, struct agent_frame* request);
void agent_connect(int conn, struct agent_frame* request);

/* A record's value in a request's payload, or NULL. */
const char* agent_record(const struct agent_frame* request, const char* key);

#endif
