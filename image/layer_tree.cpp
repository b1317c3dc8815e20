#include "image/layer_tree.hpp"

#include <sys/stat.h>

#include <algorithm>

namespace smvm::image {

namespace {

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";

}  // namespace

struct layer_tree::content {
  ext4_writer::inode_number ino = 0;
  std::uint32_t names = 0;
};

struct layer_tree::node {
  layer_entry::kind type = layer_entry::kind::directory;
  inode_meta meta;
  unsigned layer = 0;
  std::map<std::string, std::unique_ptr<node>> children;  // a directory's
  std::shared_ptr<content> data;                           // a file's, shared by its hard links
  std::string target;                                      // a symlink's
  std::uint32_t major = 0, minor = 0;
  bool is_dir() const { return type == layer_entry::kind::directory; }

  /// After `.wh..wh..opq`: keeps only what `layer` itself put here.
  void hide_lower(unsigned layer_index) {
    for (auto it = children.begin(); it != children.end();) {
      if (it->second->layer < layer_index) {
        it = children.erase(it);
      } else {
        if (it->second->is_dir()) it->second->hide_lower(layer_index);
        ++it;
      }
    }
  }
};

layer_tree::layer_tree(ext4_writer& disk) : disk_(disk), root_(std::make_unique<node>()) {
  root_->meta.mode = S_IFDIR | 0755;
}
layer_tree::~layer_tree() = default;

void layer_tree::begin_layer(unsigned index, std::string name) {
  layer_ = index;
  layer_name_ = std::move(name);
}

error layer_tree::refuse(const std::string& path, const std::string& why) const {
  return make_error("{}: entry \"{}\": {}", layer_name_, path, why);
}

namespace {

/// Splits a tar path into its components; "" and "." drop out. Absolute
/// names and ".." are refused by the caller through `bad`.
std::vector<std::string> split_path(const std::string& path, std::string& bad) {
  if (!path.empty() && path.front() == '/') bad = "an absolute name would land outside the image root";
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") bad = "\"..\" would land outside the image root";
    else if (part.size() > 255) bad = "a name longer than 255 bytes";
    else if (!part.empty() && part != ".") parts.push_back(std::move(part));
    start = end + 1;
  }
  return parts;
}

}  // namespace

result<layer_tree::node*> layer_tree::parent_of(const std::vector<std::string>& parts, const std::string& path) {
  node* dir = root_.get();
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    auto it = dir->children.find(parts[i]);
    if (it == dir->children.end()) {
      // A folder no entry declared: as Docker does, 0755 and root's.
      auto made = std::make_unique<node>();
      made->meta.mode = S_IFDIR | 0755;
      made->layer = layer_;
      it = dir->children.emplace(parts[i], std::move(made)).first;
    }
    node* next = it->second.get();
    if (next->type == layer_entry::kind::symlink)
      return refuse(path, fmt::format("the path goes through the symlink \"{}\", which could lead outside the image root",
                                      parts[i]));
    if (!next->is_dir()) return refuse(path, fmt::format("\"{}\" on the path is not a folder", parts[i]));
    dir = next;
  }
  return dir;
}

result<layer_tree::node*> layer_tree::lookup(const std::vector<std::string>& parts, const std::string& path) {
  node* at = root_.get();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (at->type == layer_entry::kind::symlink)
      return refuse(path, "the hard link's target goes through a symlink");
    if (!at->is_dir()) return refuse(path, "the hard link's target is not in the image");
    auto it = at->children.find(parts[i]);
    if (it == at->children.end()) return refuse(path, "the hard link's target is not in the image");
    at = it->second.get();
  }
  return at;
}

