#include "devices/virtio/queue.hpp"
#include "test_memory.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

using namespace smvm;
using namespace smvm::devices;
using namespace smvm::devices::virtio;

namespace {

using test::test_memory;

/// Plays the driver: descriptors at 0x1000, available ring at 0x2000, used ring at 0x3000.
struct driver {
  test_memory memory;
  queue_config config{8, 0x1000, 0x2000, 0x3000};
  std::uint16_t avail_idx = 0;

  void descriptor(std::uint64_t table, std::uint16_t i, std::uint64_t address, std::uint32_t length,
                  std::uint16_t flags, std::uint16_t next = 0) {
    std::uint64_t at = table + 16ull * i;
    memory.put(at, address);
    memory.put(at + 8, length);
    memory.put(at + 12, flags);
    memory.put(at + 14, next);
  }
  /// Offers `count` requests, each one 16-byte readable descriptor.
  void offer_readable(std::uint16_t count) {
    for (std::uint16_t i = 0; i < count; ++i) {
      descriptor(0x1000, i, 0x4000, 16, 0);
      offer(i);
    }
  }
  void offer(std::uint16_t head) {
    memory.put<std::uint16_t>(config.avail_ring + 4 + 2 * (avail_idx % config.size), head);
    memory.put<std::uint16_t>(config.avail_ring + 2, ++avail_idx);
  }
  queue make(bool event_idx = false) {
    auto q = queue::create(memory, config, event_idx);
    REQUIRE(q);
    return std::move(*q);
  }
};

std::string error_of(result<std::optional<chain>> r) {
  REQUIRE_FALSE(r);
  return r.error().message;
}

}  // namespace

TEST_CASE("virtqueue: an empty ring gives no request") {
  driver d;
  auto q = d.make();
  auto c = q.pop();
  REQUIRE(c);
  CHECK_FALSE(*c);
}

TEST_CASE("virtqueue: a chain of readable then writable buffers is popped in order") {
  driver d;
  d.descriptor(0x1000, 0, 0x4000, 16, desc_flags::next, 1);
  d.descriptor(0x1000, 1, 0x5000, 512, desc_flags::next | desc_flags::write, 2);
  d.descriptor(0x1000, 2, 0x6000, 1, desc_flags::write);
  d.offer(0);
  auto q = d.make();
  auto c = q.pop();
  REQUIRE(c);
  REQUIRE(*c);
  auto& chain = **c;
  CHECK(chain.head == 0);
  REQUIRE(chain.buffers.size() == 3);
  CHECK(chain.buffers[0].bytes.data() == d.memory.ram.data() + 0x4000);
  CHECK_FALSE(chain.buffers[0].device_writable);
  CHECK(chain.buffers[1].device_writable);
  CHECK(chain.readable_bytes() == 16);
  CHECK(chain.writable_bytes() == 513);
  CHECK(q.next_avail() == 1);
}

TEST_CASE("virtqueue: an indirect table is followed") {
  driver d;
  d.descriptor(0x1000, 3, 0x7000, 32, desc_flags::indirect);
  d.descriptor(0x7000, 0, 0x4000, 16, desc_flags::next, 1);
  d.descriptor(0x7000, 1, 0x5000, 64, desc_flags::write);
  d.offer(3);
  auto q = d.make();
  auto c = q.pop();
  REQUIRE(c);
  REQUIRE(*c);
  CHECK((*c)->head == 3);
  CHECK((*c)->buffers.size() == 2);
  CHECK((*c)->writable_bytes() == 64);
}

TEST_CASE("virtqueue: used entries and the used index are written for the driver") {
  driver d;
  d.descriptor(0x1000, 5, 0x4000, 16, 0);
  d.offer(5);
  auto q = d.make();
  REQUIRE(q.pop());
  REQUIRE(q.push_used(5, 123));
  CHECK(d.memory.get<std::uint32_t>(0x3000 + 4) == 5);
  CHECK(d.memory.get<std::uint32_t>(0x3000 + 8) == 123);
  CHECK(d.memory.get<std::uint16_t>(0x3000 + 2) == 1);
  CHECK_FALSE(q.push_used(8, 0));
}

