#pragma once
// The boot GDT and the segment registers that match it.

#include <linux/kvm.h>

#include <array>
#include <cstdint>

namespace smvm::hv::x86 {

/// Encodes a GDT descriptor from its access/flags word (bits 0-7 access
/// byte, bits 12-15 flags nibble: G, D/B, L, AVL), base and 20-bit limit.
std::uint64_t gdt_entry(std::uint16_t flags, std::uint32_t base, std::uint32_t limit);

/// null, null, 64-bit code (0x10), data (0x18), TSS (0x20): the selectors
/// the 64-bit boot protocol names.
std::array<std::uint64_t, 5> boot_gdt();

/// The KVM segment register a descriptor loads when selected by `selector`.
kvm_segment segment_from_gdt_entry(std::uint64_t entry, std::uint16_t selector);

}  // namespace smvm::hv::x86
