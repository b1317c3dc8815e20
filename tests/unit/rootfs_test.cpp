// Layers applied into an ext4 root disk: the OCI rules, ownership kept
// without root, and hostile layers refused.

#include "image/rootfs.hpp"
#include "tests/unit/ext4_reader.hpp"
#include "tests/unit/layer_archive.hpp"
#include "tests/unit/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;
using smvm::test::ext4_reader;
using smvm::test::layer_archive;

namespace {

using scratch = smvm::test::scratch_dir;

smvm::result<smvm::image::rootfs_stats> build(const scratch& s, std::vector<fs::path> layers) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < layers.size(); ++i) names.push_back("layer " + std::to_string(i + 1));
  return smvm::image::build_rootfs(layers, names, s / "root.ext4");
}

bool fsck_clean(const fs::path& image) {
  return std::system(("e2fsck -fn " + image.string() + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("layers apply in order: replace, whiteout, opaque folder, links, owners") {
  scratch s;
  {
    layer_archive base(s / "base.tar.gz", true);
    base.dir("etc").file("etc/hostname", "base\n").file("etc/gone", "x").dir("opt/app", 0750, 1000, 1000)
      .file("opt/app/old", "old").file("opt/app/keep-not", "x").file("bin/tool", "#!/bin/sh\n", 0755)
      .symlink("bin/alias", "tool").file("data/original", "shared content");
  }
  {
    layer_archive top(s / "top.tar");
    top.file("etc/hostname", "top\n").file("etc/.wh.gone", "").file("opt/app/.wh..wh..opq", "")
      .file("opt/app/new", "new", 0600, 1000, 1000).hardlink("data/linked", "data/original")
      .file("home/user/.profile", "x", 0644, 1000, 1001).xattr_file("bin/cap", "security.capability", "\x01\x02");
  }
  auto stats = build(s, {s / "base.tar.gz", s / "top.tar"});
  REQUIRE(stats);
  CHECK(fsck_clean(s / "root.ext4"));
  ext4_reader disk((s / "root.ext4").string());
  REQUIRE(disk.ok());
  CHECK(disk.stat("/etc/hostname")->content == "top\n");
  CHECK_FALSE(disk.stat("/etc/gone"));
  CHECK_FALSE(disk.stat("/opt/app/old"));
  CHECK_FALSE(disk.stat("/opt/app/keep-not"));
  auto made = disk.stat("/opt/app/new");
  REQUIRE(made);
  CHECK(made->content == "new");
  CHECK((made->mode & 07777) == 0600);
  CHECK(made->uid == 1000);
  CHECK(disk.stat("/opt/app")->uid == 1000);
  CHECK((disk.stat("/opt/app")->mode & 07777) == 0750);
  CHECK(disk.stat("/bin/alias")->content == "tool");
  CHECK((disk.stat("/bin/tool")->mode & 0111) == 0111);
  auto linked = disk.stat("/data/linked");
  REQUIRE(linked);
  CHECK(linked->content == "shared content");
  CHECK(linked->links == 2);
  CHECK(disk.stat("/data/original")->links == 2);
  CHECK(disk.stat("/home/user/.profile")->gid == 1001);
  CHECK(disk.stat("/home")->uid == 0);  // a folder no entry declared
}

TEST_CASE("a zstd layer unpacks like a gzip one") {
  scratch s;
  {
    layer_archive l(s / "layer.tar.zst", layer_archive::compression::zstd);
    l.file("etc/zstd", "compressed with zstd\n", 0640, 7, 8);
  }
  REQUIRE(build(s, {s / "layer.tar.zst"}));
  ext4_reader disk((s / "root.ext4").string());
  auto f = disk.stat("/etc/zstd");
  REQUIRE(f);
  CHECK(f->content == "compressed with zstd\n");
  CHECK(f->uid == 7);
  CHECK(f->gid == 8);
}

TEST_CASE("a large file and many files in one folder fit, and the disk checks clean") {
  scratch s;
  {
    layer_archive big(s / "big.tar.gz", true);
    std::string blob(3 << 20, 'z');
    for (std::size_t i = 0; i < blob.size(); i += 4096) blob[i] = static_cast<char>('a' + i % 26);
    big.file("big.bin", blob);
    for (int i = 0; i < 600; ++i) big.file("many/file-with-a-long-name-" + std::to_string(i), std::to_string(i));
  }
  REQUIRE(build(s, {s / "big.tar.gz"}));
  CHECK(fsck_clean(s / "root.ext4"));
  ext4_reader disk((s / "root.ext4").string());
  CHECK(disk.stat("/big.bin")->content.size() == (3u << 20));
  CHECK(disk.stat("/many/file-with-a-long-name-599")->content == "599");
}

TEST_CASE("hostile layers are refused with the entry named") {
  scratch s;
  auto refused = [&](auto make, const std::string& expected) {
    const fs::path file = s / "hostile.tar";
    fs::remove(file);
    {
      layer_archive l(file);
      make(l);
    }
    auto r = build(s, {file});
    REQUIRE_FALSE(r);
    INFO(r.error().message);
    CHECK(r.error().message.find(expected) != std::string::npos);
    CHECK(r.error().message.find("layer 1") != std::string::npos);
  };
  refused([](layer_archive& l) { l.file("../escape", "x"); }, "\"..\" would land outside");
  refused([](layer_archive& l) { l.file("a/../../escape", "x"); }, "\"..\" would land outside");
  refused([](layer_archive& l) { l.file("/etc/passwd", "x"); }, "absolute name");
  refused([](layer_archive& l) { l.symlink("evil", "/etc").file("evil/passwd", "x"); }, "goes through the symlink \"evil\"");
  refused([](layer_archive& l) { l.symlink("up", "../..").file("up/x", "x"); }, "goes through the symlink");
  refused([](layer_archive& l) { l.hardlink("steal", "../../etc/shadow"); }, "\"..\" would land outside");
  refused([](layer_archive& l) { l.hardlink("steal", "/etc/shadow"); }, "absolute name");
  refused([](layer_archive& l) { l.hardlink("steal", "not/there"); }, "target is not in the image");
}

TEST_CASE("a corrupt gzip layer is an error naming the layer") {
  scratch s;
  {
    layer_archive l(s / "layer.tar.gz", true);
    l.file("data", std::string(200000, 'q'));
  }
  auto size = fs::file_size(s / "layer.tar.gz");
  {
    FILE* f = std::fopen((s / "layer.tar.gz").c_str(), "r+b");
    std::fseek(f, static_cast<long>(size / 2), SEEK_SET);
    std::fputs("garbage garbage garbage", f);
    std::fclose(f);
  }
  auto r = build(s, {s / "layer.tar.gz"});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("layer 1") != std::string::npos);
}
