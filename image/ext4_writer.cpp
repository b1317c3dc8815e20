#include "image/ext4_writer.hpp"

#include <ext2fs/ext2fs.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <vector>

namespace smvm::image {

namespace {

error ext2_error(const char* what, errcode_t code) {
  if (code == EXT2_ET_BLOCK_ALLOC_FAIL || code == EXT2_ET_INODE_ALLOC_FAIL || code == EXT2_ET_DIR_NO_SPACE_FOR_CSUM)
    return make_error("{}: the root disk is full ({})", what, error_message(code));
  return make_error("{}: {}", what, error_message(code));
}

int file_type_of(std::uint32_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return EXT2_FT_REG_FILE;
    case S_IFDIR: return EXT2_FT_DIR;
    case S_IFLNK: return EXT2_FT_SYMLINK;
    case S_IFCHR: return EXT2_FT_CHRDEV;
    case S_IFBLK: return EXT2_FT_BLKDEV;
    case S_IFIFO: return EXT2_FT_FIFO;
    case S_IFSOCK: return EXT2_FT_SOCK;
  }
  return EXT2_FT_UNKNOWN;
}

void apply_meta(ext2_inode_large& inode, const inode_meta& meta) {
  inode.i_mode = static_cast<__u16>(meta.mode);
  inode.i_uid = static_cast<__u16>(meta.uid & 0xffff);
  inode.osd2.linux2.l_i_uid_high = static_cast<__u16>(meta.uid >> 16);
  inode.i_gid = static_cast<__u16>(meta.gid & 0xffff);
  inode.osd2.linux2.l_i_gid_high = static_cast<__u16>(meta.gid >> 16);
  const auto t = static_cast<__u32>(meta.mtime < 0 ? 0 : meta.mtime);
  inode.i_atime = inode.i_ctime = inode.i_mtime = t;
}

}  // namespace

struct ext4_writer::state {
  ext2_filsys fs = nullptr;
  std::filesystem::path file;
  ~state() {
    if (fs) ext2fs_close_free(&fs);
  }

  result<void> read(inode_number ino, ext2_inode_large& inode) {
    std::memset(&inode, 0, sizeof inode);
    if (auto rc = ext2fs_read_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode))
      return ext2_error("reading an inode", rc);
    return {};
  }
  result<void> write(inode_number ino, ext2_inode_large& inode) {
    if (auto rc = ext2fs_write_inode_full(fs, ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode))
      return ext2_error("writing an inode", rc);
    return {};
  }
  result<void> set_xattrs(inode_number ino, const inode_meta& meta) {
    if (meta.xattrs.empty()) return {};
    ext2_xattr_handle* handle = nullptr;
    if (auto rc = ext2fs_xattrs_open(fs, ino, &handle)) return ext2_error("xattrs", rc);
    errcode_t rc = ext2fs_xattrs_read(handle);
    for (const auto& [name, value] : meta.xattrs) {
      if (rc) break;
      rc = ext2fs_xattr_set(handle, name.c_str(), value.data(), value.size());
    }
    errcode_t close_rc = ext2fs_xattrs_close(&handle);
    if (rc || close_rc) return ext2_error("setting extended attributes", rc ? rc : close_rc);
    return {};
  }
  result<void> link(inode_number parent, const std::string& name, inode_number ino, int type) {
    for (int attempt = 0;; ++attempt) {
      errcode_t rc = ext2fs_link(fs, parent, name.c_str(), ino, type);
      if (rc == EXT2_ET_DIR_NO_SPACE && attempt == 0) {
        if (auto expand = ext2fs_expand_dir(fs, parent)) return ext2_error("growing a directory", expand);
        continue;
      }
      if (rc) return ext2_error(("linking " + name).c_str(), rc);
      return {};
    }
  }
  /// A fresh inode with `meta`, allocated and written, no name yet.
  result<inode_number> new_inode(inode_number parent, const inode_meta& meta, bool extents) {
    ext2_ino_t ino = 0;
    if (auto rc = ext2fs_new_inode(fs, parent, static_cast<int>(meta.mode), nullptr, &ino)) return ext2_error("new inode", rc);
    ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
    ext2_inode_large inode;
    std::memset(&inode, 0, sizeof inode);
    apply_meta(inode, meta);
    inode.i_links_count = 1;
    inode.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
    if (extents) {
      ext2_extent_handle_t handle = nullptr;
      if (auto rc = ext2fs_extent_open2(fs, ino, reinterpret_cast<ext2_inode*>(&inode), &handle))
        return ext2_error("extent tree", rc);
      ext2fs_extent_free(handle);
    }
    if (auto rc = ext2fs_write_new_inode(fs, ino, reinterpret_cast<ext2_inode*>(&inode))) return ext2_error("writing an inode", rc);
    if (auto r = set_xattrs(ino, meta); !r) return r.error();
    return ino;
  }
};

