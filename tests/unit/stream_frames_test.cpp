// The workload channel's frames: reassembled from any cut, and a guest's
// unknown frame types skipped.

#include "common/stream_frames.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

TEST_CASE("frames cut at every byte come out whole, in order") {
  std::vector<std::uint8_t> stream;
  for (auto [type, text] : {std::pair{SMVM_FRAME_STDOUT, std::string("out")}, {SMVM_FRAME_STDERR, std::string("err!")},
                            {SMVM_FRAME_STDOUT, std::string()}, {SMVM_FRAME_STDOUT, std::string(70000, 'x')}}) {
    auto f = smvm::encode_frame(type, bytes(text));
    stream.insert(stream.end(), f.begin(), f.end());
  }
  // A type the host does not know, as an untrusted guest may send.
  const std::vector<std::uint8_t> unknown_frame{99, 0, 2, 0, '?', '?'};
  stream.insert(stream.begin() + 7, unknown_frame.begin(), unknown_frame.end());
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{4096}, stream.size()}) {
    std::string out, err;
    int unknown = 0;
    smvm::frame_decoder d([&](std::uint8_t t, std::span<const std::uint8_t> p) {
      std::string s(p.begin(), p.end());
      if (t == SMVM_FRAME_STDOUT) out += s;
      else if (t == SMVM_FRAME_STDERR) err += s;
      else ++unknown;
    });
    for (std::size_t at = 0; at < stream.size(); at += cut)
      d.feed(std::span<const std::uint8_t>(stream).subspan(at, std::min(cut, stream.size() - at)));
    CHECK(out == "out" + std::string(65535, 'x'));  // a payload over 65535 bytes is cut to one frame's worth
    CHECK(err == "err!");
    CHECK(unknown == 1);
  }
}

TEST_CASE("a frame header is type, zero, little-endian length") {
  auto f = smvm::encode_frame(SMVM_FRAME_SIGNAL, bytes(std::string(1, '\x02')));
  CHECK(f == std::vector<std::uint8_t>{SMVM_FRAME_SIGNAL, 0, 1, 0, 2});
  CHECK(smvm::encode_frame(SMVM_FRAME_STDIN_EOF) == std::vector<std::uint8_t>{SMVM_FRAME_STDIN_EOF, 0, 0, 0});
}
