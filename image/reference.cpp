#include "image/reference.hpp"

#include "image/sha256.hpp"

#include <regex>

namespace smvm::image {

std::string reference::name() const {
  std::string n = registry + "/" + repository;
  if (!tag.empty()) n += ":" + tag;
  if (!digest.empty()) n += "@" + digest;
  return n;
}

std::string reference::host() const { return registry == "docker.io" ? "registry-1.docker.io" : registry; }

result<reference> parse_reference(const std::string& text) {
  auto bad = [&](const char* why) { return make_error("\"{}\" is not an image reference: {}", text, why); };
  if (text.empty()) return bad("it is empty");
  reference r;
  std::string rest = text;
  if (auto at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!is_sha256_digest(r.digest)) return bad("the digest must be sha256: and 64 lowercase hex digits");
  }
  // A first component with '.', ':' or "localhost" is a registry.
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    const std::string first = rest.substr(0, slash);
    if (first.find_first_of(".:") != std::string::npos || first == "localhost") {
      r.registry = first;
      rest = rest.substr(slash + 1);
    }
  }
  if (r.registry.empty()) r.registry = "docker.io";
  if (auto colon = rest.rfind(':'); colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    static const std::regex tag_pattern("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    if (!std::regex_match(r.tag, tag_pattern)) return bad("a tag is letters, digits, '_', '.' and '-', at most 128");
  }
  static const std::regex repo_pattern("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*");
  if (!std::regex_match(rest, repo_pattern))
    return bad("a repository is lowercase letters and digits, separated by '/', '.', '_' or '-'");
  if (r.registry == "docker.io" && rest.find('/') == std::string::npos) rest = "library/" + rest;
  r.repository = rest;
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

}  // namespace smvm::image
