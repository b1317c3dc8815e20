#pragma once
// The JSON documents of an image: OCI index and manifest, Docker manifest
// list and manifest v2, the image config, and a docker-archive's
// manifest.json. Parsed into plain structs; every error names the document.

#include "common/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace smvm::image {

namespace media_type {
inline constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media_type

struct descriptor {
  std::string media_type;
  std::string digest;
  std::uint64_t size = 0;
  std::string os, architecture, variant;  // in an index
  std::string ref_name;                   // org.opencontainers.image.ref.name, in an OCI layout's index
};

struct manifest {
  descriptor config;
  std::vector<descriptor> layers;
};

/// What the image says about running it.
struct image_config {
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> entrypoint, cmd;
  std::string working_dir, user;
  std::string os, architecture;
  std::vector<std::string> diff_ids;  // digests of the uncompressed layers
};

/// One image in a docker-archive's manifest.json.
struct docker_archive_image {
  std::string config;               // file name inside the archive
  std::vector<std::string> layers;  // file names, lowest first
  std::vector<std::string> repo_tags;
};

bool is_index_type(const std::string& media_type);
bool is_manifest_type(const std::string& media_type);
/// True for the tar layer types smvm unpacks (plain, gzip, zstd; OCI and Docker).
bool is_layer_type(const std::string& media_type);

/// `what` names the document in errors ("index.json", "manifest sha256:...").
result<std::vector<descriptor>> parse_index(const std::string& text, const std::string& what);
result<manifest> parse_manifest(const std::string& text, const std::string& what);
result<image_config> parse_image_config(const std::string& text, const std::string& what);
result<std::vector<docker_archive_image>> parse_docker_archive_manifest(const std::string& text,
                                                                        const std::string& what);
/// The media type a manifest or index says it has, or "" when it says none.
std::string declared_media_type(const std::string& text);

/// From an index, the linux/amd64 manifest.
result<descriptor> pick_linux_amd64(const std::vector<descriptor>& manifests, const std::string& what);

}  // namespace smvm::image
