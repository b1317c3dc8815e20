#include "image/local_import.hpp"

#include "image/manifest.hpp"

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>

namespace smvm::image {

namespace fs = std::filesystem;

namespace {

using archive_ptr = std::unique_ptr<archive, decltype(&archive_read_free)>;

/// The top-level documents of a layout, kept in memory; everything else is
/// a blob and goes straight into the store.
bool is_document(const std::string& name) {
  return name == "manifest.json" || name == "index.json" || name == "oci-layout" || name == "repositories";
}

std::string normalize(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  return name;
}

/// "blobs/sha256/<hex>", "<hex>.json", "<hex>.tar", "<hex>/layer.tar" -> the digest the name claims, if any.
std::string digest_in_name(const std::string& name) {
  static const std::regex pattern("(?:^|/)([0-9a-f]{64})(?:\\.json|\\.tar)?$");
  std::smatch m;
  if (std::regex_search(name, m, pattern)) return "sha256:" + m[1].str();
  return {};
}

/// What one pass over a tar left: its documents and, per entry name, the
/// digest of its content (now in the store).
struct staged_archive {
  std::map<std::string, std::string> documents;
  std::map<std::string, std::string> blobs;
  std::set<std::string> added;  // digests the store did not have before
};

result<staged_archive> stage_archive(store& images, const fs::path& file, const progress_fn& progress) {
  archive_ptr a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_filename(a.get(), file.c_str(), 1 << 20) != ARCHIVE_OK)
    return make_error("{}: not a readable tar archive: {}", file.string(), archive_error_string(a.get()));
  std::error_code ec;
  const std::uint64_t total = fs::file_size(file, ec);
  staged_archive staged;
  std::vector<std::uint8_t> buffer(1 << 20);
  archive_entry* entry = nullptr;
  for (;;) {
    int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return make_error("{}: not a readable tar archive: {}", file.string(), archive_error_string(a.get()));
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const std::string name = normalize(archive_entry_pathname(entry));
    auto read_chunk = [&]() -> result<std::size_t> {
      la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
      if (n < 0) return make_error("{}: {}: {}", file.string(), name, archive_error_string(a.get()));
      return static_cast<std::size_t>(n);
    };
    if (is_document(name)) {
      std::string text;
      for (;;) {
        auto n = read_chunk();
        if (!n) return n.error();
        if (*n == 0) break;
        text.append(reinterpret_cast<const char*>(buffer.data()), *n);
        if (text.size() > (16u << 20)) return make_error("{}: {} is larger than 16 MiB", file.string(), name);
      }
      staged.documents[name] = std::move(text);
      continue;
    }
    auto writer = images.new_blob();
    if (!writer) return writer.error();
    for (;;) {
      auto n = read_chunk();
      if (!n) return n.error();
      if (*n == 0) break;
      if (auto r = writer->write({buffer.data(), *n}); !r) return r.error();
      if (progress) progress("importing", static_cast<std::uint64_t>(archive_filter_bytes(a.get(), -1)), total);
    }
    bool existed = false;
    auto digest = writer->commit_as_computed(&existed);
    if (!digest) return digest.error();
    staged.blobs[name] = *digest;
    if (!existed) staged.added.insert(*digest);
  }
  return staged;
}

/// The SHA-256 of a layer after decompression: a docker-archive's config
/// names its layers by that (diff_ids), whatever their compression.
result<std::string> uncompressed_digest(const fs::path& blob) {
  archive_ptr a(archive_read_new(), archive_read_free);
  archive_read_support_format_raw(a.get());
  archive_read_support_filter_all(a.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(a.get(), blob.c_str(), 1 << 20) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
    return make_error("cannot read {}: {}", blob.string(), archive_error_string(a.get()));
  sha256 hash;
  std::vector<std::uint8_t> buffer(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buffer.data(), buffer.size());
    if (n < 0) return make_error("{}: {}", blob.string(), archive_error_string(a.get()));
    if (n == 0) break;
    hash.update({buffer.data(), static_cast<std::size_t>(n)});
  }
  return hash.digest();
}

/// Where an import takes blobs from: a staged archive or a layout folder.
class blob_source {
 public:
  blob_source(store& images, std::string origin) : images_(images), origin_(std::move(origin)) {}
  virtual ~blob_source() = default;
  /// Puts the blob with `digest` into the store, checked, or says why not.
  virtual result<void> fetch(const std::string& digest, const std::string& role) = 0;
  virtual result<std::string> document(const std::string& name) = 0;
  const std::string& origin() const { return origin_; }

