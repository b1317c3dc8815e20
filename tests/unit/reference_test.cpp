// Registry references, read as Docker reads them, and registry challenges.

#include "image/reference.hpp"
#include "image/registry.hpp"

#include <catch2/catch.hpp>

using smvm::image::parse_reference;

TEST_CASE("short names are Docker Hub library images at latest") {
  auto r = parse_reference("busybox");
  REQUIRE(r);
  CHECK(r->name() == "docker.io/library/busybox:latest");
  CHECK(r->host() == "registry-1.docker.io");
  CHECK(parse_reference("user/app:1.2")->name() == "docker.io/user/app:1.2");
}

TEST_CASE("a first component with a dot, a port or localhost is the registry") {
  auto r = parse_reference("127.0.0.1:5000/smvm/test:1");
  REQUIRE(r);
  CHECK(r->registry == "127.0.0.1:5000");
  CHECK(r->repository == "smvm/test");
  CHECK(r->tag == "1");
  CHECK(parse_reference("localhost/app")->name() == "localhost/app:latest");
  CHECK(parse_reference("ghcr.io/org/app")->repository == "org/app");
}

TEST_CASE("a digest pins the manifest") {
  const std::string d = "sha256:" + std::string(64, 'a');
  auto r = parse_reference("example.com/app@" + d);
  REQUIRE(r);
  CHECK(r->manifest_ref() == d);
  CHECK(r->tag.empty());
}

TEST_CASE("bad references say why") {
  CHECK(parse_reference("").error().message.find("it is empty") != std::string::npos);
  CHECK(parse_reference("Upper/Case").error().message.find("lowercase") != std::string::npos);
  CHECK(parse_reference("app@sha256:xyz").error().message.find("digest") != std::string::npos);
  CHECK(parse_reference("app:-bad").error().message.find("a tag is") != std::string::npos);
}

TEST_CASE("a Bearer challenge gives realm, service and scope") {
  auto c = smvm::image::parse_bearer_challenge(
    R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:app:pull")");
  CHECK(c["realm"] == "https://auth.example/token");
  CHECK(c["service"] == "registry.example");
  CHECK(c["scope"] == "repository:app:pull");
  CHECK(smvm::image::parse_bearer_challenge(R"(Basic realm="x")").empty());
}
