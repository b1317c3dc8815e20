// libFuzzer target: guest RAM and a queue configuration from the fuzzer,
// then pop every request, parse it as a block request and complete it. The
// device code must neither crash nor touch memory outside guest RAM (ASan
// watches the 64 KiB buffer's bounds).

#include "devices/virtio/blk/request.hpp"
#include "devices/virtio/queue.hpp"

#include "tests/fuzz/fuzz_memory.hpp"

#include <cstring>
#include <vector>

using namespace smvm;
using namespace smvm::devices;
using namespace smvm::devices::virtio;

namespace {

using fuzz::fuzz_memory;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t ram_size = 64 * 1024;
  if (size < 8) return 0;
  std::vector<std::uint8_t> ram(ram_size);
  std::memcpy(ram.data(), data + 8, std::min(size - 8, ram_size));
  fuzz_memory memory(ram);
  // Rings at fixed, valid places; size and EVENT_IDX from the input.
  queue_config config{static_cast<std::uint16_t>(1u << (data[0] % 9)), 0x0000, 0x4000, 0x5000};
  auto q = queue::create(memory, config, data[1] & 1);
  if (!q) return 0;
  q->set_cursors(static_cast<std::uint16_t>(data[2] | (data[3] << 8)), static_cast<std::uint16_t>(data[4] | (data[5] << 8)));
  for (int i = 0; i < 512; ++i) {
    auto c = q->pop();
    if (!c) continue;  // a malformed request is consumed; go on
    if (!*c) break;
    auto request = blk::parse_request(**c, data[6] * 8ull, data[7] & 1);
    if (request.status) *request.status = request.error ? request.error_status : blk::status_byte::ok;
    for (auto& span : request.data) std::memset(span.data(), 0x5a, span.size());
    (void)q->push_used((*c)->head, 1);
    (void)q->should_interrupt();
  }
  return 0;
}
