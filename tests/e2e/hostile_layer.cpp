// Writes one hostile layer tarball for tests/e2e/images.sh:
//   smvm-test-hostile-layer KIND OUT.tar
// KIND: traversal (../../escaped), absolute-symlink (evil -> /etc, then
// evil/passwd through it), hardlink-outside (a hard link to
// ../../etc/shadow).

#include "tests/unit/layer_archive.hpp"

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: smvm-test-hostile-layer KIND OUT.tar\n");
    return 2;
  }
  const std::string kind = argv[1];
  smvm::test::layer_archive layer(argv[2]);
  layer.dir("ok").file("ok/file", "fine\n");
  if (kind == "traversal") layer.file("../../escaped", "escaped\n");
  else if (kind == "absolute-symlink") layer.symlink("evil", "/etc").file("evil/passwd", "owned\n");
  else if (kind == "hardlink-outside") layer.hardlink("stolen", "../../etc/shadow");
  else {
    std::fprintf(stderr, "unknown kind %s\n", kind.c_str());
    return 2;
  }
  return 0;
}