TEST_CASE("virtqueue: the ring index wraps around 65536") {
  driver d;
  d.descriptor(0x1000, 0, 0x4000, 16, 0);
  auto q = d.make();
  q.set_cursors(0xffff, 0xffff);
  d.avail_idx = 0xffff;
  d.offer(0);
  auto c = q.pop();
  REQUIRE(c);
  CHECK(*c);
  CHECK(q.next_avail() == 0);
}

TEST_CASE("virtqueue: without EVENT_IDX, NO_INTERRUPT suppresses interrupts") {
  driver d;
  auto q = d.make();
  CHECK(q.should_interrupt());
  d.memory.put<std::uint16_t>(0x2000, avail_flag_no_interrupt);
  CHECK_FALSE(q.should_interrupt());
}

TEST_CASE("virtqueue: with EVENT_IDX, the driver is interrupted when used_event is passed") {
  driver d;
  d.offer_readable(4);
  auto q = d.make(true);
  d.memory.put<std::uint16_t>(0x2000 + 4 + 2 * 8, 1);  // used_event: interrupt once entry 1 is used
  REQUIRE(q.pop());
  REQUIRE(q.push_used(0, 0));
  CHECK_FALSE(q.should_interrupt());  // used idx 1 has not passed used_event 1 yet
  REQUIRE(q.pop());
  REQUIRE(q.push_used(1, 0));
  CHECK(q.should_interrupt());
  REQUIRE(q.pop());
  REQUIRE(q.push_used(2, 0));
  CHECK_FALSE(q.should_interrupt());
  // The device publishes avail_event for the driver.
  CHECK(d.memory.get<std::uint16_t>(0x3000 + 4 + 8 * 8) == 3);
}

TEST_CASE("virtqueue: a device that leaves buffers waiting can ask to be told of the next offer") {
  driver d;
  d.offer_readable(4);
  auto q = d.make(true);
  REQUIRE(q.pop());
  CHECK(d.memory.get<std::uint16_t>(0x3000 + 4 + 8 * 8) == 1);  // the next it takes: passed by the driver long ago
  REQUIRE(q.notify_on_next_offer());
  CHECK(d.memory.get<std::uint16_t>(0x3000 + 4 + 8 * 8) == 4);  // the next the driver offers
  auto offered = q.available_index();
  REQUIRE(offered);
  CHECK(*offered == 4);
}

TEST_CASE("virtqueue: a chain that loops is rejected") {
  driver d;
  d.descriptor(0x1000, 0, 0x4000, 16, desc_flags::next, 1);
  d.descriptor(0x1000, 1, 0x4000, 16, desc_flags::next, 0);
  d.offer(0);
  auto q = d.make();
  CHECK_THAT(error_of(q.pop()), Catch::Contains("loops"));
}

TEST_CASE("virtqueue: a malformed request is rejected, and the queue goes on") {
  driver d;
  d.descriptor(0x1000, 0, 0xfff0, 0x100, 0);  // runs past the end of guest memory
  d.descriptor(0x1000, 1, 0x4000, 16, 0);
  d.offer(0);
  d.offer(1);
  auto q = d.make();
  CHECK_THAT(error_of(q.pop()), Catch::Contains("outside guest memory"));
  auto next = q.pop();
  REQUIRE(next);
  REQUIRE(*next);
  CHECK((*next)->head == 1);
}

