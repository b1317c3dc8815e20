#pragma once
// Progress of long steps (downloads, unpacking), reported to whoever runs
// them: the CLI draws a line on a terminal, a library user may ignore it.

#include <cstdint>
#include <functional>
#include <string_view>

namespace smvm::image {

/// `step` ("pulling sha256:ab12..", "unpacking"), bytes done, bytes in all (0: unknown).
using progress_fn = std::function<void(std::string_view step, std::uint64_t done, std::uint64_t total)>;

}  // namespace smvm::image
