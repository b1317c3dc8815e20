#include "image/sha256.hpp"

#include <openssl/evp.h>

namespace smvm::image {

struct sha256::context {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~context() { EVP_MD_CTX_free(md); }
};

sha256::sha256() : ctx_(std::make_unique<context>()) { EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr); }
sha256::~sha256() = default;

void sha256::update(std::span<const std::uint8_t> bytes) { EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size()); }
void sha256::update(std::string_view text) { EVP_DigestUpdate(ctx_->md, text.data(), text.size()); }

std::string sha256::digest() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &length);
  static constexpr char hex[] = "0123456789abcdef";
  std::string text = "sha256:";
  for (unsigned i = 0; i < length; ++i) {
    text += hex[out[i] >> 4];
    text += hex[out[i] & 15];
  }
  return text;
}

std::string sha256_of(std::string_view text) {
  sha256 h;
  h.update(text);
  return h.digest();
}

bool is_sha256_digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  for (char c : digest.substr(7))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace smvm::image
