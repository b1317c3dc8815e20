#pragma once
// Registry image references as Docker reads them:
//   [REGISTRY[:PORT]/]REPOSITORY[:TAG][@sha256:DIGEST]
// "busybox" is docker.io/library/busybox:latest.

#include "common/result.hpp"

#include <string>

namespace smvm::image {

struct reference {
  std::string registry;    // "docker.io", "127.0.0.1:5000"
  std::string repository;  // "library/busybox"
  std::string tag;         // "latest" unless a digest alone was given
  std::string digest;      // "" or "sha256:..."
  /// The canonical name: what the store files the image under.
  std::string name() const;
  /// The tag or the digest: what the manifest request asks for.
  std::string manifest_ref() const { return digest.empty() ? tag : digest; }
  /// The host to connect to (docker.io is served by registry-1.docker.io).
  std::string host() const;
};

result<reference> parse_reference(const std::string& text);

}  // namespace smvm::image
