#include "run/initramfs.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <memory>
#include <string>

extern "C" const std::uint8_t smvm_init_binary_start[];
extern "C" const std::uint8_t smvm_init_binary_end[];

namespace smvm::run {

std::span<const std::uint8_t> init_binary() {
  return {smvm_init_binary_start, static_cast<std::size_t>(smvm_init_binary_end - smvm_init_binary_start)};
}

namespace {

la_ssize_t append(archive*, void* out, const void* data, size_t size) {
  auto* bytes = static_cast<std::vector<std::uint8_t>*>(out);
  bytes->insert(bytes->end(), static_cast<const std::uint8_t*>(data), static_cast<const std::uint8_t*>(data) + size);
  return static_cast<la_ssize_t>(size);
}

}  // namespace

result<std::vector<std::uint8_t>> make_initramfs(std::span<const std::uint8_t> init,
                                                 std::span<const std::uint8_t> run_spec) {
  std::vector<std::uint8_t> out;
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  archive_write_set_format_cpio_newc(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, append, nullptr) != ARCHIVE_OK)
    return make_error("initramfs: {}", archive_error_string(a.get()));
  auto put = [&](const char* path, unsigned type, unsigned mode, std::span<const std::uint8_t> data = {},
                 dev_t rdev = 0) -> bool {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), path);
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), mode);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    archive_entry_set_nlink(e.get(), type == AE_IFDIR ? 2 : 1);
    if (rdev) archive_entry_set_rdev(e.get(), rdev);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return false;
    return data.empty() || archive_write_data(a.get(), data.data(), data.size()) == static_cast<la_ssize_t>(data.size());
  };
  bool ok = true;
  for (const char* dir : {"dev", "proc", "sys", "mnt", "mnt/lower", "mnt/rw", "mnt/root", "smvm"})
    ok = ok && put(dir, AE_IFDIR, 0755);
  ok = ok && put("dev/console", AE_IFCHR, 0600, {}, makedev(5, 1));
  ok = ok && put("init", AE_IFREG, 0755, init);
  ok = ok && put("smvm/run", AE_IFREG, 0600, run_spec);
  if (!ok || archive_write_close(a.get()) != ARCHIVE_OK)
    return make_error("initramfs: {}", archive_error_string(a.get()));
  return out;
}

}  // namespace smvm::run
