#include "hv/x86/vcpu_state.hpp"
#include "hv/x86/vm_state.hpp"
#include "common/state_codec.hpp"

#include <catch2/catch.hpp>

#include <cstring>

using namespace smvm;

namespace {

hv::x86::vcpu_state sample_vcpu() {
  hv::x86::vcpu_state s;
  s.regs.rip = 0xffffffff81000000;
  s.regs.rflags = 0x246;
  s.sregs.cr3 = 0x9000;
  s.xsave.region[7] = 0x1f80;
  s.lapic.regs[0x20] = 1;
  s.mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
  s.msrs = {{0x10, 0, 123456789}, {0xc0000082, 0, 0xffffffff81a00000}};
  kvm_cpuid_entry2 leaf{};
  leaf.function = 0x40000001;
  leaf.eax = 0x7ff;
  s.cpuid = {leaf};
  s.events.exception.injected = 1;
  return s;
}

}  // namespace

TEST_CASE("a vCPU's state survives encoding and decoding field for field") {
  const auto saved = sample_vcpu();
  const auto bytes = encode_state(saved);
  auto back = decode_state<hv::x86::vcpu_state>(bytes, "section vcpu.0");
  REQUIRE(back);
  CHECK(back->regs.rip == saved.regs.rip);
  CHECK(back->regs.rflags == saved.regs.rflags);
  CHECK(back->sregs.cr3 == saved.sregs.cr3);
  CHECK(std::memcmp(&back->xsave, &saved.xsave, sizeof saved.xsave) == 0);
  CHECK(std::memcmp(&back->lapic, &saved.lapic, sizeof saved.lapic) == 0);
  CHECK(back->mp_state.mp_state == KVM_MP_STATE_RUNNABLE);
  REQUIRE(back->msrs.size() == 2);
  CHECK(back->msrs[1].data == 0xffffffff81a00000);
  REQUIRE(back->cpuid.size() == 1);
  CHECK(back->cpuid[0].eax == 0x7ff);
  CHECK(back->events.exception.injected == 1);
}

TEST_CASE("a VM's irqchip, PIT and clock state survives encoding") {
  hv::x86::vm_state s;
  s.ioapic.chip_id = KVM_IRQCHIP_IOAPIC;
  s.ioapic.chip.ioapic.redirtbl[3].bits = 0x10023;
  s.pit.channels[0].count = 11932;
  s.clock.clock = 987654321;
  auto back = decode_state<hv::x86::vm_state>(encode_state(s), "section vm");
  REQUIRE(back);
  CHECK(back->ioapic.chip.ioapic.redirtbl[3].bits == 0x10023);
  CHECK(back->pit.channels[0].count == 11932);
  CHECK(back->clock.clock == 987654321);
}

TEST_CASE("a vCPU section cut short or with extra bytes is refused, naming the field") {
  auto bytes = encode_state(sample_vcpu());
  auto cut = bytes;
  cut.resize(cut.size() - 10);
  auto r = decode_state<hv::x86::vcpu_state>(cut, "section vcpu.0");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("section vcpu.0: events"));

  auto longer = bytes;
  longer.push_back(0);
  r = decode_state<hv::x86::vcpu_state>(longer, "section vcpu.0");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("1 bytes left over"));
}

TEST_CASE("a list whose entries have another size than this smvm's is refused") {
  auto bytes = encode_state(sample_vcpu());
  // The cpuid list is first: its entry size is the first u32.
  bytes[0] = static_cast<std::uint8_t>(bytes[0] + 4);
  auto r = decode_state<hv::x86::vcpu_state>(bytes, "section vcpu.0");
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().message, Catch::Contains("cpuid entries are"));
}
