#pragma once
// From what the user typed to an image in the store: a local archive or
// layout is imported (again only if it changed), a registry reference is
// taken from the store or pulled.

#include "image/progress.hpp"
#include "image/store.hpp"

#include <string>

namespace smvm::run {

/// `pull`: fetch from the registry even when the store has the name.
result<image::image_record> resolve_image(image::store& images, const std::string& reference,
                                          const image::progress_fn& progress, bool pull = false);

/// The name the store files `reference` under, if it has it.
result<std::string> stored_name(const image::store& images, const std::string& reference);

}  // namespace smvm::run
