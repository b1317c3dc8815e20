// smvm-ready: tells smvm the guest is ready to be snapshotted, and returns
// once the snapshot is written, or, in a VM restored from it, at once.
//
// The guest side of the smvm snapshot port (devices/snapshot_port.hpp):
// sync the filesystems, so what the guest wrote is on its disks, write one
// byte to I/O port 0xf5, then read it until it says the snapshot is done.
// Without a [snapshot] section in vm.toml it would wait forever: it gives
// up after 60 s and fails. Needs root (CAP_SYS_RAWIO), as PID 1 has.
#include <stdio.h>
#include <sys/io.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  (void)argv;
  if (argc != 1) {
    fprintf(stderr, "usage: smvm-ready\n");
    return 2;
  }
  sync();
  if (ioperm(0xf5, 1, 1) != 0) {
    perror("smvm-ready: ioperm(0xf5)");
    return 1;
  }
  outb(1, 0xf5);
  // A poll is one exit to smvm; 100 us apart they cost little and a
  // restored guest is on its way within 100 us of running again.
  const struct timespec pause = {0, 100000};
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    if (inb(0xf5) == 1) return 0;
    nanosleep(&pause, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < 60);
  fprintf(stderr, "smvm-ready: no snapshot after 60 s (is there a [snapshot] section in vm.toml?)\n");
  return 1;
}
