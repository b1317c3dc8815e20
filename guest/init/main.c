/* smvm-init: PID 1 of a `smvm run` guest.
 *
 * Mounts /dev, /proc and /sys; the image's root disk (/dev/vda, ext4,
 * read-only) under a tmpfs overlay, so the workload can write and the
 * shared disk never changes; switches into it; opens the workload channel
 * (hvc0, raw); runs the workload as the image says; and reports its exit
 * status on the status port, which ends the VM. */
#define _GNU_SOURCE
#include "init.h"

#include "../../common/stream_protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/reboot.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int channel = -1;

void init_fail(const char* fmt, ...) {
  char text[1024];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(text, sizeof text - 1, fmt, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n > sizeof text - 2) n = sizeof text - 2;
  char line[1100];
  int len = snprintf(line, sizeof line, "smvm-init: %s\n", text);
  if (channel >= 0) {
    unsigned char header[SMVM_FRAME_HEADER_SIZE] = {SMVM_FRAME_STDERR, 0, (unsigned char)(len & 0xff),
                                                    (unsigned char)(len >> 8)};
    if (write(channel, header, sizeof header) == sizeof header && write(channel, line, (size_t)len) == len) return;
  }
  kernel_log(line, (size_t)len);
}

/* Ends the VM with `status` through the status port (devices/status_port),
 * after the EXIT frame and every frame before it have reached the host. */
