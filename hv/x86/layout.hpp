#pragma once
// Where smvm puts things in an x86-64 guest's physical address space.

#include <cstdint>

namespace smvm::hv::x86::layout {

inline constexpr std::uint64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

inline constexpr std::uint64_t gdt_address = 0x500;
inline constexpr std::uint64_t boot_params_address = 0x7000;    // the "zero page"
inline constexpr std::uint64_t boot_stack_pointer = 0x8ff0;
inline constexpr std::uint64_t page_tables_address = 0x9000;   // PML4, PDPT, 4 PDs
inline constexpr std::uint64_t cmdline_address = 0x20000;
inline constexpr std::uint64_t low_ram_end = 0xa0000;          // below VGA/ROM
inline constexpr std::uint64_t mptable_address = 0xf0000;       // BIOS area, scanned by Linux
inline constexpr std::uint64_t bios_area_end = 0x100000;
inline constexpr std::uint64_t kernel_load_address = 0x100000;  // 1 MiB, protected-mode kernel

/// RAM above this goes above 4 GiB: [3 GiB, 4 GiB) holds device MMIO, the
/// IOAPIC and the LAPIC.
inline constexpr std::uint64_t mmio_gap_start = 3 * GiB;
inline constexpr std::uint64_t mmio_gap_end = 4 * GiB;
/// virtio-mmio devices are placed from here on.
inline constexpr std::uint64_t mmio_devices_start = 0xd0000000;
inline constexpr std::uint64_t ioapic_address = 0xfec00000;
inline constexpr std::uint64_t lapic_address = 0xfee00000;
/// Pages KVM needs for its own use on Intel (real-mode TSS, identity map).
inline constexpr std::uint64_t tss_address = 0xfffbd000;
inline constexpr std::uint64_t identity_map_address = 0xfffbc000;

/// GDT selectors the 64-bit boot protocol requires (__BOOT_CS, __BOOT_DS).
inline constexpr std::uint16_t boot_code_selector = 0x10;
inline constexpr std::uint16_t boot_data_selector = 0x18;
inline constexpr std::uint16_t boot_tss_selector = 0x20;

}  // namespace smvm::hv::x86::layout
