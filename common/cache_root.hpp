#pragma once
// Where smvm keeps what it can make again (the guest kernel, the image
// store): $SMVM_CACHE, else $XDG_CACHE_HOME/smvm, else ~/.cache/smvm. The
// shell tools compute the same (tools/kvm-run, tools/build-kernel.sh,
// tools/bench/lib.sh).

#include <cstdlib>
#include <filesystem>

namespace smvm {

inline std::filesystem::path cache_root() {
  if (const char* cache = std::getenv("SMVM_CACHE"); cache && *cache) return cache;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "smvm";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/") / ".cache" / "smvm";
}

}  // namespace smvm
