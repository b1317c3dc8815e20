#pragma once
// Pulls an image from an OCI distribution registry (the v2 API) with
// libcurl: HTTPS, or HTTP for a loopback registry (as Docker allows) and
// for hosts in $SMVM_INSECURE_REGISTRIES; anonymous bearer tokens
// (WWW-Authenticate: Bearer realm=...). Every blob is checked against its
// digest before it enters the store.

#include "image/progress.hpp"
#include "image/reference.hpp"
#include "image/store.hpp"

#include <map>
#include <string>

namespace smvm::image {

result<image_record> pull_from_registry(store& images, const reference& ref, const progress_fn& progress = {});

/// The parameters of a `WWW-Authenticate: Bearer k="v",...` header; empty
/// when it is not a Bearer challenge.
std::map<std::string, std::string> parse_bearer_challenge(const std::string& header);

}  // namespace smvm::image
