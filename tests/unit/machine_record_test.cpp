// The "machine" and "memory" sections a restore builds the VM from: a
// round trip, and the checks a snapshot file's values get.

#include "snapshot/memory_file.hpp"
#include "vmm/machine_record.hpp"
#include "common/state_codec.hpp"

#include <catch2/catch.hpp>

using namespace smvm;
using namespace smvm::vmm;

TEST_CASE("machine record: a VM's vm.toml survives the section round trip") {
  config::vm_config c;
  c.machine.vcpus = 2;
  c.machine.memory_mib = 512;
  config::use_virtio_console(c);
  REQUIRE(config::add_device(c, "virtio-rng", {}));
  REQUIRE(config::add_device(c, "virtio-blk", devices::virtio::device_settings({{"path", "/images/root.ext4"},
                                                                                {"read_only", true}})));
  REQUIRE(config::add_device(c, "virtio-blk", devices::virtio::device_settings({{"path", "/images/data.ext4"}})));
  auto bytes = encode_state(record_machine(c));
  auto back = decode_state<machine_record>(bytes, "section machine");
  REQUIRE(back);
  auto rebuilt = config_of(*back, "vm.snap");
  REQUIRE(rebuilt);
  CHECK(rebuilt->machine.vcpus == 2);
  CHECK(rebuilt->machine.memory_mib == 512);
  CHECK(rebuilt->console.device == config::console_device::virtio);
  REQUIRE(rebuilt->devices.size() == 4);
  CHECK(rebuilt->devices[0].label() == "virtio-blk disk[0]");
  CHECK(rebuilt->devices[0].settings.text("path") == "/images/root.ext4");
  CHECK(rebuilt->devices[0].settings.flag("read_only"));
  CHECK(rebuilt->devices[1].settings.text("path") == "/images/data.ext4");
  CHECK_FALSE(rebuilt->devices[1].settings.flag("read_only"));
  CHECK(rebuilt->devices[2].label() == "virtio-rng");
  CHECK(rebuilt->devices[3].label() == "virtio-console");
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
  r.devices.resize(12, device_record{"virtio-rng", {}});
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("12 virtio devices, at most 11 fit"));
  r.devices = {{"virtio-gpu", {}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message,
             Catch::Contains("vm.snap: section machine: there is no virtio device kind virtio-gpu"));
  r.devices = {{"virtio-rng", {}}, {"virtio-rng", {}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("there can be only one virtio-rng"));
  r.devices = {{"virtio-blk", {}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message,
             Catch::Contains("section machine: disk[0] has no path (the raw disk image to attach)"));
  r.devices = {{"virtio-blk", {{"path", 0, 1, ""}}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("disk[0].path must be an absolute file path"));
  r.devices = {{"virtio-blk", {{"path", 2, 0, "relative.img"}}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("disk[0].path must be an absolute file path"));
  r.devices = {{"virtio-blk", {{"path", 2, 0, "/a.img"}, {"read_only", 0, 7, ""}}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("the value of read_only (type 0, 7)"));
  r.devices = {{"virtio-blk", {{"path", 2, 0, "/a.img"}, {"format", 2, 0, "qcow2"}}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("disk[0] has no setting format"));
  r.devices = {{"virtio-rng", {}}, {"virtio-blk", {{"path", 2, 0, "/a.img"}}}};
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("out of smvm's window order"));
  r.devices = {};
  r.console_device = 1;
  CHECK_THAT(config_of(r, "vm.snap").error().message, Catch::Contains("the console is virtio-console, but"));
}

TEST_CASE("machine record: a writable disk keeps clones apart; a read-only one does not") {
  machine_record r;
  r.memory_mib = 256;
  r.devices = {{"virtio-blk", {{"path", 2, 0, "/images/root.ext4"}, {"read_only", 0, 1, ""}}}, {"virtio-rng", {}}};
  CHECK_FALSE(clone_conflict(r, "vm.snap"));
  r.devices.push_back({"virtio-blk", {{"path", 2, 0, "/images/data.ext4"}}});
  std::swap(r.devices[1], r.devices[2]);
  auto conflict = clone_conflict(r, "vm.snap");
  REQUIRE(conflict);
  CHECK_THAT(*conflict, Catch::Contains("the disk /images/data.ext4 is writable"));
}

TEST_CASE("machine record: a card that publishes host ports keeps clones apart; one that does not, not") {
  machine_record r;
  r.memory_mib = 256;
  r.devices = {{"virtio-net", {{"mac", 2, 0, "02:00:00:00:00:01"}, {"mode", 2, 0, "slirp"}}}};
  CHECK_FALSE(clone_conflict(r, "vm.snap"));
  r.devices = {{"virtio-net", {{"mac", 2, 0, "02:00:00:00:00:01"}, {"publish", 2, 0, "8080:80\n5353:53/udp"}}}};
  auto conflict = clone_conflict(r, "vm.snap");
  REQUIRE(conflict);
  CHECK_THAT(*conflict, Catch::Contains("publishes host port 8080:80"));
  auto back = config_of(r, "vm.snap");
  REQUIRE(back);  // a record's publish lines are read back as written
  CHECK(back->devices.front().settings.lines("publish") == std::vector<std::string>{"8080:80", "5353:53/udp"});
}

TEST_CASE("machine record: a device count beyond the section's bytes is an error, not an allocation") {
  machine_record r;
  r.memory_mib = 256;
  auto bytes = encode_state(r);
  // The device count is the last field: claim four billion devices.
  for (int i = 1; i <= 4; ++i) bytes[bytes.size() - i] = 0xff;
  auto back = decode_state<machine_record>(bytes, "section machine");
  REQUIRE_FALSE(back);
  CHECK_THAT(back.error().message, Catch::Contains("section machine: devices claims 4294967295 records in 0 bytes"));
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

TEST_CASE("virtio kinds: disks, then the rng, the console, vsock and network cards, in window order whatever order they are added in") {
  std::vector<std::string_view> names;
  for (const auto* kind : devices::virtio::device_kinds()) names.push_back(kind->name);
  // A new kind goes last: the windows of the kinds before it, and so the
  // snapshots of VMs that have them, stay where they were.
  CHECK(names == std::vector<std::string_view>{"virtio-blk", "virtio-rng", "virtio-console", "virtio-vsock",
                                                    "virtio-net"});
  config::vm_config c;
  config::use_virtio_console(c);
  REQUIRE(config::add_device(c, "virtio-rng", {}));
  REQUIRE(config::add_device(c, "virtio-blk", devices::virtio::device_settings({{"path", "/a.ext4"}})));
  REQUIRE(config::add_device(c, "virtio-blk", devices::virtio::device_settings({{"path", "/b.ext4"}})));
  std::vector<std::string> labels;
  for (const auto& d : c.devices) labels.push_back(d.label());
  CHECK(labels == std::vector<std::string>{"virtio-blk disk[0]", "virtio-blk disk[1]", "virtio-rng", "virtio-console"});
  CHECK(config::count_devices(c) == "2 disks, the rng, the console");
}

TEST_CASE("machine record: a network card left without a MAC gets one, recorded, so a restore keeps it") {
  config::vm_config c;
  REQUIRE(config::add_device(c, "virtio-net", devices::virtio::device_settings({{"switch", "lan0"}})));
  const std::string mac = c.devices.at(0).settings.text("mac");
  REQUIRE(mac.size() == 17);
  CHECK((std::stoi(mac.substr(0, 2), nullptr, 16) & 3) == 2);  // unicast, locally administered
  auto back = config_of(record_machine(c), "vm.snap");
  REQUIRE(back);
  CHECK(back->devices.at(0).settings.text("mac") == mac);
  CHECK(config::count_devices(c) == "1 network card");
}

TEST_CASE("virtio-net: clone N of a snapshot's card has N added to its MAC's last three bytes") {
  const auto* kind = devices::virtio::find_device_kind("virtio-net");
  REQUIRE(kind);
  REQUIRE(kind->for_clone);
  std::map<std::string, devices::virtio::setting_value> values{{"mac", "02:00:00:00:00:10"}, {"switch", "lan0"}};
  kind->for_clone(values, 1);
  CHECK(std::get<std::string>(values["mac"]) == "02:00:00:00:00:11");
  values["mac"] = "02:aa:bb:ff:ff:ff";  // the carry stays in the last three bytes
  kind->for_clone(values, 2);
  CHECK(std::get<std::string>(values["mac"]) == "02:aa:bb:00:00:01");
}

TEST_CASE("machine record: smvm run's workload streams survive the record; vsock does not keep clones apart") {
  config::vm_config c;
  c.machine.memory_mib = 256;
  config::use_virtio_console(c);
  c.console.workload_streams = true;
  REQUIRE(config::add_device(c, "virtio-vsock", devices::virtio::device_settings({{"cid", std::int64_t{3}},
                                                                                 {"uds_path", "/tmp/vsock.sock"}})));
  const auto r = record_machine(c);
  CHECK(r.console_device == console_streams);
  auto back = config_of(r, "vm.snap");
  REQUIRE(back);
  CHECK(back->console.workload_streams);
  CHECK(back->console.device == config::console_device::virtio);
  CHECK_FALSE(clone_conflict(r, "vm.snap"));
  machine_record bad = r;
  bad.console_device = console_streams + 1;
  CHECK_THAT(config_of(bad, "vm.snap").error().message, Catch::Contains("unknown console device 3"));
}
