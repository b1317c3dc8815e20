/* The workload channel between smvm and its guest init: virtio-console
 * port 0 (hvc0, raw mode) carries frames both ways, so the workload's
 * stdout and stderr stay separate streams and stdin can end.
 *
 *   byte 0     type (below)
 *   byte 1     0
 *   bytes 2-3  payload length, little endian (at most 65535)
 *   payload
 *
 * Shared by guest/init (C) and the host (common/stream_frames.hpp). */
#ifndef SMVM_STREAM_PROTOCOL_H
#define SMVM_STREAM_PROTOCOL_H

enum smvm_frame_type {
  SMVM_FRAME_STDOUT = 1,    /* guest -> host: workload stdout bytes */
  SMVM_FRAME_STDERR = 2,    /* guest -> host: workload stderr bytes */
  SMVM_FRAME_STDIN = 3,     /* host -> guest: bytes for the workload's stdin */
  SMVM_FRAME_STDIN_EOF = 4, /* host -> guest: stdin has ended */
  SMVM_FRAME_SIGNAL = 5,    /* host -> guest: one byte, a signal for the workload */
  SMVM_FRAME_READY = 6,     /* guest -> host: the channel is in raw mode; input may flow */
  SMVM_FRAME_EXIT = 7,      /* guest -> host: one byte, the workload's exit status; the last frame */
};

/* The end of a run: the workload's main process has exited and every byte
 * of stdout and stderr it (or a child holding them) wrote is in the frames
 * before EXIT. Init sends EXIT, waits until hvc0 has handed everything to
 * the host (tcdrain), then writes the same status to the status port. The
 * host takes the status as final only if EXIT came first with that status:
 * a guest that resets, panics or powers off before that has lost output,
 * and smvm says so (exit 125) instead of passing a short stream as success. */

#define SMVM_FRAME_HEADER_SIZE 4
#define SMVM_FRAME_MAX_PAYLOAD 65535

/* The run spec init reads from /smvm/run in its initramfs: records of
 * "key" NUL "value" NUL. Keys: arg (repeated, argv in order), env
 * (repeated, NAME=value), cwd, user ("", name, uid, name:group, uid:gid),
 * stdin ("1": relay the host's stdin; otherwise /dev/null), and for a VM
 * with a network card: address ("10.0.2.15/24", eth0's), gateway
 * ("10.0.2.2") and dns ("10.0.2.3", for /etc/resolv.conf). */
#define SMVM_RUN_SPEC_PATH "/smvm/run"

/* Exit statuses init reports for its own failures, as Docker uses them. */
#define SMVM_STATUS_INIT_FAILED 125
#define SMVM_STATUS_NOT_EXECUTABLE 126
#define SMVM_STATUS_NOT_FOUND 127

#endif
