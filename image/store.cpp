#include "image/store.hpp"

#include "common/cache_root.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <set>
#include <sstream>

namespace smvm::image {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

result<void> make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("cannot create {}: {}", dir.string(), ec.message());
  return {};
}

json to_json(const image_record& r) {
  json layers = json::array();
  for (const auto& l : r.layers) layers.push_back({{"digest", l.digest}, {"mediaType", l.media_type}, {"size", l.size}});
  return {{"name", r.name}, {"manifest", r.manifest_digest}, {"config", r.config_digest}, {"layers", layers},
          {"source", r.source_stamp}};
}

result<image_record> from_json(const std::string& text, const fs::path& file) {
  try {
    auto j = json::parse(text);
    image_record r;
    r.name = j.at("name").get<std::string>();
    r.manifest_digest = j.at("manifest").get<std::string>();
    r.config_digest = j.at("config").get<std::string>();
    r.source_stamp = j.value("source", std::string{});
    for (const auto& l : j.at("layers"))
      r.layers.push_back({l.at("digest").get<std::string>(), l.at("mediaType").get<std::string>(),
                          l.at("size").get<std::uint64_t>()});
    if (!is_sha256_digest(r.config_digest)) return make_error("{}: bad config digest", file.string());
    for (const auto& l : r.layers)
      if (!is_sha256_digest(l.digest)) return make_error("{}: bad layer digest", file.string());
    return r;
  } catch (const json::exception& e) {
    return make_error("{}: {}", file.string(), e.what());
  }
}

result<std::string> read_text(const fs::path& file, std::uint64_t max_size) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error("cannot read {}: {}", file.string(), std::strerror(errno));
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_size) return make_error("{} is larger than {} bytes", file.string(), max_size);
  }
  return text;
}

}  // namespace

std::string image_record::rootfs_key() const {
  sha256 h;
  for (const auto& l : layers) {
    h.update(l.digest);
    h.update("\n");
  }
  return h.digest();
}

std::uint64_t image_record::size() const {
  std::uint64_t total = 0;
  for (const auto& l : layers) total += l.size;
  return total;
}

blob_writer::blob_writer(fs::path temp, fs::path blobs, unique_fd fd)
  : temp_(std::move(temp)), blobs_(std::move(blobs)), fd_(std::move(fd)), hash_(std::make_unique<sha256>()) {}

blob_writer::blob_writer(blob_writer&& other) noexcept
  : temp_(std::move(other.temp_)), blobs_(std::move(other.blobs_)), fd_(std::move(other.fd_)),
    hash_(std::move(other.hash_)), size_(other.size_), committed_(std::exchange(other.committed_, true)) {}

blob_writer::~blob_writer() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