result<void> layer_tree::apply(const layer_entry& entry, const ext4_writer::read_fn& read) {
  ++entries_;
  std::string bad;
  auto parts = split_path(entry.path, bad);
  if (!bad.empty()) return refuse(entry.path, bad);
  if (parts.empty()) {  // the root itself
    if (entry.type != layer_entry::kind::directory) return refuse(entry.path, "the image root must be a folder");
    root_->meta = entry.meta;
    return {};
  }
  auto parent = parent_of(parts, entry.path);
  if (!parent) return parent.error();
  node* dir = *parent;
  const std::string& name = parts.back();

  if (name == opaque_marker) {
    dir->hide_lower(layer_);
    return {};
  }
  if (name.rfind(whiteout_prefix, 0) == 0) {
    const std::string hidden = name.substr(whiteout_prefix.size());
    if (hidden.empty() || hidden == "." || hidden == "..") return refuse(entry.path, "a whiteout for no name");
    dir->children.erase(hidden);
    return {};
  }

  auto made = std::make_unique<node>();
  made->type = entry.type;
  made->meta = entry.meta;
  made->layer = layer_;
  switch (entry.type) {
    case layer_entry::kind::directory: {
      auto it = dir->children.find(name);
      if (it != dir->children.end() && it->second->is_dir()) {  // declared again: new owner and mode, same content
        it->second->meta = entry.meta;
        it->second->layer = layer_;
        return {};
      }
      break;
    }
    case layer_entry::kind::file: {
      auto ino = disk_.add_file(entry.meta, read);
      if (!ino) return refuse(entry.path, ino.error().message);
      made->data = std::make_shared<content>();
      made->data->ino = *ino;
      contents_.push_back(made->data);
      break;
    }
    case layer_entry::kind::hard_link: {
      std::string target_bad;
      auto target_parts = split_path(entry.link_target, target_bad);
      if (!target_bad.empty()) return refuse(entry.path, "hard link to \"" + entry.link_target + "\": " + target_bad);
      auto target = lookup(target_parts, entry.path);
      if (!target) return target.error();
      if ((*target)->type != layer_entry::kind::file)
        return refuse(entry.path, "a hard link must name a regular file, \"" + entry.link_target + "\" is not one");
      if (*target == dir->children[name].get()) return {};  // a link to itself
      made->type = layer_entry::kind::file;
      made->meta = (*target)->meta;
      made->data = (*target)->data;
      break;
    }
    case layer_entry::kind::symlink:
      made->target = entry.link_target;
      break;
    default:
      made->major = entry.major;
      made->minor = entry.minor;
      break;
  }
  dir->children[name] = std::move(made);
  return {};
}

result<void> layer_tree::write_dir(node& dir, ext4_writer::inode_number ino) {
  for (auto& [name, child] : dir.children) {
    switch (child->type) {
      case layer_entry::kind::directory: {
        auto sub = disk_.add_directory(ino, name, child->meta);
        if (!sub) return sub.error();
        if (auto r = write_dir(*child, *sub); !r) return r;
        break;
      }
      case layer_entry::kind::file:
        if (auto r = disk_.link(ino, name, child->data->ino); !r) return r;
        ++child->data->names;
        break;
      case layer_entry::kind::symlink:
        if (auto r = disk_.add_symlink(ino, name, child->target, child->meta); !r) return r;
        break;
      default:
        if (auto r = disk_.add_special(ino, name, child->meta, child->major, child->minor); !r) return r;
        break;
    }
  }
  return {};
}

result<void> layer_tree::write_out() {
  if (auto r = disk_.set_meta(ext4_writer::root(), root_->meta); !r) return r;
  if (auto r = write_dir(*root_, ext4_writer::root()); !r) return r;
  for (const auto& c : contents_) {
    if (c->names == 0) {
      if (auto r = disk_.drop_file(c->ino); !r) return r;
    } else if (c->names > 1) {
      if (auto r = disk_.set_link_count(c->ino, static_cast<std::uint16_t>(std::min<std::uint32_t>(c->names, 65000))); !r)
        return r;
    }
  }
  return {};
}

}  // namespace smvm::image
