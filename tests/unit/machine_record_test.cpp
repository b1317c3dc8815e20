// The "machine" and "memory" sections a restore builds the VM from: a
// round trip, and the checks a snapshot file's values get.

#include "snapshot/memory_file.hpp"
#include "vmm/machine_record.hpp"
#include "vmm/virtio_kinds.hpp"
#include "common/state_codec.hpp"

#include <catch2/catch.hpp>

using namespace smvm;
using namespace smvm::vmm;

TEST_CASE("machine record: a VM's vm.toml survives the section round trip") {
  config::vm_config c;
  c.machine.vcpus = 2;
  c.machine.memory_mib = 512;
  c.console.device = config::console_device::virtio;
  c.rng = true;
  c.disks = {{"/images/root.ext4", true}, {"/images/data.ext4", false}};
  auto bytes = encode_state(record_machine(c));
  auto back = decode_state<machine_record>(bytes, "section machine");
  REQUIRE(back);
  auto rebuilt = config_of(*back, "vm.snap");
  REQUIRE(rebuilt);
  CHECK(rebuilt->machine.vcpus == 2);
  CHECK(rebuilt->machine.memory_mib == 512);
  CHECK(rebuilt->console.device == config::console_device::virtio);
  CHECK(rebuilt->rng);
  REQUIRE(rebuilt->disks.size() == 2);
  CHECK(rebuilt->disks[0].path == "/images/root.ext4");
  CHECK(rebuilt->disks[0].read_only);
  CHECK(rebuilt->disks[1].path == "/images/data.ext4");
  CHECK_FALSE(rebuilt->disks[1].read_only);
}

TEST_CASE("machine record: values no vm.toml allows are refused, naming the file") {
  machine_record r;
  r.memory_mib = 256;
  r.vcpus = 0;
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("vm.snap: section machine: 0 vCPUs is outside 1-254"));
  r.vcpus = 255;
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("255 vCPUs is outside 1-254"));
  r.vcpus = 1;
  r.memory_mib = 1;
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("memory of 1 MiB is outside"));
  r.memory_mib = 256;
  r.console_device = 9;
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("unknown console device 9"));
  r.console_device = 0;
  r.disks.resize(12);
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("12 virtio devices, at most 11 fit"));
}

TEST_CASE("machine record: a disk count beyond the section's bytes is an error, not an allocation") {
  machine_record r;
  r.memory_mib = 256;
  auto bytes = encode_state(r);
  // The disk count is the last field: claim four billion disks.
  for (int i = 1; i <= 4; ++i) bytes[bytes.size() - i] = 0xff;
  auto back = decode_state<machine_record>(bytes, "section machine");
  REQUIRE_FALSE(back);
  CHECK_THAT(back.error().message, Catch::Contains("section machine: disks claims 4294967295 records in 0 bytes"));
}

TEST_CASE("memory layout: the section round trip") {
  memory_layout m{256ull << 20, {{0, 256ull << 20, 0}}};
  auto back = decode_state<memory_layout>(encode_state(m), "section memory");
  REQUIRE(back);
  CHECK(back->size == m.size);
  REQUIRE(back->regions.size() == 1);
  CHECK(back->regions[0].size == m.regions[0].size);
  CHECK(snapshot::memory_file_of("/x/vm.snap") == "/x/vm.snap.mem");
}

TEST_CASE("virtio kinds: disks, then the rng, then the console, each counted as vm.toml asks") {
  std::vector<std::string_view> names;
  for (const auto& kind : virtio_kinds()) names.push_back(kind.name);
  CHECK(names == std::vector<std::string_view>{"virtio-blk", "virtio-rng", "virtio-console"});
  config::vm_config c;
  CHECK(virtio_device_count(c) == 0);
  c.disks = {{"/a.ext4", false}, {"/b.ext4", true}};
  c.rng = true;
  c.console.device = config::console_device::virtio;
  CHECK(virtio_device_count(c) == 4);
}
