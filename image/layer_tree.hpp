#pragma once
// The image's file tree as its layers are applied in order, following the
// OCI rules: a later entry replaces an earlier one, `.wh.NAME` deletes NAME,
// `.wh..wh..opq` hides everything lower layers put in its folder. File data
// goes into the ext4 image as it arrives; names, folders and links are
// written at the end, once the tree is final.
//
// Entries that would land outside the root are refused: absolute names,
// `..`, a path through a symlink, a hard link to such a name.

#include "image/ext4_writer.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace smvm::image {

/// One tar entry, independent of how it was read.
struct layer_entry {
  enum class kind { file, directory, symlink, hard_link, char_device, block_device, fifo };
  kind type = kind::file;
  std::string path;         // as in the tar
  std::string link_target;  // symlink target, or the hard link's path
  inode_meta meta;
  std::uint32_t major = 0, minor = 0;
};

class layer_tree {
 public:
  explicit layer_tree(ext4_writer& disk);
  ~layer_tree();

  /// Starts layer `index` (0 is the lowest); `name` appears in errors.
  void begin_layer(unsigned index, std::string name);
  /// Applies one entry. For a file, `read` gives its data.
  result<void> apply(const layer_entry& entry, const ext4_writer::read_fn& read = {});
  /// Writes every folder, name and link into the disk, and frees the data
  /// of files nothing names any more.
  result<void> write_out();

  std::uint64_t entries() const { return entries_; }

 private:
  struct node;
  struct content;
  result<node*> parent_of(const std::vector<std::string>& parts, const std::string& path);
  result<node*> lookup(const std::vector<std::string>& parts, const std::string& path);
  result<void> write_dir(node& dir, ext4_writer::inode_number ino);
  error refuse(const std::string& path, const std::string& why) const;

  ext4_writer& disk_;
  std::unique_ptr<node> root_;
  std::vector<std::shared_ptr<content>> contents_;
  unsigned layer_ = 0;
  std::string layer_name_;
  std::uint64_t entries_ = 0;
};

}  // namespace smvm::image