result<void> blob_writer::write(std::span<const std::uint8_t> bytes) {
  hash_->update(bytes);
  size_ += bytes.size();
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot write {}: {}", temp_.string(), std::strerror(errno));
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

result<void> blob_writer::finish_as(const std::string& digest) {
  if (::fsync(fd_.get()) != 0) return make_error("cannot write {}: {}", temp_.string(), std::strerror(errno));
  fd_.reset();
  std::error_code ec;
  fs::rename(temp_, blobs_ / digest_hex(digest), ec);
  if (ec) return make_error("cannot store blob {}: {}", digest, ec.message());
  committed_ = true;
  return {};
}

result<void> blob_writer::commit(const std::string& expected) {
  const std::string actual = hash_->digest();
  if (actual != expected)
    return make_error("digest mismatch: the content is {}, not the expected {}", actual, expected);
  return finish_as(actual);
}

result<std::string> blob_writer::commit_as_computed(bool* existed) {
  std::string actual = hash_->digest();
  std::error_code ec;
  if (existed) *existed = fs::exists(blobs_ / digest_hex(actual), ec);
  if (auto r = finish_as(actual); !r) return r.error();
  return actual;
}

store::store(fs::path root) : root_(std::move(root)) {}

fs::path store::default_root() { return cache_root() / "images"; }

fs::path store::blob_path(const std::string& digest) const {
  return root_ / "blobs" / "sha256" / std::string(digest_hex(digest));
}

bool store::has_blob(const std::string& digest) const {
  std::error_code ec;
  return is_sha256_digest(digest) && fs::is_regular_file(blob_path(digest), ec);
}

result<fs::path> store::temp_path(const std::string& stem) const {
  if (auto r = make_dirs(root_ / "tmp"); !r) return r.error();
  static std::atomic<unsigned> counter{0};
  return root_ / "tmp" / fmt::format("{}.{}.{}", stem, ::getpid(), counter++);
}

result<blob_writer> store::new_blob() {
  if (auto r = make_dirs(root_ / "blobs" / "sha256"); !r) return r.error();
  auto temp = temp_path("blob");
  if (!temp) return temp.error();
  unique_fd fd(::open(temp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return make_error("cannot create {}: {}", temp->string(), std::strerror(errno));
  return blob_writer(*temp, root_ / "blobs" / "sha256", std::move(fd));
}

result<void> store::import_blob(const fs::path& file, const std::string& expected) {
  if (!is_sha256_digest(expected)) return make_error("\"{}\" is not a sha256 digest", expected);
  if (has_blob(expected)) return {};
  unique_fd in(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return make_error("cannot read {}: {}", file.string(), std::strerror(errno));
  auto writer = new_blob();
  if (!writer) return writer.error();
  std::vector<std::uint8_t> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("cannot read {}: {}", file.string(), std::strerror(errno));
    if (n == 0) break;
    if (auto r = writer->write({buffer.data(), static_cast<std::size_t>(n)}); !r) return r;
  }
  return writer->commit(expected);
}

result<std::string> store::read_blob(const std::string& digest, std::uint64_t max_size) const {
  if (!has_blob(digest)) return make_error("blob {} is not in the image store", digest);
  auto text = read_text(blob_path(digest), max_size);
  if (!text) return text.error();
  if (auto actual = sha256_of(*text); actual != digest)
    return make_error("blob {} in the image store is damaged (its content is {}); remove the image and pull it again",
                      digest, actual);
  return text;
}

fs::path store::record_path(const std::string& name) const {
  return root_ / "refs" / (std::string(digest_hex(sha256_of(name))) + ".json");
}

result<void> store::save(const image_record& record) {
  if (auto r = make_dirs(root_ / "refs"); !r) return r;
  auto temp = temp_path("ref");
  if (!temp) return temp.error();
  {
    std::ofstream out(*temp, std::ios::binary | std::ios::trunc);
    out << to_json(record).dump(2) << '\n';
    if (!out.flush()) return make_error("cannot write {}: {}", temp->string(), std::strerror(errno));
  }
  std::error_code ec;
  fs::rename(*temp, record_path(record.name), ec);
  if (ec) return make_error("cannot save image {}: {}", record.name, ec.message());
  return {};
}

result<image_record> store::find(const std::string& name) const {
  const auto file = record_path(name);
  std::error_code ec;
  if (!fs::exists(file, ec)) return make_error("no image named {} in {}", name, root_.string());
  auto text = read_text(file, 16 << 20);
  if (!text) return text.error();
  return from_json(*text, file);
}

std::vector<image_record> store::list() const {
  std::vector<image_record> records;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_ / "refs", ec)) {
    if (entry.path().extension() != ".json") continue;
    auto text = read_text(entry.path(), 16 << 20);
    if (!text) continue;
    if (auto r = from_json(*text, entry.path())) records.push_back(std::move(*r));
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return records;
}

result<void> store::remove(const std::string& name) {
  auto record = find(name);
  if (!record) return record.error();
  std::error_code ec;
  fs::remove(record_path(name), ec);
  if (ec) return make_error("cannot remove image {}: {}", name, ec.message());
  std::set<std::string> used;
  for (const auto& r : list()) {
    used.insert(r.config_digest);
    used.insert(r.rootfs_key());
    used.insert(r.manifest_digest);
    for (const auto& l : r.layers) used.insert(l.digest);
  }
  auto drop = [&](const std::string& digest) {
    if (!digest.empty() && !used.count(digest)) fs::remove(blob_path(digest), ec);
  };
  drop(record->config_digest);
  drop(record->manifest_digest);
  for (const auto& l : record->layers) drop(l.digest);
  if (!used.count(record->rootfs_key())) fs::remove(rootfs_path(*record), ec);
  return {};
}

fs::path store::rootfs_path(const image_record& record) const {
  return root_ / "rootfs" / (std::string(digest_hex(record.rootfs_key())) + ".ext4");
}

}  // namespace smvm::image
