#pragma once
// Builds tar layers for the image tests with libarchive: plain or gzip,
// with any entry a real or a hostile layer may hold.

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace smvm::test {

class layer_archive {
 public:
  enum class compression { none, gzip, zstd };
  explicit layer_archive(const std::filesystem::path& file, bool gzip = false)
    : layer_archive(file, gzip ? compression::gzip : compression::none) {}
  layer_archive(const std::filesystem::path& file, compression c) : a_(archive_write_new()) {
    archive_write_set_format_pax_restricted(a_);
    if (c == compression::gzip) archive_write_add_filter_gzip(a_);
    if (c == compression::zstd) archive_write_add_filter_zstd(a_);
    archive_write_open_filename(a_, file.c_str());
  }
  ~layer_archive() {
    archive_write_close(a_);
    archive_write_free(a_);
  }
  layer_archive& file(const std::string& path, const std::string& data, unsigned mode = 0644, unsigned uid = 0,
                      unsigned gid = 0) {
    auto* e = entry(path, AE_IFREG, mode, uid, gid);
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_write_header(a_, e);
    archive_write_data(a_, data.data(), data.size());
    archive_entry_free(e);
    return *this;
  }
  layer_archive& dir(const std::string& path, unsigned mode = 0755, unsigned uid = 0, unsigned gid = 0) {
    return put(entry(path, AE_IFDIR, mode, uid, gid));
  }
  layer_archive& symlink(const std::string& path, const std::string& target) {
    auto* e = entry(path, AE_IFLNK, 0777, 0, 0);
    archive_entry_set_symlink(e, target.c_str());
    return put(e);
  }
  layer_archive& hardlink(const std::string& path, const std::string& target) {
    auto* e = entry(path, AE_IFREG, 0644, 0, 0);
    archive_entry_set_hardlink(e, target.c_str());
    archive_entry_set_size(e, 0);
    return put(e);
  }
  layer_archive& xattr_file(const std::string& path, const std::string& name, const std::string& value) {
    auto* e = entry(path, AE_IFREG, 0755, 0, 0);
    archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    archive_entry_set_size(e, 0);
    return put(e);
  }

 private:
  archive_entry* entry(const std::string& path, unsigned type, unsigned mode, unsigned uid, unsigned gid) {
    auto* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, mode);
    archive_entry_set_uid(e, uid);
    archive_entry_set_gid(e, gid);
    archive_entry_set_mtime(e, 1700000000, 0);
    return e;
  }
  layer_archive& put(archive_entry* e) {
    archive_write_header(a_, e);
    archive_entry_free(e);
    return *this;
  }
  archive* a_;
};

}  // namespace smvm::test
