#pragma once
// Reads back an ext4 image in tests, through libext2fs: what a path names,
// its owner, mode, link count and content.

#include <ext2fs/ext2fs.h>

#include <optional>
#include <string>

namespace smvm::test {

struct ext4_file {
  unsigned mode = 0, uid = 0, gid = 0, links = 0;
  std::string content;  // a file's data, a symlink's target
};

class ext4_reader {
 public:
  explicit ext4_reader(const std::string& image) {
    if (ext2fs_open(image.c_str(), 0, 0, 0, unix_io_manager, &fs_)) fs_ = nullptr;
  }
  ~ext4_reader() {
    if (fs_) ext2fs_close_free(&fs_);
  }
  bool ok() const { return fs_ != nullptr; }
  /// Follows no symlink at the end; nullopt when the path does not exist.
  std::optional<ext4_file> stat(const std::string& path) {
    ext2_ino_t ino = 0;
    if (ext2fs_namei(fs_, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino)) return std::nullopt;
    ext2_inode inode;
    if (ext2fs_read_inode(fs_, ino, &inode)) return std::nullopt;
    ext4_file f;
    f.mode = inode.i_mode;
    f.uid = inode_uid(inode);
    f.gid = inode_gid(inode);
    f.links = inode.i_links_count;
    if (LINUX_S_ISREG(inode.i_mode) || LINUX_S_ISLNK(inode.i_mode)) {
      if (LINUX_S_ISLNK(inode.i_mode) && ext2fs_is_fast_symlink(&inode)) {
        f.content = reinterpret_cast<const char*>(inode.i_block);
        return f;
      }
      ext2_file_t file;
      if (ext2fs_file_open(fs_, ino, 0, &file)) return std::nullopt;
      char buffer[4096];
      unsigned got = 0;
      while (!ext2fs_file_read(file, buffer, sizeof buffer, &got) && got) f.content.append(buffer, got);
      ext2fs_file_close(file);
    }
    return f;
  }

 private:
  ext2_filsys fs_ = nullptr;
};

}  // namespace smvm::test