static void report(int status) {
  if (channel >= 0) {
    const unsigned char byte = (unsigned char)status;
    send_frame(channel, SMVM_FRAME_EXIT, &byte, 1);
    /* hvc keeps up to a page in its own buffer and pushes it from a
     * kthread: a write() that returned is not yet on the host. */
    while (tcdrain(channel) != 0 && errno == EINTR) {
    }
  }
  sync();
  if (ioperm(0xf4, 1, 1) == 0) outb((unsigned char)status, 0xf4);
  reboot(RB_POWER_OFF); /* only if the port is missing: reboot=k ends the VM */
  for (;;) pause();
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Devices appear as their drivers probe; wait for one a while. */
static int wait_for(const char* path, int seconds) {
  for (int i = 0; i < seconds * 100; ++i) {
    if (access(path, F_OK) == 0) return 0;
    sleep_ms(10);
  }
  return -1;
}

static int mount_or_fail(const char* source, const char* target, const char* type, unsigned long flags,
                         const char* data) {
  mkdir(target, 0755);
  if (mount(source, target, type, flags, data) == 0 || errno == EBUSY) return 0;
  init_fail("cannot mount %s on %s (%s): %s", source, target, type, strerror(errno));
  return -1;
}

static void mkdir_p(const char* path) {
  char p[4096];
  snprintf(p, sizeof p, "%s", path);
  for (char* s = p + 1; *s; ++s)
    if (*s == '/') {
      *s = 0;
      mkdir(p, 0755);
      *s = '/';
    }
  mkdir(p, 0755);
}

/* The image root: ext4 read-only below, tmpfs above, overlay on top. */
static int mount_root(void) {
  if (wait_for("/dev/vda", 10) != 0) {
    init_fail("the root disk /dev/vda did not appear");
    return -1;
  }
  if (mount_or_fail("/dev/vda", "/mnt/lower", "ext4", MS_RDONLY, NULL) ||
      mount_or_fail("rw", "/mnt/rw", "tmpfs", 0, "mode=0755") || (mkdir("/mnt/rw/upper", 0755), 0) ||
      (mkdir("/mnt/rw/work", 0755), 0) ||
      mount_or_fail("overlay", "/mnt/root", "overlay", 0,
                    "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work"))
    return -1;
  return 0;
}

/* Moves into the image root, with /dev, /proc, /sys and friends mounted. */
static int enter_root(void) {
  if (mount_or_fail("/dev", "/mnt/root/dev", NULL, MS_MOVE, NULL)) return -1;
  mount_or_fail("proc", "/mnt/root/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_fail("sysfs", "/mnt/root/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mount_or_fail("devpts", "/mnt/root/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
  mount_or_fail("shm", "/mnt/root/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  mount_or_fail("tmpfs", "/mnt/root/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  umount2("/proc", MNT_DETACH);
  umount2("/sys", MNT_DETACH);
  if (chdir("/mnt/root") || mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/")) {
    init_fail("cannot switch to the image root: %s", strerror(errno));
    return -1;
  }
  mkdir("/tmp", 01777);
  chmod("/tmp", 01777);
  return 0;
}

/* The loopback interface up, as in any container: servers the workload
 * starts on 127.0.0.1 are reachable (the agent's CONNECT splices to them). */
static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0 ||
      (ifr.ifr_flags |= IFF_UP | IFF_RUNNING, ioctl(s, SIOCSIFFLAGS, &ifr) != 0))
    init_fail("cannot bring up the loopback interface: %s", strerror(errno));
  if (s >= 0) close(s);
}

/* hvc0 is added from a workqueue once the MULTIPORT handshake is done. */
static int open_channel(void) {
  if (wait_for("/sys/class/tty/hvc0", 30) != 0 || wait_for("/dev/hvc0", 2) != 0) return -1;
  int fd = open("/dev/hvc0", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return -1;
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  return fd;
}

/* `smvm-init agent`: the guest agent alone, in a guest of its own making
 * (tools/bench/vsock boots one under smvm and under QEMU alike). */
static void agent_only(void) {
  static char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  static struct run_spec spec;
  spec.env[spec.envc++] = path;
  spec.cwd = "/";
  spec.user = "";
  run_agent(&spec);
}

int main(int argc, char** argv) {
  if (argc == 2 && !strcmp(argv[1], "agent")) agent_only();
  if (getpid() != 1) {
    fprintf(stderr, "smvm-init runs as PID 1 of a smvm guest (or: smvm-init agent)\n");
    return 1;
  }
  mount_or_fail("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_fail("proc", "/proc", "proc", 0, NULL);
  mount_or_fail("sysfs", "/sys", "sysfs", 0, NULL);
  channel = open_channel();
  if (channel < 0) {
    init_fail("the workload channel hvc0 did not appear");
    report(SMVM_STATUS_INIT_FAILED);
  }
  /* Input sent before raw mode would meet the line discipline (echo, ^C):
   * smvm holds it until this frame. */
  const unsigned char ready[SMVM_FRAME_HEADER_SIZE] = {SMVM_FRAME_READY, 0, 0, 0};
  (void)!write(channel, ready, sizeof ready);
  struct run_spec spec;
  char why[512];
  if (read_run_spec(&spec, why, sizeof why) != 0) {
    init_fail("%s", why);
    report(SMVM_STATUS_INIT_FAILED);
  }
  if (mount_root() || enter_root()) report(SMVM_STATUS_INIT_FAILED);
  sethostname("smvm", 4);
  loopback_up();
  if (spec.address && configure_network(&spec, why, sizeof why) != 0) {
    init_fail("%s", why);
    report(SMVM_STATUS_INIT_FAILED);
  }
  struct identity id;
  if (resolve_user(spec.user, &id, why, sizeof why) != 0) {
    init_fail("%s", why);
    report(SMVM_STATUS_INIT_FAILED);
  }
  /* Before HOME is added: an exec's HOME is its own user's. */
  if (spec.agent) start_agent(&spec, channel);
  if (!spec_getenv(&spec, "HOME")) {
    static char home[300];
    snprintf(home, sizeof home, "HOME=%s", id.home);
    spec.env[spec.envc++] = home;
  }
  spec.env[spec.envc] = NULL;
  mkdir_p(spec.cwd); /* Docker creates a WORKDIR that is missing */
  report(run_workload(channel, &spec, &id));
}
