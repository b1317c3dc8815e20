#pragma once
// Images on the local disk, imported into the store: a docker-archive
// tarball (what `docker save` and skopeo's docker-archive: write), an OCI
// image layout directory, or a tar of one (oci-archive). Every blob is
// checked against its digest; nothing outside the store is written.

#include "image/progress.hpp"
#include "image/store.hpp"

#include <filesystem>
#include <string>

namespace smvm::image {

/// True when `path` names a file or folder smvm would import (rather than a
/// registry reference).
bool looks_like_local_image(const std::string& path);

/// Imports the image at `path` (a tag after a last ':' picks one from an
/// OCI layout's index) and saves its record under a name made from the
/// absolute path.
result<image_record> import_local_image(store& images, const std::string& path, const progress_fn& progress = {});

}  // namespace smvm::image
