#pragma once
// SHA-256 for content addresses ("sha256:<64 hex>"): every blob smvm reads
// from an image is checked against the digest that names it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace smvm::image {

/// Incremental SHA-256 (OpenSSL's EVP).
class sha256 {
 public:
  sha256();
  ~sha256();
  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;
  void update(std::span<const std::uint8_t> bytes);
  void update(std::string_view text);
  /// "sha256:<64 lowercase hex>"; call once.
  std::string digest();

 private:
  struct context;
  std::unique_ptr<context> ctx_;
};

/// The digest of `text` in one call.
std::string sha256_of(std::string_view text);

/// True for "sha256:" followed by 64 lowercase hex digits: the only digests
/// smvm accepts, and so the only ones that become file names.
bool is_sha256_digest(std::string_view digest);

/// The 64 hex digits of a digest that passed is_sha256_digest().
inline std::string_view digest_hex(std::string_view digest) { return digest.substr(7); }

}  // namespace smvm::image