TEST_CASE("virtqueue: every malformed case is an error, not a crash") {
  struct bad {
    const char* what;
    std::function<void(driver&)> setup;
  };
  auto c = GENERATE(
    bad{"head outside the queue", [](driver& d) { d.offer(9); }},
    bad{"next outside the queue", [](driver& d) { d.descriptor(0x1000, 0, 0x4000, 1, desc_flags::next, 200); d.offer(0); }},
    bad{"an address that overflows", [](driver& d) { d.descriptor(0x1000, 0, ~0ull - 8, 64, 0); d.offer(0); }},
    bad{"a length past guest memory", [](driver& d) { d.descriptor(0x1000, 0, 0x4000, 0xffffffff, 0); d.offer(0); }},
    bad{"readable after writable", [](driver& d) {
          d.descriptor(0x1000, 0, 0x4000, 1, desc_flags::write | desc_flags::next, 1);
          d.descriptor(0x1000, 1, 0x4000, 1, 0);
          d.offer(0); }},
    bad{"indirect inside indirect", [](driver& d) {
          d.descriptor(0x1000, 0, 0x7000, 16, desc_flags::indirect);
          d.descriptor(0x7000, 0, 0x7000, 16, desc_flags::indirect);
          d.offer(0); }},
    bad{"indirect with next", [](driver& d) { d.descriptor(0x1000, 0, 0x7000, 16, desc_flags::indirect | desc_flags::next, 1); d.offer(0); }},
    bad{"an indirect table of odd length", [](driver& d) { d.descriptor(0x1000, 0, 0x7000, 24, desc_flags::indirect); d.offer(0); }},
    bad{"an empty indirect table", [](driver& d) { d.descriptor(0x1000, 0, 0x7000, 0, desc_flags::indirect); d.offer(0); }},
    bad{"an indirect table outside memory", [](driver& d) { d.descriptor(0x1000, 0, 0xfff0, 32, desc_flags::indirect); d.offer(0); }},
    bad{"an indirect table too long", [](driver& d) { d.descriptor(0x1000, 0, 0x0, 16 * 2048, desc_flags::indirect); d.offer(0); }},
    bad{"a looping indirect table", [](driver& d) {
          d.descriptor(0x1000, 0, 0x7000, 32, desc_flags::indirect);
          d.descriptor(0x7000, 0, 0x4000, 1, desc_flags::next, 1);
          d.descriptor(0x7000, 1, 0x4000, 1, desc_flags::next, 0);
          d.offer(0); }},
    bad{"an available index far ahead", [](driver& d) { d.memory.put<std::uint16_t>(0x2002, 100); }});
  driver d;
  c.setup(d);
  auto q = d.make();
  INFO(c.what);
  CHECK_FALSE(q.pop());
}

TEST_CASE("virtqueue: a bad configuration is refused") {
  test_memory memory;
  CHECK_FALSE(queue::create(memory, {0, 0x1000, 0x2000, 0x3000}, false));
  CHECK_FALSE(queue::create(memory, {6, 0x1000, 0x2000, 0x3000}, false));
  CHECK_FALSE(queue::create(memory, {512, 0x1000, 0x2000, 0x3000}, false));
  CHECK_FALSE(queue::create(memory, {8, 0x1001, 0x2000, 0x3000}, false));
  CHECK_FALSE(queue::create(memory, {8, 0x1000, 0x2000, 0xfffc}, false));
  CHECK(queue::create(memory, {256, 0x1000, 0x2000, 0x3000}, false));
}

TEST_CASE("virtqueue: a queue the driver did not set up, or set up badly, is refused by name") {
  test_memory memory;
  std::vector<queue_config> queues{{8, 0x1000, 0x2000, 0x3000}, {}, {6, 0x1000, 0x2000, 0x3000}};
  CHECK(queue::create_live(memory, queues, 0, false, "virtio-test q0"));
  auto unset = queue::create_live(memory, queues, 1, false, "virtio-test q1");
  REQUIRE_FALSE(unset);
  CHECK_THAT(unset.error().message, Catch::Contains("virtio-test q1: the queue is not set up"));
  auto bad = queue::create_live(memory, queues, 2, false, "virtio-test q2");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("virtio-test q2: queue size 6"));
  CHECK_FALSE(queue::create_live(memory, queues, 3, false, "virtio-test q3"));
}
