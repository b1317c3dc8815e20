#include "image/manifest.hpp"

#include "image/sha256.hpp"

#include <nlohmann/json.hpp>

namespace smvm::image {

using json = nlohmann::json;

namespace {

result<json> parse_json(const std::string& text, const std::string& what) {
  try {
    auto j = json::parse(text);
    if (!j.is_object() && !j.is_array()) return make_error("{}: expected a JSON object", what);
    return j;
  } catch (const json::exception& e) {
    return make_error("{} is not valid JSON: {}", what, e.what());
  }
}

std::string string_at(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<std::vector<std::string>> strings_at(const json& j, const char* key, bool& ok) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) {
    ok = false;
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& s : *it) {
    if (!s.is_string()) {
      ok = false;
      return std::nullopt;
    }
    out.push_back(s.get<std::string>());
  }
  return out;
}

result<descriptor> parse_descriptor(const json& j, const std::string& what) {
  if (!j.is_object()) return make_error("{}: a descriptor is not an object", what);
  descriptor d;
  d.media_type = string_at(j, "mediaType");
  d.digest = string_at(j, "digest");
  if (!is_sha256_digest(d.digest))
    return make_error("{}: \"{}\" is not a sha256 digest (sha256: and 64 lowercase hex digits)", what, d.digest);
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned()) return make_error("{}: descriptor {} has no size", what, d.digest);
  d.size = size->get<std::uint64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.os = string_at(*p, "os");
    d.architecture = string_at(*p, "architecture");
    d.variant = string_at(*p, "variant");
  }
  if (auto a = j.find("annotations"); a != j.end() && a->is_object())
    d.ref_name = string_at(*a, "org.opencontainers.image.ref.name");
  return d;
}

}  // namespace

bool is_index_type(const std::string& t) { return t == media_type::oci_index || t == media_type::docker_list; }
bool is_manifest_type(const std::string& t) { return t == media_type::oci_manifest || t == media_type::docker_manifest; }

bool is_layer_type(const std::string& t) {
  static const char* const known[] = {
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar",
  };
  for (const char* k : known)
    if (t == k) return true;
  return false;
}

std::string declared_media_type(const std::string& text) {
  try {
    auto j = json::parse(text);
    return j.is_object() ? string_at(j, "mediaType") : std::string{};
  } catch (const json::exception&) {
    return {};
  }
}

result<std::vector<descriptor>> parse_index(const std::string& text, const std::string& what) {
  auto j = parse_json(text, what);
  if (!j) return j.error();
  auto it = j->find("manifests");
  if (!j->is_object() || it == j->end() || !it->is_array()) return make_error("{}: no \"manifests\" list", what);
  std::vector<descriptor> out;
  for (const auto& m : *it) {
    auto d = parse_descriptor(m, what);
    if (!d) return d.error();
    out.push_back(std::move(*d));
  }
  return out;
}

result<manifest> parse_manifest(const std::string& text, const std::string& what) {
  auto j = parse_json(text, what);
  if (!j) return j.error();
  if (!j->is_object()) return make_error("{}: expected a JSON object", what);
  if (auto v = j->find("schemaVersion"); v == j->end() || *v != 2)
    return make_error("{}: only schemaVersion 2 manifests are supported", what);
  auto config = j->find("config");
  auto layers = j->find("layers");
  if (config == j->end() || layers == j->end() || !layers->is_array())
    return make_error("{}: a manifest needs \"config\" and a \"layers\" list", what);
  manifest m;
  auto c = parse_descriptor(*config, what);
  if (!c) return c.error();
  m.config = std::move(*c);
  for (const auto& l : *layers) {
    auto d = parse_descriptor(l, what);
    if (!d) return d.error();
    if (!is_layer_type(d->media_type))
      return make_error("{}: layer {} has media type \"{}\", which is not a tar layer smvm can unpack", what,
                        d->digest, d->media_type);
    m.layers.push_back(std::move(*d));
  }
  return m;
}

result<image_config> parse_image_config(const std::string& text, const std::string& what) {
  auto j = parse_json(text, what);
  if (!j) return j.error();
  if (!j->is_object()) return make_error("{}: expected a JSON object", what);
  image_config c;
  c.os = string_at(*j, "os");
  c.architecture = string_at(*j, "architecture");
  bool ok = true;
  if (auto cfg = j->find("config"); cfg != j->end() && cfg->is_object()) {
    c.env = strings_at(*cfg, "Env", ok).value_or(std::vector<std::string>{});
    c.entrypoint = strings_at(*cfg, "Entrypoint", ok);
    c.cmd = strings_at(*cfg, "Cmd", ok);
    c.working_dir = string_at(*cfg, "WorkingDir");
    c.user = string_at(*cfg, "User");
  }
  if (auto rootfs = j->find("rootfs"); rootfs != j->end() && rootfs->is_object())
    c.diff_ids = strings_at(*rootfs, "diff_ids", ok).value_or(std::vector<std::string>{});
  if (!ok) return make_error("{}: Env, Entrypoint, Cmd and rootfs.diff_ids must be lists of strings", what);
  if (!c.os.empty() && c.os != "linux") return make_error("{}: the image is for {}, smvm runs linux images", what, c.os);
  if (!c.architecture.empty() && c.architecture != "amd64")
    return make_error("{}: the image is for {}, smvm runs amd64 images", what, c.architecture);
  return c;
}

result<std::vector<docker_archive_image>> parse_docker_archive_manifest(const std::string& text,
                                                                        const std::string& what) {
  auto j = parse_json(text, what);
  if (!j) return j.error();
  if (!j->is_array() || j->empty()) return make_error("{}: expected a non-empty list of images", what);
  std::vector<docker_archive_image> out;
  for (const auto& entry : *j) {
    if (!entry.is_object()) return make_error("{}: an image entry is not an object", what);
    docker_archive_image image;
    image.config = string_at(entry, "Config");
    bool ok = true;
    image.layers = strings_at(entry, "Layers", ok).value_or(std::vector<std::string>{});
    image.repo_tags = strings_at(entry, "RepoTags", ok).value_or(std::vector<std::string>{});
    if (!ok || image.config.empty()) return make_error("{}: an image needs \"Config\" and a \"Layers\" list", what);
    out.push_back(std::move(image));
  }
  return out;
}

result<descriptor> pick_linux_amd64(const std::vector<descriptor>& manifests, const std::string& what) {
  for (const auto& d : manifests)
    if (d.os == "linux" && d.architecture == "amd64" && is_manifest_type(d.media_type)) return d;
  std::string offered;
  for (const auto& d : manifests) offered += fmt::format(" {}/{}", d.os.empty() ? "?" : d.os, d.architecture.empty() ? "?" : d.architecture);
  return make_error("{}: no linux/amd64 image; it offers:{}", what, offered.empty() ? " nothing" : offered);
}

}  // namespace smvm::image
