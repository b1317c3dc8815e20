// libFuzzer target: the workload channel's bytes as a hostile guest might
// send them (frames of any type, length and cut), through the sink that
// `smvm run` writes stdout and stderr with and takes the EXIT frame from.
// ASan and UBSan watch it. The first byte sets how the rest is cut into
// writes, as virtqueue buffers cut it.

#include "actors/console_sink.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (size == 0 || null_fd < 0) return 0;
  auto sink = smvm::actors::console_sink::workload_streams(null_fd, null_fd);
  const std::size_t cut = std::size_t{data[0]} + 1;
  for (std::size_t at = 1; at < size; at += cut)
    sink->write({data + at, std::min(cut, size - at)});
  (void)sink->exit_status();
  (void)sink->failure();
  return 0;
}
