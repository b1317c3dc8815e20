/* One agent connection: the request frame decides what follows. */
#include "agent.h"

#include <string.h>
#include <unistd.h>

void serve_agent_connection(int conn, const struct run_spec* image) {
  static struct agent_frame request;
  if (agent_read_frame(conn, &request) != 1) return;
  switch (request.type) {
    case SMVM_AGENT_PING:
      agent_send(conn, SMVM_AGENT_READY, SMVM_AGENT_VERSION, strlen(SMVM_AGENT_VERSION));
      break;
    case SMVM_AGENT_EXEC:
      agent_exec(conn, image, &request);
      break;
    case SMVM_AGENT_WRITE_FILE:
      agent_write_file(conn, &request);
      break;
    case SMVM_AGENT_READ_FILE:
      agent_read_file(conn, &request);
      break;
    case SMVM_AGENT_CONNECT:
      agent_connect(conn, &request);
      break;
    default:
      agent_send_error(conn, "unknown request type 0x%02x", request.type);
  }
}
