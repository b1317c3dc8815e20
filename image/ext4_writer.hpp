#pragma once
// Writes an ext4 file system image with libext2fs, as an unprivileged
// process: owners, modes, times and xattrs go into the inodes exactly as
// the image's layers say, never onto host files.

#include "common/result.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace smvm::image {

/// What an inode carries besides its data.
struct inode_meta {
  std::uint32_t mode = 0;  // type and permission bits, as in st_mode
  std::uint32_t uid = 0, gid = 0;
  std::int64_t mtime = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // "security.capability" -> value
};

class ext4_writer {
 public:
  using inode_number = std::uint32_t;
  /// Reads up to the span's size; 0 at the end.
  using read_fn = std::function<result<std::size_t>(std::span<std::uint8_t>)>;

  /// Creates an empty file system of `size_bytes` (a sparse file) in `file`.
  static result<std::unique_ptr<ext4_writer>> create(const std::filesystem::path& file, std::uint64_t size_bytes);
  ~ext4_writer();

  static inode_number root();
  /// A regular file, its data written now; no name yet (link() gives names).
  result<inode_number> add_file(const inode_meta& meta, const read_fn& read);
  /// Gives back a file that never got a name.
  result<void> drop_file(inode_number ino);
  result<inode_number> add_directory(inode_number parent, const std::string& name, const inode_meta& meta);
  result<void> add_symlink(inode_number parent, const std::string& name, const std::string& target, const inode_meta& meta);
  /// A character or block device, a FIFO or a socket.
  result<void> add_special(inode_number parent, const std::string& name, const inode_meta& meta, std::uint32_t major,
                           std::uint32_t minor);
  result<void> link(inode_number parent, const std::string& name, inode_number ino);
  result<void> set_link_count(inode_number ino, std::uint16_t count);
  result<void> set_meta(inode_number ino, const inode_meta& meta);
  /// Writes the bitmaps and the superblock and closes the image.
  result<void> finish();

 private:
  struct state;
  explicit ext4_writer(std::unique_ptr<state> s);
  std::unique_ptr<state> s_;
  // One copy buffer for every file: a fresh 1 MiB per file costs an mmap,
  // page faults and a memset each, which dominated unpacking many small files.
  std::vector<std::uint8_t> copy_buffer_ = std::vector<std::uint8_t>(1 << 20);
};

}  // namespace smvm::image
