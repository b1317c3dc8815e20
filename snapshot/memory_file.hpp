#pragma once
// Guest memory in a file of its own, raw, so a restore can mmap it. Pages
// the guest never touched stay holes: a 2 GiB guest that used 100 MiB
// writes about 100 MiB.

#include "common/result.hpp"
#include "snapshot/atomic_file.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace smvm::snapshot {

/// Guest RAM as the snapshotter sees it: the mapping, and the shared file
/// behind it when the mapping is MAP_SHARED (its holes are pages never
/// written); -1 for a MAP_PRIVATE (restored) mapping, which is scanned.
struct memory_source {
  std::span<const std::uint8_t> bytes;
  int shared_fd = -1;
};

/// The memory file of a snapshot at `state_path`: `state_path`.mem, always
/// beside it, so the two files move together under any name.
inline std::string memory_file_of(const std::string& state_path) { return state_path + ".mem"; }

/// Writes the memory file atomically; returns the bytes of data written.
result<std::uint64_t> write_memory_file(const std::filesystem::path& path, memory_source memory,
                                        file_io io = file_io::system());

}  // namespace smvm::snapshot
