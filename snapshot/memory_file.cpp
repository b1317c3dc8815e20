#include "snapshot/memory_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace smvm::snapshot {

namespace {

constexpr std::size_t page = 4096;

/// [start, end) ranges that may hold data: the shared file's data extents,
/// or everything.
result<std::vector<std::pair<std::uint64_t, std::uint64_t>>> data_extents(const memory_source& m) {
  const std::uint64_t size = m.bytes.size();
  if (m.shared_fd < 0) return std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, size}};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;
  off_t at = 0;
  while (static_cast<std::uint64_t>(at) < size) {
    const off_t data = ::lseek(m.shared_fd, at, SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;  // only a hole is left
    if (data < 0) return make_error("guest memory: SEEK_DATA: {}", std::strerror(errno));
    off_t hole = ::lseek(m.shared_fd, data, SEEK_HOLE);
    if (hole < 0) return make_error("guest memory: SEEK_HOLE: {}", std::strerror(errno));
    hole = std::min<off_t>(hole, static_cast<off_t>(size));
    extents.emplace_back(data, hole);
    at = hole;
  }
  return extents;
}

bool all_zero(const std::uint8_t* p, std::size_t n) {
  return p[0] == 0 && std::memcmp(p, p + 1, n - 1) == 0;
}

}  // namespace

result<std::uint64_t> write_memory_file(const std::filesystem::path& path, memory_source memory, file_io io) {
  auto extents = data_extents(memory);
  if (!extents) return extents.error();
  auto file = atomic_file::create(path, std::move(io));
  if (!file) return file.error();
  if (auto r = file->set_length(memory.bytes.size()); !r) return r.error();
  std::uint64_t written = 0;
  for (auto [start, end] : *extents) {
    // Write runs of non-zero pages; zero pages stay holes.
    std::uint64_t run = start;
    for (std::uint64_t at = start;;) {
      const bool done = at >= end;
      const std::uint64_t n = done ? 0 : std::min<std::uint64_t>(page, end - at);
      if (done || all_zero(memory.bytes.data() + at, n)) {
        if (at > run) {
          if (auto r = file->write_at(run, memory.bytes.subspan(run, at - run)); !r) return r.error();
          written += at - run;
        }
        if (done) break;
        run = at + n;
      }
      at += n;
    }
  }
  if (auto r = file->commit(); !r) return r.error();
  return written;
}

}  // namespace smvm::snapshot
