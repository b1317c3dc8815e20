#pragma once
// The local image store under the cache folder:
//
//   images/blobs/sha256/<hex>     every blob, named by its checked digest
//   images/refs/<hex>.json        one image_record per name
//   images/rootfs/<hex>.ext4      the root disk built from an image's layers,
//                                 named by image_record::rootfs_key()
//   images/tmp/                   what is being written; renamed when whole
//
// Nothing outside this folder is ever written while importing or unpacking.

#include "common/result.hpp"
#include "common/unique_fd.hpp"
#include "image/sha256.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace smvm::image {

struct layer_descriptor {
  std::string digest;      // of the blob as stored (compressed or not)
  std::string media_type;  // empty for docker-archive layers
  std::uint64_t size = 0;
};

/// An image as smvm keeps it: what `smvm images` lists and `smvm run` boots.
struct image_record {
  std::string name;             // "127.0.0.1:5000/app:1", "docker-archive:/abs/app.tar"
  std::string manifest_digest;  // empty for a docker-archive
  std::string config_digest;    // the image ID
  std::vector<layer_descriptor> layers;
  std::string source_stamp;     // a local archive's size and mtime: unchanged means no new import
  std::uint64_t size() const;   // of the layers as stored
  /// What names its root disk: the digest of its layer digests, in order.
  /// The layers are checked blobs, so one key is one exact file tree.
  std::string rootfs_key() const;
};

/// A blob being written: hashed as it goes, kept only if the digest matches.
class blob_writer {
 public:
  blob_writer(blob_writer&&) noexcept;
  ~blob_writer();  // removes the file unless committed
  result<void> write(std::span<const std::uint8_t> bytes);
  std::uint64_t size() const { return size_; }
  /// Checks the content against `expected` and moves it into the store.
  result<void> commit(const std::string& expected);
  /// Moves it into the store under the digest it has; returns that digest.
  /// `existed` says whether the store had that blob already.
  result<std::string> commit_as_computed(bool* existed = nullptr);

 private:
  friend class store;
  blob_writer(std::filesystem::path temp, std::filesystem::path blobs, unique_fd fd);
  result<void> finish_as(const std::string& digest);
  std::filesystem::path temp_, blobs_;
  unique_fd fd_;
  std::unique_ptr<sha256> hash_;
  std::uint64_t size_ = 0;
  bool committed_ = false;
};

class store {
 public:
  /// `root` is the images folder; created on first write.
  explicit store(std::filesystem::path root);
  /// $SMVM_CACHE/images, else $XDG_CACHE_HOME/smvm/images, else ~/.cache/smvm/images.
  static std::filesystem::path default_root();

  const std::filesystem::path& root() const { return root_; }
  std::filesystem::path blob_path(const std::string& digest) const;
  bool has_blob(const std::string& digest) const;
  result<blob_writer> new_blob();
  /// Copies a file in, checking it against `expected`.
  result<void> import_blob(const std::filesystem::path& file, const std::string& expected);
  /// A small blob (a manifest, a config) read whole and checked again.
  result<std::string> read_blob(const std::string& digest, std::uint64_t max_size = 16 << 20) const;

  result<void> save(const image_record& record);
  /// The record saved under `name`, or an error saying there is none.
  result<image_record> find(const std::string& name) const;
  std::vector<image_record> list() const;
  /// Forgets `name`, then deletes every blob and root disk no other image uses.
  result<void> remove(const std::string& name);

  std::filesystem::path rootfs_path(const image_record& record) const;
  /// A fresh name under tmp/ for a file that will be renamed into place.
  result<std::filesystem::path> temp_path(const std::string& stem) const;

 private:
  std::filesystem::path record_path(const std::string& name) const;
  std::filesystem::path root_;
};

}  // namespace smvm::image
