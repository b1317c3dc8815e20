#include "image/rootfs.hpp"

#include "image/layer_tree.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace smvm::image {

namespace fs = std::filesystem;

namespace {

using archive_ptr = std::unique_ptr<archive, decltype(&archive_read_free)>;

/// Room for the unpacked layers in a sparse file: only what is written
/// takes space on the host.
std::uint64_t disk_size_for(std::uint64_t layer_bytes) {
  std::uint64_t size = std::max<std::uint64_t>(std::uint64_t{1} << 30, layer_bytes * 8 + (std::uint64_t{256} << 20));
  return (size + 4095) & ~std::uint64_t{4095};
}

layer_entry::kind kind_of(archive_entry* e) {
  if (archive_entry_hardlink(e)) return layer_entry::kind::hard_link;
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR: return layer_entry::kind::directory;
    case AE_IFLNK: return layer_entry::kind::symlink;
    case AE_IFCHR: return layer_entry::kind::char_device;
    case AE_IFBLK: return layer_entry::kind::block_device;
    case AE_IFIFO: return layer_entry::kind::fifo;
    default: return layer_entry::kind::file;
  }
}

inode_meta meta_of(archive_entry* e) {
  inode_meta meta;
  meta.mode = static_cast<std::uint32_t>(archive_entry_mode(e));
  if (archive_entry_filetype(e) == 0) meta.mode |= S_IFREG;  // old tars: a plain file
  meta.uid = static_cast<std::uint32_t>(archive_entry_uid(e));
  meta.gid = static_cast<std::uint32_t>(archive_entry_gid(e));
  meta.mtime = archive_entry_mtime(e);
  archive_entry_xattr_reset(e);
  const char* name = nullptr;
  const void* value = nullptr;
  std::size_t size = 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string_view n(name);
    if (n.rfind("user.", 0) == 0 || n.rfind("security.", 0) == 0 || n.rfind("trusted.", 0) == 0)
      meta.xattrs.emplace_back(std::string(n), std::string(static_cast<const char*>(value), size));
  }
  return meta;
}

result<void> apply_layer(layer_tree& tree, const fs::path& file, const std::string& name, std::uint64_t& done,
                         std::uint64_t total, const progress_fn& progress) {
  archive_ptr a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 20) != ARCHIVE_OK)
    return make_error("{}: {}", name, archive_error_string(a.get()));
  archive_entry* e = nullptr;
  std::uint64_t last_report = 0;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return make_error("{}: not a readable layer: {}", name, archive_error_string(a.get()));
    layer_entry entry;
    entry.type = kind_of(e);
    entry.path = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    entry.meta = meta_of(e);
    if (entry.type == layer_entry::kind::hard_link) entry.link_target = archive_entry_hardlink(e);
    if (entry.type == layer_entry::kind::symlink) entry.link_target = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
    entry.major = static_cast<std::uint32_t>(archive_entry_rdevmajor(e));
    entry.minor = static_cast<std::uint32_t>(archive_entry_rdevminor(e));
    auto read = [&](std::span<std::uint8_t> buffer) -> result<std::size_t> {
      la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n < 0) return make_error("{}", archive_error_string(a.get()));
      return static_cast<std::size_t>(n);
    };
    if (auto r = tree.apply(entry, read); !r) return r;
    const std::uint64_t at = done + static_cast<std::uint64_t>(archive_filter_bytes(a.get(), -1));
    if (progress && at - last_report > (4u << 20)) {
      progress("unpacking", at, total);
      last_report = at;
    }
  }
  if (archive_read_close(a.get()) != ARCHIVE_OK) return make_error("{}: {}", name, archive_error_string(a.get()));
  std::error_code ec;
  done += fs::file_size(file, ec);
  return {};
}

}  // namespace

result<rootfs_stats> build_rootfs(const std::vector<fs::path>& layers, const std::vector<std::string>& names,
                                  const fs::path& out, const progress_fn& progress) {
  rootfs_stats stats;
  std::error_code ec;
  for (const auto& l : layers) stats.bytes_in += fs::file_size(l, ec);
  auto disk = ext4_writer::create(out, disk_size_for(stats.bytes_in));
  if (!disk) return disk.error();
  layer_tree tree(**disk);
  std::uint64_t done = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    tree.begin_layer(static_cast<unsigned>(i), i < names.size() ? names[i] : layers[i].string());
    if (auto r = apply_layer(tree, layers[i], i < names.size() ? names[i] : layers[i].string(), done, stats.bytes_in,
                             progress);
        !r)
      return r.error();
  }
  if (auto r = tree.write_out(); !r) return r.error();
  if (auto r = (*disk)->finish(); !r) return r.error();
  if (progress) progress("unpacking", stats.bytes_in, stats.bytes_in);
  stats.entries = tree.entries();
  return stats;
}

result<fs::path> ensure_rootfs(store& images, const image_record& record, const progress_fn& progress) {
  const fs::path final_path = images.rootfs_path(record);
  std::error_code ec;
  if (fs::is_regular_file(final_path, ec)) return final_path;
  std::vector<fs::path> layers;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < record.layers.size(); ++i) {
    if (!images.has_blob(record.layers[i].digest))
      return make_error("image {}: layer {} is missing from the store; pull the image again", record.name,
                        record.layers[i].digest);
    layers.push_back(images.blob_path(record.layers[i].digest));
    names.push_back(fmt::format("layer {} ({})", i + 1, record.layers[i].digest));
  }
  fs::create_directories(final_path.parent_path(), ec);
  auto temp = images.temp_path("rootfs");
  if (!temp) return temp.error();
  auto built = build_rootfs(layers, names, *temp, progress);
  if (built) {
    int fd = ::open(temp->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    fs::rename(*temp, final_path, ec);
    if (!ec) return final_path;
    built = make_error("cannot store the root disk {}: {}", final_path.string(), ec.message());
  }
  fs::remove(*temp, ec);
  return make_error("image {}: {}", record.name, built.error().message);
}

}  // namespace smvm::image