 protected:
  store& images_;
  std::string origin_;
};

class archive_source : public blob_source {
 public:
  archive_source(store& images, std::string origin, staged_archive staged)
    : blob_source(images, std::move(origin)), staged_(std::move(staged)) {}
  result<void> fetch(const std::string& digest, const std::string& role) override {
    const std::string name = "blobs/sha256/" + std::string(digest_hex(digest));
    auto it = staged_.blobs.find(name);
    if (it == staged_.blobs.end())
      return make_error("{}: the manifest names {} {}, which the archive does not hold", origin_, role, digest);
    if (it->second != digest)
      return make_error("{}: {} {}: digest mismatch, the archive's {} is {}", origin_, role, digest, name, it->second);
    used_.insert(digest);
    return {};
  }
  result<std::string> document(const std::string& name) override {
    auto it = staged_.documents.find(name);
    if (it == staged_.documents.end()) return make_error("{}: no {} in the archive", origin_, name);
    return it->second;
  }
  const std::string* digest_of(const std::string& name) const {
    auto it = staged_.blobs.find(normalize(name));
    return it == staged_.blobs.end() ? nullptr : &it->second;
  }
  void use(const std::string& digest) { used_.insert(digest); }
  /// Drops what this import brought into the store that the image does
  /// not use (a docker-archive's legacy json and VERSION files, say).
  ~archive_source() override {
    std::error_code ec;
    for (const auto& digest : staged_.added)
      if (!used_.count(digest)) fs::remove(images_.blob_path(digest), ec);
  }
  staged_archive staged_;

 private:
  std::set<std::string> used_;
};

class folder_source : public blob_source {
 public:
  folder_source(store& images, std::string origin, fs::path dir) : blob_source(images, std::move(origin)), dir_(std::move(dir)) {}
  result<void> fetch(const std::string& digest, const std::string& role) override {
    const fs::path file = dir_ / "blobs" / "sha256" / std::string(digest_hex(digest));
    std::error_code ec;
    if (!fs::is_regular_file(file, ec))
      return make_error("{}: the manifest names {} {}, which the layout does not hold", origin_, role, digest);
    if (auto r = images_.import_blob(file, digest); !r) return make_error("{}: {} {}: {}", origin_, role, digest, r.error().message);
    return {};
  }
  result<std::string> document(const std::string& name) override {
    const fs::path file = dir_ / name;
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error("{}: no {} in the layout", origin_, name);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text;
  }

 private:
  fs::path dir_;
};

/// An OCI layout: index.json -> (nested index ->) manifest -> config, layers.
result<image_record> import_oci(blob_source& source, store& images, const std::string& tag, std::string name) {
  if (auto layout = source.document("oci-layout"); !layout) return make_error("{}: not an OCI image layout (no oci-layout file)", source.origin());
  auto index_text = source.document("index.json");
  if (!index_text) return index_text.error();
  auto index = parse_index(*index_text, source.origin() + ": index.json");
  if (!index) return index.error();
  std::vector<descriptor> candidates;
  for (const auto& d : *index)
    if (tag.empty() || d.ref_name == tag) candidates.push_back(d);
  if (candidates.empty()) return make_error("{}: index.json has no image tagged \"{}\"", source.origin(), tag);
  if (candidates.size() > 1) {
    std::string tags;
    for (const auto& d : candidates) tags += " " + (d.ref_name.empty() ? d.digest : d.ref_name);
    return make_error("{}: index.json holds {} images; name one with PATH:TAG (tags:{})", source.origin(), candidates.size(), tags);
  }
  descriptor chosen = candidates.front();
  for (int depth = 0; is_index_type(chosen.media_type); ++depth) {
    if (depth > 4) return make_error("{}: indexes nested too deep", source.origin());
    if (auto r = source.fetch(chosen.digest, "index"); !r) return r.error();
    auto text = images.read_blob(chosen.digest);
    if (!text) return text.error();
    auto nested = parse_index(*text, fmt::format("{}: index {}", source.origin(), chosen.digest));
    if (!nested) return nested.error();
    auto pick = pick_linux_amd64(*nested, fmt::format("{}: index {}", source.origin(), chosen.digest));
    if (!pick) return pick.error();
    chosen = *pick;
  }
  if (auto r = source.fetch(chosen.digest, "manifest"); !r) return r.error();
  auto manifest_text = images.read_blob(chosen.digest);
  if (!manifest_text) return manifest_text.error();
  auto m = parse_manifest(*manifest_text, fmt::format("{}: manifest {}", source.origin(), chosen.digest));
  if (!m) return m.error();
  if (auto r = source.fetch(m->config.digest, "config"); !r) return r.error();
  auto config_text = images.read_blob(m->config.digest);
  if (!config_text) return config_text.error();
  if (auto c = parse_image_config(*config_text, fmt::format("{}: config {}", source.origin(), m->config.digest)); !c)
    return c.error();
  image_record record{std::move(name), chosen.digest, m->config.digest, {}, {}};
  for (const auto& layer : m->layers) {
    if (auto r = source.fetch(layer.digest, "layer"); !r) return r.error();
    record.layers.push_back({layer.digest, layer.media_type, layer.size});
  }
  return record;
}

/// A docker-archive: manifest.json -> config file and layer files, checked
/// against the names that carry digests and against the config's diff_ids.
result<image_record> import_docker_archive(archive_source& source, store& images, std::string name) {
  auto text = source.document("manifest.json");
  if (!text) return text.error();
  auto entries = parse_docker_archive_manifest(*text, source.origin() + ": manifest.json");
  if (!entries) return entries.error();
  const auto& image = entries->front();
  auto blob_for = [&](const std::string& file, const std::string& role) -> result<std::string> {
    const std::string* digest = source.digest_of(file);
    if (!digest) return make_error("{}: manifest.json names {} {}, which the archive does not hold", source.origin(), role, file);
    if (auto claimed = digest_in_name(normalize(file)); !claimed.empty() && claimed != *digest)
      return make_error("{}: {} {}: digest mismatch, its content is {}", source.origin(), role, file, *digest);
    source.use(*digest);
    return *digest;
  };
  auto config_digest = blob_for(image.config, "config");
  if (!config_digest) return config_digest.error();
  auto config_text = images.read_blob(*config_digest);
  if (!config_text) return config_text.error();
  auto config = parse_image_config(*config_text, source.origin() + ": " + image.config);
  if (!config) return config.error();
  if (config->diff_ids.size() != image.layers.size())
    return make_error("{}: manifest.json lists {} layers, the config's rootfs.diff_ids {}", source.origin(),
                      image.layers.size(), config->diff_ids.size());
  image_record record{std::move(name), "", *config_digest, {}, {}};
  for (std::size_t i = 0; i < image.layers.size(); ++i) {
    auto digest = blob_for(image.layers[i], "layer");
    if (!digest) return digest.error();
    if (*digest != config->diff_ids[i]) {
      auto plain = uncompressed_digest(images.blob_path(*digest));
      if (!plain) return plain.error();
      if (*plain != config->diff_ids[i])
        return make_error("{}: layer {}: digest mismatch, its content is {} but the config says {}", source.origin(),
                          image.layers[i], *plain, config->diff_ids[i]);
    }
    std::error_code ec;
    const auto size = fs::file_size(images.blob_path(*digest), ec);
    record.layers.push_back({*digest, "", ec ? 0 : size});
  }
  return record;
}

/// Splits "path:tag" when the whole is not a path but the part before the last ':' is.
std::pair<std::string, std::string> split_tag(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec)) return {path, ""};
  auto colon = path.rfind(':');
  if (colon != std::string::npos && colon > 0 && path.find('/', colon) == std::string::npos &&
      fs::exists(path.substr(0, colon), ec))
    return {path.substr(0, colon), path.substr(colon + 1)};
  return {path, ""};
}

