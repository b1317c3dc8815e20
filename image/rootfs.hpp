#pragma once
// An image's root disk: its layers applied in order into an ext4 image,
// built once per image ID and kept under images/rootfs/. VMs of that image
// share it read-only; each writes to its own overlay in the guest.

#include "image/progress.hpp"
#include "image/store.hpp"

#include <filesystem>
#include <vector>

namespace smvm::image {

struct rootfs_stats {
  std::uint64_t entries = 0;
  std::uint64_t bytes_in = 0;  // of the layers as stored
};

/// Builds an ext4 image at `out` from layer tarballs (plain, gzip or zstd),
/// lowest first; `names` label the layers in errors.
result<rootfs_stats> build_rootfs(const std::vector<std::filesystem::path>& layers,
                                  const std::vector<std::string>& names, const std::filesystem::path& out,
                                  const progress_fn& progress = {});

/// The cached root disk of `record`, built first if missing.
result<std::filesystem::path> ensure_rootfs(store& images, const image_record& record,
                                            const progress_fn& progress = {});

}  // namespace smvm::image
