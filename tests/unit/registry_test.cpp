// Pulling from a registry over real HTTP (a small server in this test):
// the bearer-token flow, an index narrowed to linux/amd64, and a blob that
// does not match its digest.

#include "image/registry.hpp"
#include "image/rootfs.hpp"
#include "image/sha256.hpp"
#include "tests/unit/ext4_reader.hpp"
#include "tests/unit/layer_archive.hpp"
#include "tests/unit/scratch_dir.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// Serves fixed paths over HTTP/1.1 on 127.0.0.1; /v2/ paths want a bearer token.
class fake_registry {
 public:
  std::map<std::string, std::pair<std::string, std::string>> routes;  // path -> (content type, body)
  std::atomic<int> token_requests{0}, unauthorized{0};

  fake_registry() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  ~fake_registry() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      const std::string path = request.substr(request.find(' ') + 1, request.find(' ', request.find(' ') + 1) - request.find(' ') - 1);
      std::string status = "200 OK", type = "application/json", body, extra;
      if (path.rfind("/token?", 0) == 0) {
        ++token_requests;
        body = R"({"token":"secret-token"})";
      } else if (request.find("Authorization: Bearer secret-token") == std::string::npos) {
        ++unauthorized;
        status = "401 Unauthorized";
        extra = "WWW-Authenticate: Bearer realm=\"http://" + host() + "/token\",service=\"fake\",scope=\"repository:app:pull\"\r\n";
        body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})";
      } else if (auto it = routes.find(path); it != routes.end()) {
        type = it->second.first;
        body = it->second.second;
      } else {
        status = "404 Not Found";
        body = R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})";
      }
      std::string response = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra + "\r\n" + body;
      [[maybe_unused]] auto n = ::write(c, response.data(), response.size());
      ::close(c);
    }
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct published {
  std::string layer, config, manifest, index;
};

/// An image with one gzip layer, published under app:1 (an index) and app:direct.
published publish(fake_registry& r, const fs::path& dir, bool spoil_layer = false) {
  {
    smvm::test::layer_archive l(dir / "layer.tar.gz", true);
    l.dir("etc").file("etc/hello", "from the registry\n", 0644, 1000, 1000);
  }
  published p;
  p.layer = read_all(dir / "layer.tar.gz");
  const std::string layer_digest = smvm::image::sha256_of(p.layer);
  p.config = json{{"architecture", "amd64"}, {"os", "linux"}, {"config", {{"Cmd", {"/bin/true"}}}},
                  {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:" + std::string(64, '0')}}}}}.dump();
  const std::string config_digest = smvm::image::sha256_of(p.config);
  p.manifest = json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                    {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"}, {"digest", config_digest}, {"size", p.config.size()}}},
                    {"layers", {{{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", layer_digest}, {"size", p.layer.size()}}}}}.dump();
  const std::string manifest_digest = smvm::image::sha256_of(p.manifest);
  p.index = json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"},
                 {"manifests", {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", "sha256:" + std::string(64, 'b')}, {"size", 10},
                                 {"platform", {{"os", "linux"}, {"architecture", "arm64"}}}},
                                {{"mediaType", "application/vnd.oci.image.manifest.v1+json"}, {"digest", manifest_digest}, {"size", p.manifest.size()},
                                 {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}}.dump();
  r.routes["/v2/app/manifests/1"] = {"application/vnd.oci.image.index.v1+json", p.index};
  r.routes["/v2/app/manifests/direct"] = {"application/vnd.oci.image.manifest.v1+json", p.manifest};
  r.routes["/v2/app/manifests/" + manifest_digest] = {"application/vnd.oci.image.manifest.v1+json", p.manifest};
  r.routes["/v2/app/blobs/" + config_digest] = {"application/octet-stream", p.config};
  std::string served = p.layer;
  if (spoil_layer) served[served.size() / 2] ^= 0x55;
  r.routes["/v2/app/blobs/" + layer_digest] = {"application/octet-stream", served};
  p.layer = layer_digest;
  p.manifest = manifest_digest;
  return p;
}

using smvm::test::scratch_dir;

}  // namespace

TEST_CASE("a pull follows the bearer-token flow and picks linux/amd64 from an index") {
  scratch_dir dir;
  fake_registry registry;
  auto p = publish(registry, dir.path);
  smvm::image::store images(dir.path / "store");
  auto ref = smvm::image::parse_reference(registry.host() + "/app:1");
  REQUIRE(ref);
  auto record = smvm::image::pull_from_registry(images, *ref);
  REQUIRE(record);
  CHECK(registry.token_requests >= 1);
  CHECK(registry.unauthorized >= 1);
  CHECK(record->manifest_digest == p.manifest);
  REQUIRE(record->layers.size() == 1);
  CHECK(images.has_blob(p.layer));
  auto disk = smvm::image::ensure_rootfs(images, *record);
  REQUIRE(disk);
  smvm::test::ext4_reader reader(disk->string());
  auto hello = reader.stat("/etc/hello");
  REQUIRE(hello);
  CHECK(hello->content == "from the registry\n");
  CHECK(hello->uid == 1000);
}

TEST_CASE("a registry blob that does not match its digest is refused and not kept") {
  scratch_dir dir;
  fake_registry registry;
  auto p = publish(registry, dir.path, true);
  smvm::image::store images(dir.path / "store");
  auto record = smvm::image::pull_from_registry(images, *smvm::image::parse_reference(registry.host() + "/app:direct"));
  REQUIRE_FALSE(record);
  CHECK(record.error().message.find("digest mismatch") != std::string::npos);
  CHECK(record.error().message.find(p.layer) != std::string::npos);
  CHECK_FALSE(images.has_blob(p.layer));
  CHECK(fs::is_empty(dir.path / "store" / "tmp"));
}

TEST_CASE("a tag the registry does not have is named") {
  scratch_dir dir;
  fake_registry registry;
  publish(registry, dir.path);
  smvm::image::store images(dir.path / "store");
  auto record = smvm::image::pull_from_registry(images, *smvm::image::parse_reference(registry.host() + "/app:2"));
  REQUIRE_FALSE(record);
  CHECK(record.error().message == registry.host() + "/app:2: manifest 2 not found in the registry");
}
