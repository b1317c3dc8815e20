#include "run/image_resolver.hpp"

#include "image/local_import.hpp"
#include "image/reference.hpp"
#include "image/registry.hpp"

#include <filesystem>

namespace smvm::run {

result<image::image_record> resolve_image(image::store& images, const std::string& reference,
                                          const image::progress_fn& progress, bool pull) {
  if (image::looks_like_local_image(reference)) return image::import_local_image(images, reference, progress);
  // A path that is not there: say so, rather than read it as a registry name.
  if (reference.rfind('/', 0) == 0 || reference.rfind("./", 0) == 0 || reference.rfind("../", 0) == 0 ||
      reference.rfind('~', 0) == 0 || reference.ends_with(".tar"))
    return make_error("{}: no such file or folder", reference);
  auto ref = image::parse_reference(reference);
  if (!ref) return ref.error();
  if (!pull)
    if (auto known = images.find(ref->name())) return known;
  auto record = image::pull_from_registry(images, *ref, progress);
  if (!record) return record.error();
  if (auto r = images.save(*record); !r) return r.error();
  return record;
}

result<std::string> stored_name(const image::store& images, const std::string& reference) {
  if (images.find(reference)) return reference;
  std::error_code ec;
  const std::string absolute = std::filesystem::absolute(reference, ec).string();
  for (const char* prefix : {"docker-archive:", "oci-archive:", "oci:"})
    if (images.find(prefix + absolute)) return prefix + absolute;
  if (auto ref = image::parse_reference(reference); ref && images.find(ref->name())) return ref->name();
  return make_error("no image {} in the store (smvm images lists them)", reference);
}

}  // namespace smvm::run
