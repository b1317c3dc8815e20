#include "hv/x86/mptable.hpp"

#include "hv/x86/layout.hpp"

#include <cstring>

namespace smvm::hv::x86 {

namespace {

// Layouts from the MP specification (and Linux's mpspec_def.h).
#pragma pack(push, 1)
struct mpf_intel {
  char signature[4];
  std::uint32_t physptr;
  std::uint8_t length;
  std::uint8_t specification;
  std::uint8_t checksum;
  std::uint8_t feature[5];
};
struct mpc_table {
  char signature[4];
  std::uint16_t length;
  std::uint8_t spec;
  std::uint8_t checksum;
  char oem[8];
  char productid[12];
  std::uint32_t oemptr;
  std::uint16_t oemsize;
  std::uint16_t oemcount;
  std::uint32_t lapic;
  std::uint32_t reserved;
};
struct mpc_cpu {
  std::uint8_t type, apicid, apicver, cpuflag;
  std::uint32_t cpufeature, featureflag;
  std::uint32_t reserved[2];
};
struct mpc_bus {
  std::uint8_t type, busid;
  char bustype[6];
};
struct mpc_ioapic {
  std::uint8_t type, apicid, apicver, flags;
  std::uint32_t apicaddr;
};
struct mpc_intsrc {
  std::uint8_t type, irqtype;
  std::uint16_t irqflag;
  std::uint8_t srcbus, srcbusirq, dstapic, dstirq;
};
#pragma pack(pop)
static_assert(sizeof(mpf_intel) == 16 && sizeof(mpc_table) == 44 && sizeof(mpc_cpu) == 20);
static_assert(sizeof(mpc_bus) == 8 && sizeof(mpc_ioapic) == 8 && sizeof(mpc_intsrc) == 8);

enum : std::uint8_t { entry_processor = 0, entry_bus = 1, entry_ioapic = 2, entry_intsrc = 3, entry_lintsrc = 4 };
enum : std::uint8_t { int_vectored = 0, int_nmi = 1, int_extint = 3 };
constexpr std::uint8_t cpu_enabled = 1, cpu_bootstrap = 2;
constexpr std::uint8_t lapic_version = 0x14, ioapic_version = 0x11;
constexpr std::uint8_t isa_irqs = 16;

template <class T>
void append(std::vector<std::uint8_t>& out, const T& entry) {
  auto* p = reinterpret_cast<const std::uint8_t*>(&entry);
  out.insert(out.end(), p, p + sizeof(T));
}

}  // namespace

std::uint8_t mp_checksum(const std::uint8_t* bytes, std::size_t size) {
  std::uint8_t sum = 0;
  for (std::size_t i = 0; i < size; ++i) sum = static_cast<std::uint8_t>(sum + bytes[i]);
  return static_cast<std::uint8_t>(-sum);
}

result<std::vector<std::uint8_t>> build_mptable(unsigned cpus, std::uint32_t address) {
  if (cpus == 0 || cpus > mptable_max_cpus)
    return make_error("an MP table describes 1 to {} CPUs, not {}", mptable_max_cpus, cpus);
  const auto ioapic_id = static_cast<std::uint8_t>(cpus);

  std::vector<std::uint8_t> table;  // the configuration table, header first
  table.resize(sizeof(mpc_table));
  for (unsigned i = 0; i < cpus; ++i) {
    mpc_cpu cpu{};
    cpu.type = entry_processor;
    cpu.apicid = static_cast<std::uint8_t>(i);
    cpu.apicver = lapic_version;
    cpu.cpuflag = cpu_enabled | (i == 0 ? cpu_bootstrap : 0);
    cpu.cpufeature = 0x600;          // family 6, as KVM's CPUs report
    cpu.featureflag = 0x201;         // FPU and APIC present
    append(table, cpu);
  }
  mpc_bus bus{entry_bus, 0, {'I', 'S', 'A', ' ', ' ', ' '}};
  append(table, bus);
  mpc_ioapic ioapic{entry_ioapic, ioapic_id, ioapic_version, 1,
                    static_cast<std::uint32_t>(layout::ioapic_address)};
  append(table, ioapic);
  for (std::uint8_t irq = 0; irq < isa_irqs; ++irq)
    append(table, mpc_intsrc{entry_intsrc, int_vectored, 0, 0, irq, ioapic_id, irq});
  append(table, mpc_intsrc{entry_lintsrc, int_extint, 0, 0, 0, 0, 0});     // LINT0 of the BSP
  append(table, mpc_intsrc{entry_lintsrc, int_nmi, 0, 0, 0, 0xff, 1});     // LINT1 of every CPU

  mpc_table header{};
  std::memcpy(header.signature, "PCMP", 4);
  header.length = static_cast<std::uint16_t>(table.size());
  header.spec = 4;
  std::memcpy(header.oem, "SMVM    ", 8);
  std::memcpy(header.productid, "MICROVM     ", 12);
  header.lapic = static_cast<std::uint32_t>(layout::lapic_address);
  std::memcpy(table.data(), &header, sizeof(header));
  table[offsetof(mpc_table, checksum)] = mp_checksum(table.data(), table.size());

  mpf_intel floating{};
  std::memcpy(floating.signature, "_MP_", 4);
  floating.physptr = address + sizeof(mpf_intel);
  floating.length = 1;  // in 16-byte units
  floating.specification = 4;
  floating.checksum = mp_checksum(reinterpret_cast<std::uint8_t*>(&floating), sizeof(floating));

  std::vector<std::uint8_t> out;
  append(out, floating);
  out.insert(out.end(), table.begin(), table.end());
  return out;
}

}  // namespace smvm::hv::x86
