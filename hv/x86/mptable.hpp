#pragma once
// An Intel MultiProcessor Specification 1.4 table, so an SMP guest finds its
// CPUs, the IOAPIC and the ISA interrupt routing without ACPI.

#include "common/result.hpp"

#include <cstdint>
#include <vector>

namespace smvm::hv::x86 {

/// The most vCPUs an MP table can describe: xAPIC IDs are 8 bits, 0xff is
/// the broadcast ID, and the IOAPIC takes the ID after the last CPU.
inline constexpr unsigned mptable_max_cpus = 254;

/// The floating pointer followed by the configuration table, to be placed at
/// `address`: one processor entry per vCPU (APIC ID = vCPU index, CPU 0 the
/// bootstrap processor), an ISA bus, the IOAPIC, ISA IRQs 0-15 routed to
/// IOAPIC pins 0-15, ExtINT on LINT0 and NMI on LINT1.
result<std::vector<std::uint8_t>> build_mptable(unsigned cpus, std::uint32_t address);

/// The byte that makes `bytes` sum to zero modulo 256.
std::uint8_t mp_checksum(const std::uint8_t* bytes, std::size_t size);

}  // namespace smvm::hv::x86
