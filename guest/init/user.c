/* USER as Docker reads it: name or uid, optionally :group or :gid, looked
 * up in the image's own /etc/passwd and /etc/group (files only, no NSS). */
#include "init.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_number(const char* s) {
  if (!*s) return 0;
  for (; *s; ++s)
    if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* Splits a colon-separated line into at most `max` fields, in place. */
static int split(char* line, char** fields, int max) {
  int n = 0;
  fields[n++] = line;
  for (char* p = line; *p && n < max; ++p)
    if (*p == ':') {
      *p = 0;
      fields[n++] = p + 1;
    }
  char* nl = strchr(fields[n - 1], '\n');
  if (nl) *nl = 0;
  return n;
}

/* passwd: name:x:uid:gid:gecos:home:shell */
static int find_passwd(const char* who, struct identity* id, char* name_out, size_t name_size) {
  FILE* f = fopen("/etc/passwd", "re");
  if (!f) return -1;
  char line[1024];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    char* fl[7];
    if (split(line, fl, 7) < 7) continue;
    if (strcmp(fl[0], who) && !(is_number(who) && !strcmp(fl[2], who))) continue;
    id->uid = (uid_t)strtoul(fl[2], NULL, 10);
    id->gid = (gid_t)strtoul(fl[3], NULL, 10);
    snprintf(id->home, sizeof id->home, "%s", fl[5]);
    snprintf(name_out, name_size, "%s", fl[0]);
    found = 0;
    break;
  }
  fclose(f);
  return found;
}

/* group: name:x:gid:member,member */
static int find_group(const char* which, gid_t* gid) {
  FILE* f = fopen("/etc/group", "re");
  if (!f) return -1;
  char line[4096];
  int found = -1;
  while (fgets(line, sizeof line, f)) {
    char* fl[4];
    if (split(line, fl, 4) < 3) continue;
    if (!strcmp(fl[0], which)) {
      *gid = (gid_t)strtoul(fl[2], NULL, 10);
      found = 0;
      break;
    }
  }
  fclose(f);
  return found;
}

/* The groups that list `name` as a member, after the primary group. */
static void add_memberships(const char* name, struct identity* id) {
  id->groups[0] = id->gid;
  id->ngroups = 1;
  FILE* f = fopen("/etc/group", "re");
  if (!f || !*name) {
    if (f) fclose(f);
    return;
  }
  char line[4096];
  while (fgets(line, sizeof line, f) && id->ngroups < 64) {
    char* fl[4];
    if (split(line, fl, 4) < 4) continue;
    gid_t g = (gid_t)strtoul(fl[2], NULL, 10);
    for (char* m = strtok(fl[3], ","); m; m = strtok(NULL, ","))
      if (!strcmp(m, name) && g != id->gid) id->groups[id->ngroups++] = g;
  }
  fclose(f);
}

int resolve_user(const char* user, struct identity* id, char* why, size_t why_size) {
  memset(id, 0, sizeof *id);
  snprintf(id->home, sizeof id->home, "/root");
  char spec[256];
  snprintf(spec, sizeof spec, "%s", user && *user ? user : "0");
  char* group = strchr(spec, ':');
  if (group) *group++ = 0;
  char name[256] = "";
  if (find_passwd(spec, id, name, sizeof name) != 0) {
    if (!is_number(spec)) {
      snprintf(why, why_size, "unable to find user %s: no matching entries in the image's /etc/passwd", spec);
      return -1;
    }
    id->uid = (uid_t)strtoul(spec, NULL, 10);  /* a bare uid needs no entry, as in Docker */
    id->gid = 0;
    snprintf(id->home, sizeof id->home, "/");
  }
  add_memberships(name, id);
  if (group && *group) {
    if (is_number(group)) id->gid = (gid_t)strtoul(group, NULL, 10);
    else if (find_group(group, &id->gid) != 0) {
      snprintf(why, why_size, "unable to find group %s: no matching entries in the image's /etc/group", group);
      return -1;
    }
    id->groups[0] = id->gid;
    id->ngroups = 1;  /* an explicit group replaces the supplementary ones, as in Docker */
  }
  return 0;
}
