// libFuzzer target: what a hostile guest agent might send the host (frames
// of any type, length and cut, records cut anywhere), through the reader
// smvm exec and smvm cp take the guest's answers with. ASan and UBSan watch
// it. The first byte sets how the rest is cut into reads.

#include "agent/frame.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  smvm::agent::frame_reader reader;
  const std::size_t cut = std::size_t{data[0]} * 64 + 1;
  for (std::size_t at = 1; at < size; at += cut) {
    reader.append({data + at, std::min(cut, size - at)});
    for (;;) {
      auto f = reader.next();
      if (!f) return 0;  // a bad header ends the stream, as in the client
      if (!*f) break;
      if ((*f)->payload.size() > SMVM_AGENT_MAX_PAYLOAD) __builtin_trap();
      if ((*f)->type == SMVM_AGENT_FILE)
        if (auto r = smvm::agent::decode_records((*f)->payload)) (void)smvm::agent::find_record(*r, "size");
    }
    if (reader.buffered() > SMVM_AGENT_HEADER_SIZE + SMVM_AGENT_MAX_PAYLOAD + cut) __builtin_trap();
  }
  return 0;
}
