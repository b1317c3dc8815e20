// blkbench MODE DEVICE AMOUNT: a block device benchmark for inside the guest,
// printing one line "blkbench: MODE VALUE UNIT". O_DIRECT, queue depth 1, so
// every request reaches the virtio-blk device (no guest page cache).
//
//   seqwrite DEV MIB    1 MiB writes from the start; MB/s
//   seqread  DEV MIB    1 MiB reads from the start; MB/s
//   randread DEV SECS   4 KiB reads at random aligned offsets; IOPS
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int fail(const char* what) {
  perror(what);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: blkbench seqwrite|seqread|randread DEVICE MIB|SECONDS\n");
    return 2;
  }
  const char* mode = argv[1];
  const long amount = strtol(argv[3], NULL, 10);
  const int writing = strcmp(mode, "seqwrite") == 0;
  int fd = open(argv[2], (writing ? O_WRONLY : O_RDONLY) | O_DIRECT);
  if (fd < 0) return fail(argv[2]);
  unsigned long long size = 0;
  if (ioctl(fd, BLKGETSIZE64, &size) != 0) return fail("BLKGETSIZE64");
  void* buffer = NULL;
  if (posix_memalign(&buffer, 4096, 1 << 20) != 0) return fail("posix_memalign");
  memset(buffer, 0xa5, 1 << 20);

  if (strcmp(mode, "randread") == 0) {
    const unsigned long long blocks = size / 4096;
    unsigned long long seed = 88172645463325252ull, ios = 0;
    const double start = now();
    double elapsed = 0;
    while ((elapsed = now() - start) < (double)amount) {
      for (int i = 0; i < 64; ++i) {
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;  // xorshift64
        if (pread(fd, buffer, 4096, (off_t)((seed % blocks) * 4096)) != 4096) return fail("pread");
        ++ios;
      }
    }
    printf("blkbench: randread %.0f IOPS\n", (double)ios / elapsed);
    return 0;
  }
  const long mib = (unsigned long long)amount << 20 > size ? (long)(size >> 20) : amount;
  const double start = now();
  for (long i = 0; i < mib; ++i) {
    ssize_t n = writing ? pwrite(fd, buffer, 1 << 20, (off_t)i << 20) : pread(fd, buffer, 1 << 20, (off_t)i << 20);
    if (n != 1 << 20) return fail(writing ? "pwrite" : "pread");
  }
  if (writing && fdatasync(fd) != 0) return fail("fdatasync");
  const double elapsed = now() - start;
  printf("blkbench: %s %.1f MB/s\n", mode, (double)mib * 1.048576 / elapsed);
  return 0;
}
