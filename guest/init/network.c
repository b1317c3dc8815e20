/* eth0 of a `smvm run` guest: the address, route and name server smvm
 * chose (its NAT's plan, network/slirp_stack.hpp), set before the workload
 * starts, as Docker sets a container's. */
#define _GNU_SOURCE
#include "init.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void set_address(struct sockaddr* to, in_addr_t address) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = address;
  memcpy(to, &a, sizeof a);
}

/* "10.0.2.15/24" into an address and a netmask, both in network order. */
static int parse_cidr(const char* text, in_addr_t* address, in_addr_t* mask) {
  char copy[64];
  snprintf(copy, sizeof copy, "%s", text);
  char* slash = strchr(copy, '/');
  if (!slash) return -1;
  *slash = 0;
  char* end;
  unsigned long prefix = strtoul(slash + 1, &end, 10);
  struct in_addr a;
  if (*end || prefix < 1 || prefix > 32 || inet_pton(AF_INET, copy, &a) != 1) return -1;
  *address = a.s_addr;
  *mask = htonl((uint32_t)(0xffffffffull << (32 - prefix)));
  return 0;
}

/* Replaces `path` (a file, or a link to one elsewhere) with `text`. */
static int write_file(const char* path, const char* text) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  int r = write_all(fd, text, strlen(text));
  close(fd);
  return r;
}

/* The card appears once virtio-net has probed it. */
static int wait_for_eth0(void) {
  for (int i = 0; i < 500; ++i) {
    if (access("/sys/class/net/eth0", F_OK) == 0) return 0;
    struct timespec t = {0, 10000000L};
    nanosleep(&t, NULL);
  }
  return -1;
}

int configure_network(const struct run_spec* spec, char* why, size_t why_size) {
  in_addr_t address, mask, gateway;
  struct in_addr g;
  if (parse_cidr(spec->address, &address, &mask) != 0 || !spec->gateway ||
      inet_pton(AF_INET, spec->gateway, &g) != 1) {
    snprintf(why, why_size, "the run spec's network (%s via %s) is not an address and a gateway", spec->address,
             spec->gateway ? spec->gateway : "nothing");
    return -1;
  }
  gateway = g.s_addr;
  if (wait_for_eth0() != 0) {
    snprintf(why, why_size, "the network card eth0 did not appear");
    return -1;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "eth0");
  const char* step = "socket";
  if (s < 0) goto failed;
  step = "its address";
  set_address(&ifr.ifr_addr, address);
  if (ioctl(s, SIOCSIFADDR, &ifr) != 0) goto failed;
  step = "its netmask";
  set_address(&ifr.ifr_netmask, mask);
  if (ioctl(s, SIOCSIFNETMASK, &ifr) != 0) goto failed;
  step = "it up";
  if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) goto failed;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) goto failed;
  step = "the default route";
  struct rtentry route;
  memset(&route, 0, sizeof route);
  set_address(&route.rt_dst, 0);
  set_address(&route.rt_genmask, 0);
  set_address(&route.rt_gateway, gateway);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  route.rt_dev = ifr.ifr_name;
  if (ioctl(s, SIOCADDRT, &route) != 0 && errno != EEXIST) goto failed;
  close(s);

  char text[256];
  if (spec->dns) {
    snprintf(text, sizeof text, "nameserver %s\n", spec->dns);
    if (write_file("/etc/resolv.conf", text) != 0) {
      snprintf(why, why_size, "cannot write /etc/resolv.conf: %s", strerror(errno));
      return -1;
    }
  }
  char own[64];
  snprintf(own, sizeof own, "%s", spec->address);
  *strchr(own, '/') = 0;
  char host[65] = "smvm";
  gethostname(host, sizeof host - 1);
  snprintf(text, sizeof text, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", own,
           host);
  if (write_file("/etc/hosts", text) != 0) {
    snprintf(why, why_size, "cannot write /etc/hosts: %s", strerror(errno));
    return -1;
  }
  return 0;

failed:
  snprintf(why, why_size, "cannot set eth0's %s: %s", step, strerror(errno));
  if (s >= 0) close(s);
  return -1;
}
