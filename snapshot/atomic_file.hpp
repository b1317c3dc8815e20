#pragma once
// A file that appears under its final name complete or not at all: written
// under a temporary name in the same folder, fsynced, renamed, and the folder
// fsynced. Dropped before commit() (an error, a full disk), the temporary
// file is removed and whatever held the final name before is untouched.

#include "common/result.hpp"
#include "common/unique_fd.hpp"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

namespace smvm::snapshot {

/// The system calls that write, replaceable so tests can fail them (ENOSPC).
struct file_io {
  std::function<ssize_t(int fd, const void* data, std::size_t length)> write;
  std::function<int(int fd)> fsync;
  static file_io system();
};

class atomic_file {
 public:
  static result<atomic_file> create(std::filesystem::path final_path, file_io io = file_io::system());

  atomic_file(atomic_file&& other) noexcept;
  atomic_file& operator=(atomic_file&&) = delete;
  ~atomic_file();

  /// Appends bytes; a short write is retried, an error names the file.
  result<void> write(std::span<const std::uint8_t> bytes);
  /// Sets the length: the tail beyond what was written reads as zeros and
  /// takes no disk space (a sparse file).
  result<void> set_length(std::uint64_t length);
  /// Writes at an offset (for sparse copies); does not move the append point.
  result<void> write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes);
  /// fsync, rename onto the final name, fsync the folder.
  result<void> commit();

  const std::filesystem::path& final_path() const { return final_path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  atomic_file() = default;
  result<void> write_all(std::uint64_t offset, std::span<const std::uint8_t> bytes);

  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  unique_fd fd_;
  std::uint64_t append_at_ = 0;
  file_io io_;
  bool committed_ = false;
};

}  // namespace smvm::snapshot
