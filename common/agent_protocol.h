/* The guest agent's protocol: how smvm reaches into a running `smvm run`
 * guest (exec, files, connections) over virtio-vsock. The agent is part of
 * guest/init; the host side is agent/ (smvm exec, smvm cp, smvm::vm).
 *
 * The agent listens on vsock port SMVM_AGENT_PORT. Each connection carries
 * one operation: its first frame is a request, and what follows depends on
 * it. Separate connections, not one shared one, so that vsock's credit
 * flow control holds back each operation on its own: a slow reader of one
 * exec never stalls another, and several run at once with no scheduler in
 * the agent. Within an exec, frames multiplex stdin, stdout, stderr,
 * signals and the exit status.
 *
 * A frame:
 *   byte 0     type (below)
 *   bytes 1-3  0
 *   bytes 4-7  payload length, little endian, at most SMVM_AGENT_MAX_PAYLOAD
 *   payload
 * A frame with a type the reader does not expect, nonzero reserved bytes or
 * a longer payload ends the connection: each side checks every header.
 *
 * Records: requests and some answers carry "key" NUL "value" NUL records,
 * like the run spec (common/stream_protocol.h). Unknown keys are ignored.
 *
 * Operations (H: host to guest, G: guest to host):
 *   PING        H: PING.  G: READY (payload: the agent's version, text).
 *   EXEC        H: EXEC, records: arg (repeated; argv), env (repeated;
 *               NAME=value, added to the image's environment), cwd, user
 *               (as docker exec -u; default the image's), stdin ("1": the
 *               host sends stdin; otherwise /dev/null), tty ("1": run on a
 *               pseudo-terminal; stdout carries its output, no stderr),
 *               rows, cols (the tty's size).
 *               G: STARTED (u32 pid) or ERROR then EXIT (126/127 when the
 *               command cannot run). Then STDOUT and STDERR as the command
 *               writes; H: STDIN, STDIN_EOF, SIGNAL (u8), RESIZE (u16 rows,
 *               u16 cols). G: EXIT (i32: the status, 128+N after signal N)
 *               once the command has exited and its output is sent: the
 *               last frame.
 *   WRITE_FILE  H: WRITE_FILE, records: path, mode (octal), uid, gid, name
 *               (used when path is a folder). H: DATA..., END. The agent
 *               writes a temporary file beside the target, then renames it
 *               over: a reader never sees half a file. G: OK or ERROR.
 *   READ_FILE   H: READ_FILE, records: path. G: FILE (records: mode, size),
 *               DATA..., END; or ERROR.
 *   CONNECT     H: CONNECT, records: port (a TCP port on the guest's
 *               127.0.0.1). G: OK, after which the connection is that TCP
 *               stream's bytes, unframed, both ways; or ERROR.
 * ERROR's payload is a message for the user (text); it ends the operation,
 * except in EXEC where EXIT still follows. */
#ifndef SMVM_AGENT_PROTOCOL_H
#define SMVM_AGENT_PROTOCOL_H

#define SMVM_AGENT_PORT 52
#define SMVM_AGENT_VERSION "smvm-agent 1"
#define SMVM_AGENT_HEADER_SIZE 8
#define SMVM_AGENT_MAX_PAYLOAD 65536

enum smvm_agent_frame_type {
  /* requests: the first frame of a connection */
  SMVM_AGENT_PING = 0x01,
  SMVM_AGENT_EXEC = 0x02,
  SMVM_AGENT_WRITE_FILE = 0x03,
  SMVM_AGENT_READ_FILE = 0x04,
  SMVM_AGENT_CONNECT = 0x05,
  /* host to guest during an exec */
  SMVM_AGENT_STDIN = 0x10,
  SMVM_AGENT_STDIN_EOF = 0x11,
  SMVM_AGENT_SIGNAL = 0x12,
  SMVM_AGENT_RESIZE = 0x13,
  /* guest to host */
  SMVM_AGENT_READY = 0x20,
  SMVM_AGENT_STARTED = 0x21,
  SMVM_AGENT_STDOUT = 0x22,
  SMVM_AGENT_STDERR = 0x23,
  SMVM_AGENT_EXIT = 0x24,
  SMVM_AGENT_ERROR = 0x25,
  SMVM_AGENT_OK = 0x26,
  SMVM_AGENT_FILE = 0x27,
  /* file contents, either way */
  SMVM_AGENT_DATA = 0x30,
  SMVM_AGENT_END = 0x31,
};

/* The run spec record that starts the agent: "agent" = "1". */
#define SMVM_RUN_SPEC_AGENT "agent"

#endif