ext4_writer::ext4_writer(std::unique_ptr<state> s) : s_(std::move(s)) {}
ext4_writer::~ext4_writer() = default;

ext4_writer::inode_number ext4_writer::root() { return EXT2_ROOT_INO; }

result<std::unique_ptr<ext4_writer>> ext4_writer::create(const std::filesystem::path& file, std::uint64_t size_bytes) {
  add_error_table(&et_ext2_error_table);
  {
    // A sparse file of the full size: blocks never written cost nothing.
    FILE* f = std::fopen(file.c_str(), "wb");
    if (!f) return make_error("cannot create {}: {}", file.string(), std::strerror(errno));
    const bool ok = ::ftruncate(fileno(f), static_cast<off_t>(size_bytes)) == 0;
    std::fclose(f);
    if (!ok) return make_error("cannot size {}: {}", file.string(), std::strerror(errno));
  }
  ext2_super_block param;
  std::memset(&param, 0, sizeof param);
  param.s_log_block_size = 2;  // 4 KiB blocks
  ext2fs_blocks_count_set(&param, size_bytes / 4096);
  param.s_rev_level = EXT2_DYNAMIC_REV;
  param.s_inode_size = 256;
  param.s_log_groups_per_flex = 4;
  param.s_inodes_count = static_cast<__u32>(std::min<std::uint64_t>(size_bytes / 16384, 0xffffffffu - 1));
  ext2fs_set_feature_filetype(&param);
  ext2fs_set_feature_extents(&param);
  ext2fs_set_feature_sparse_super(&param);
  ext2fs_set_feature_large_file(&param);
  ext2fs_set_feature_huge_file(&param);
  ext2fs_set_feature_flex_bg(&param);
  ext2fs_set_feature_dir_nlink(&param);
  ext2fs_set_feature_extra_isize(&param);
  ext2fs_set_feature_xattr(&param);
  param.s_min_extra_isize = param.s_want_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;

  auto s = std::make_unique<state>();
  s->file = file;
  if (auto rc = ext2fs_initialize(file.c_str(), EXT2_FLAG_64BITS, &param, unix_io_manager, &s->fs))
    return ext2_error("creating the file system", rc);
  ext2_filsys fs = s->fs;
  fs->super->s_creator_os = EXT2_OS_LINUX;
  fs->super->s_max_mnt_count = static_cast<__s16>(-1);
  std::memcpy(fs->super->s_volume_name, "smvm-rootfs", 11);
  if (auto rc = ext2fs_allocate_tables(fs)) return ext2_error("allocating tables", rc);
  // The inode tables of a sparse file already read as zeros.
  for (dgrp_t g = 0; g < fs->group_desc_count; ++g) ext2fs_bg_flags_set(fs, g, EXT2_BG_INODE_ZEROED);
  if (auto rc = ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, nullptr)) return ext2_error("creating /", rc);
  // Reserved inodes (1, 3-10) are in use, as mke2fs leaves them.
  for (ext2_ino_t ino = 1; ino < EXT2_FIRST_INODE(fs->super); ++ino)
    if (ino != EXT2_ROOT_INO) ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
  ext2fs_mark_ib_dirty(fs);
  if (auto rc = ext2fs_update_bb_inode(fs, nullptr)) return ext2_error("bad block inode", rc);
  return std::unique_ptr<ext4_writer>(new ext4_writer(std::move(s)));
}

result<ext4_writer::inode_number> ext4_writer::add_file(const inode_meta& meta, const read_fn& read) {
  auto ino = s_->new_inode(EXT2_ROOT_INO, meta, true);
  if (!ino) return ino;
  ext2_file_t file = nullptr;
  if (auto rc = ext2fs_file_open(s_->fs, *ino, EXT2_FILE_WRITE, &file)) return ext2_error("opening a new file", rc);
  auto& buffer = copy_buffer_;
  std::uint64_t size = 0;
  result<void> outcome;
  for (;;) {
    auto n = read(buffer);
    if (!n) {
      outcome = n.error();
      break;
    }
    if (*n == 0) break;
    unsigned int written = 0;
    if (auto rc = ext2fs_file_write(file, buffer.data(), static_cast<unsigned>(*n), &written); rc || written != *n) {
      outcome = ext2_error("writing a file", rc ? rc : EXT2_ET_SHORT_WRITE);
      break;
    }
    size += *n;
  }
  if (outcome) {
    if (auto rc = ext2fs_file_set_size2(file, size)) outcome = ext2_error("sizing a file", rc);
  }
  if (auto rc = ext2fs_file_close(file); rc && outcome) outcome = ext2_error("closing a file", rc);
  if (!outcome) return outcome.error();
  return ino;
}

