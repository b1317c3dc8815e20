#include "devices/virtio/blk/request.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace smvm::devices::virtio;

namespace {

struct request_bytes {
  std::uint8_t header[16] = {};
  std::vector<std::uint8_t> data = std::vector<std::uint8_t>(1024, 0xab);
  std::uint8_t status = 0xff;
  request_bytes(std::uint32_t type, std::uint64_t sector) {
    std::memcpy(header, &type, 4);
    std::memcpy(header + 8, &sector, 8);
  }
  /// Linux's framing: header, data, status, each in its own buffer.
  chain linux_chain(bool data_writable) {
    chain c;
    c.buffers = {{{header, 16}, false}, {{data.data(), data.size()}, data_writable}, {{&status, 1}, true}};
    return c;
  }
};

}  // namespace

TEST_CASE("block: a read names its sector, data buffers and status byte") {
  request_bytes b(0, 8);
  auto r = blk::parse_request(b.linux_chain(true), 100, false);
  CHECK_FALSE(r.error);
  CHECK(r.op == blk::operation::read);
  CHECK(r.sector == 8);
  CHECK(r.data_bytes == 1024);
  REQUIRE(r.data.size() == 1);
  CHECK(r.data[0].data() == b.data.data());
  CHECK(r.status == &b.status);
}

TEST_CASE("block: a write takes its data from the readable buffers after the header") {
  request_bytes b(1, 0);
  auto r = blk::parse_request(b.linux_chain(false), 100, false);
  CHECK_FALSE(r.error);
  CHECK(r.op == blk::operation::write);
  CHECK(r.data_bytes == 1024);
}

TEST_CASE("block: header, data and status may share buffers") {
  std::vector<std::uint8_t> out(16 + 512);
  std::uint32_t type = 1;
  std::memcpy(out.data(), &type, 4);
  std::vector<std::uint8_t> in(1);
  chain c;
  c.buffers = {{{out.data(), out.size()}, false}, {{in.data(), 1}, true}};
  auto r = blk::parse_request(c, 10, false);
  CHECK_FALSE(r.error);
  CHECK(r.data_bytes == 512);
  REQUIRE(r.data.size() == 1);
  CHECK(r.data[0].data() == out.data() + 16);
  // A read whose status byte ends its only writable buffer.
  std::vector<std::uint8_t> read_out(16, 0), read_in(513);
  chain c2;
  c2.buffers = {{{read_out.data(), 16}, false}, {{read_in.data(), 513}, true}};
  auto r2 = blk::parse_request(c2, 10, false);
  CHECK_FALSE(r2.error);
  CHECK(r2.data_bytes == 512);
  CHECK(r2.status == &read_in[512]);
}

TEST_CASE("block: flush and get-id are understood") {
  request_bytes flush(4, 0);
  CHECK(blk::parse_request(flush.linux_chain(true), 1, false).op == blk::operation::flush);
  request_bytes id(8, 0);
  auto r = blk::parse_request(id.linux_chain(true), 1, false);
  CHECK_FALSE(r.error);
  CHECK(r.op == blk::operation::get_id);
}

TEST_CASE("block: requests that must be refused say why and with which status") {
  request_bytes unknown(99, 0);
  auto r = blk::parse_request(unknown.linux_chain(true), 100, false);
  REQUIRE(r.error);
  CHECK(r.error_status == blk::status_byte::unsupported);
  CHECK(r.status == &unknown.status);

  request_bytes past_end(0, 99);  // two sectors from 99 on a disk of 100
  auto r2 = blk::parse_request(past_end.linux_chain(true), 100, false);
  REQUIRE(r2.error);
  CHECK(r2.error_status == blk::status_byte::io_error);
  CHECK_THAT(*r2.error, Catch::Contains("past the end"));

  request_bytes overflow(0, ~0ull - 1);
  CHECK(blk::parse_request(overflow.linux_chain(true), 100, false).error);

  request_bytes read_only(1, 0);
  auto r3 = blk::parse_request(read_only.linux_chain(false), 100, true);
  REQUIRE(r3.error);
  CHECK_THAT(*r3.error, Catch::Contains("read-only"));

  request_bytes partial(0, 0);
  partial.data.resize(100);
  CHECK(blk::parse_request(partial.linux_chain(true), 100, false).error);
}

TEST_CASE("block: a chain without a status byte or a whole header cannot be answered") {
  std::uint8_t header[16] = {};
  chain no_status;
  no_status.buffers = {{{header, 16}, false}};
  auto r = blk::parse_request(no_status, 10, false);
  CHECK(r.error);
  CHECK(r.status == nullptr);

  std::uint8_t status = 0;
  chain short_header;
  short_header.buffers = {{{header, 8}, false}, {{&status, 1}, true}};
  auto r2 = blk::parse_request(short_header, 10, false);
  REQUIRE(r2.error);
  CHECK(r2.status == &status);
}
