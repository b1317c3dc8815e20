// smvm-exit [STATUS]: ends the VM and makes smvm exit with STATUS (0-255).
//
// The guest side of the smvm status port (devices/status_port.hpp): sync
// the filesystems, let the console send what it holds, then write one byte
// to I/O port 0xf4. Needs root (CAP_SYS_RAWIO), as PID 1 in an initramfs
// has.
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char** argv) {
  long status = 0;
  if (argc > 2) {
    fprintf(stderr, "usage: smvm-exit [STATUS]\n");
    return 2;
  }
  if (argc == 2) {
    char* end = NULL;
    status = strtol(argv[1], &end, 10);
    if (*argv[1] == '\0' || *end != '\0' || status < 0 || status > 255) {
      fprintf(stderr, "smvm-exit: status must be 0-255, got '%s'\n", argv[1]);
      return 2;
    }
  }
  sync();
  // An echo just before returns once its line is in the tty's buffer; the
  // UART may still be sending it, and the VM's end would cut it off.
  for (int fd = 0; fd <= 2; fd++)
    if (isatty(fd)) tcdrain(fd);
  if (ioperm(0xf4, 1, 1) != 0) {
    perror("smvm-exit: ioperm(0xf4)");
    return 1;
  }
  outb((unsigned char)status, 0xf4);
  for (;;) pause();  // smvm stops the VM; there is nothing left to do
}