result<void> ext4_writer::drop_file(inode_number ino) {
  ext2_inode_large inode;
  if (auto r = s_->read(ino, inode); !r) return r;
  if (auto rc = ext2fs_punch(s_->fs, ino, reinterpret_cast<ext2_inode*>(&inode), nullptr, 0, ~0ULL))
    return ext2_error("freeing a file", rc);
  if (auto r = s_->read(ino, inode); !r) return r;
  inode.i_links_count = 0;
  inode.i_dtime = inode.i_mtime ? inode.i_mtime : 1;
  if (auto r = s_->write(ino, inode); !r) return r;
  ext2fs_inode_alloc_stats2(s_->fs, ino, -1, 0);
  return {};
}

result<ext4_writer::inode_number> ext4_writer::add_directory(inode_number parent, const std::string& name,
                                                               const inode_meta& meta) {
  ext2_ino_t ino = 0;
  if (auto rc = ext2fs_new_inode(s_->fs, parent, LINUX_S_IFDIR | 0755, nullptr, &ino)) return ext2_error("new inode", rc);
  // No name here: linking is done below, growing the parent when full.
  if (auto rc = ext2fs_mkdir(s_->fs, parent, ino, nullptr)) return ext2_error(("creating " + name).c_str(), rc);
  if (auto r = s_->link(parent, name, ino, EXT2_FT_DIR); !r) return r.error();
  if (auto r = set_meta(ino, meta); !r) return r.error();
  return ino;
}

result<void> ext4_writer::add_symlink(inode_number parent, const std::string& name, const std::string& target,
                                      const inode_meta& meta) {
  ext2_ino_t ino = 0;
  if (auto rc = ext2fs_new_inode(s_->fs, parent, LINUX_S_IFLNK | 0777, nullptr, &ino)) return ext2_error("new inode", rc);
  // ext2fs_symlink links the name itself; make room in the parent first.
  errcode_t rc = ext2fs_symlink(s_->fs, parent, ino, name.c_str(), target.c_str());
  if (rc == EXT2_ET_DIR_NO_SPACE) {
    if (auto expand = ext2fs_expand_dir(s_->fs, parent)) return ext2_error("growing a directory", expand);
    rc = ext2fs_symlink(s_->fs, parent, ino, name.c_str(), target.c_str());
  }
  if (rc) return ext2_error(("creating symlink " + name).c_str(), rc);
  return set_meta(ino, meta);
}

result<void> ext4_writer::add_special(inode_number parent, const std::string& name, const inode_meta& meta,
                                      std::uint32_t major, std::uint32_t minor) {
  auto ino = s_->new_inode(parent, meta, false);
  if (!ino) return ino.error();
  ext2_inode_large inode;
  if (auto r = s_->read(*ino, inode); !r) return r;
  if ((major < 256) && (minor < 256)) {
    inode.i_block[0] = major * 256 + minor;
    inode.i_block[1] = 0;
  } else {
    inode.i_block[0] = 0;
    inode.i_block[1] = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
  }
  if (auto r = s_->write(*ino, inode); !r) return r;
  return s_->link(parent, name, *ino, file_type_of(meta.mode));
}

result<void> ext4_writer::link(inode_number parent, const std::string& name, inode_number ino) {
  ext2_inode_large inode;
  if (auto r = s_->read(ino, inode); !r) return r;
  return s_->link(parent, name, ino, file_type_of(inode.i_mode));
}

result<void> ext4_writer::set_link_count(inode_number ino, std::uint16_t count) {
  ext2_inode_large inode;
  if (auto r = s_->read(ino, inode); !r) return r;
  inode.i_links_count = count;
  return s_->write(ino, inode);
}

result<void> ext4_writer::set_meta(inode_number ino, const inode_meta& meta) {
  ext2_inode_large inode;
  if (auto r = s_->read(ino, inode); !r) return r;
  const std::uint32_t type = inode.i_mode & LINUX_S_IFMT;
  apply_meta(inode, meta);
  inode.i_mode = static_cast<__u16>(type | (meta.mode & 07777));
  if (auto r = s_->write(ino, inode); !r) return r;
  return s_->set_xattrs(ino, meta);
}

result<void> ext4_writer::finish() {
  if (auto rc = ext2fs_close_free(&s_->fs)) return ext2_error("writing the file system", rc);
  return {};
}

}  // namespace smvm::image