/// Size and modification time: a file (or a layout's index.json) that
/// changed gets imported again.
std::string source_stamp(const fs::path& path) {
  struct stat st {};
  std::error_code ec;
  const fs::path probe = fs::is_directory(path, ec) ? path / "index.json" : path;
  if (::stat(probe.c_str(), &st) != 0) return {};
  return fmt::format("{}:{}.{}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

std::string strip_transport(const std::string& ref) {
  for (const char* prefix : {"docker-archive:", "oci-archive:", "oci:"})
    if (ref.rfind(prefix, 0) == 0) return ref.substr(std::string_view(prefix).size());
  return ref;
}

}  // namespace

bool looks_like_local_image(const std::string& ref) {
  for (const char* prefix : {"docker-archive:", "oci-archive:", "oci:"})
    if (ref.rfind(prefix, 0) == 0) return true;
  std::error_code ec;
  return fs::exists(split_tag(ref).first, ec);
}

result<image_record> import_local_image(store& images, const std::string& ref, const progress_fn& progress) {
  auto [path, tag] = split_tag(strip_transport(ref));
  std::error_code ec;
  const fs::path absolute = fs::absolute(path, ec);
  if (!fs::exists(absolute, ec)) return make_error("{}: no such file or folder", path);
  std::string name = absolute.string() + (tag.empty() ? "" : ":" + tag);
  const std::string stamp = source_stamp(absolute);
  const bool is_dir = fs::is_directory(absolute, ec);
  // Imported before, and the file has not changed since: nothing to do.
  for (const char* prefix : {"oci:", "docker-archive:", "oci-archive:"}) {
    if (is_dir != (std::string_view(prefix) == "oci:")) continue;
    if (auto known = images.find(prefix + name); known && known->source_stamp == stamp && !stamp.empty()) {
      bool whole = images.has_blob(known->config_digest);
      for (const auto& l : known->layers) whole = whole && images.has_blob(l.digest);
      if (whole) return known;
    }
  }
  result<image_record> record = make_error("{}: not an image", path);
  if (fs::is_directory(absolute, ec)) {
    folder_source source(images, path, absolute);
    record = import_oci(source, images, tag, "oci:" + name);
  } else {
    auto staged = stage_archive(images, absolute, progress);
    if (!staged) return staged.error();
    const bool docker = staged->documents.count("manifest.json") && !staged->documents.count("oci-layout");
    archive_source source(images, path, std::move(*staged));
    record = docker ? import_docker_archive(source, images, "docker-archive:" + name)
                    : import_oci(source, images, tag, "oci-archive:" + name);
  }
  if (!record) return record.error();
  record->source_stamp = stamp;
  if (auto r = images.save(*record); !r) return r.error();
  return record;
}

}  // namespace smvm::image
