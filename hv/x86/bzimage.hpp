#pragma once
// The Linux x86 boot protocol's setup header, read from a bzImage
// (Documentation/x86/boot.rst).

#include "common/result.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace smvm::hv::x86 {

/// The oldest protocol smvm boots: 2.12 added the 64-bit entry (xloadflags).
inline constexpr std::uint16_t min_boot_protocol = 0x020c;

/// What smvm needs to know of a bzImage to load and start it.
struct bzimage {
  std::uint16_t protocol_version = 0;
  std::uint8_t loadflags = 0;
  std::uint16_t xloadflags = 0;
  bool relocatable = false;
  std::uint32_t initrd_addr_max = 0;
  std::uint32_t cmdline_size = 0;   // longest command line, without the NUL
  std::uint64_t pref_address = 0;
  std::uint32_t init_size = 0;      // memory the kernel needs from where it runs
  /// The protected-mode kernel: this many bytes from this file offset.
  std::size_t kernel_offset = 0;
  std::size_t kernel_size = 0;
  /// The setup header as found in the file, to be copied into boot_params
  /// at offset 0x1f1.
  std::vector<std::uint8_t> setup_header;

  /// [start, end) of guest memory the kernel occupies once it runs: a
  /// non-relocatable kernel moves itself to pref_address.
  std::uint64_t footprint_start(std::uint64_t load_address) const;
  std::uint64_t footprint_end(std::uint64_t load_address) const;
};

/// Validates and parses a bzImage. Errors name what is wrong: a truncated
/// file, a missing "HdrS" magic, a protocol older than 2.12, no 64-bit entry.
result<bzimage> parse_bzimage(std::span<const std::uint8_t> file);

namespace setup_offsets {
inline constexpr std::size_t setup_sects = 0x1f1;
inline constexpr std::size_t syssize = 0x1f4;
inline constexpr std::size_t boot_flag = 0x1fe;
inline constexpr std::size_t jump = 0x200;
inline constexpr std::size_t header = 0x202;
inline constexpr std::size_t version = 0x206;
inline constexpr std::size_t type_of_loader = 0x210;
inline constexpr std::size_t loadflags = 0x211;
inline constexpr std::size_t ramdisk_image = 0x218;
inline constexpr std::size_t ramdisk_size = 0x21c;
inline constexpr std::size_t heap_end_ptr = 0x224;
inline constexpr std::size_t cmd_line_ptr = 0x228;
inline constexpr std::size_t initrd_addr_max = 0x22c;
inline constexpr std::size_t kernel_alignment = 0x230;
inline constexpr std::size_t relocatable_kernel = 0x234;
inline constexpr std::size_t xloadflags = 0x236;
inline constexpr std::size_t cmdline_size = 0x238;
inline constexpr std::size_t pref_address = 0x258;
inline constexpr std::size_t init_size = 0x260;
}  // namespace setup_offsets

inline constexpr std::uint32_t header_magic = 0x53726448;  // "HdrS"
inline constexpr std::uint8_t loadflag_loaded_high = 0x01;
inline constexpr std::uint8_t loadflag_can_use_heap = 0x80;
inline constexpr std::uint16_t xloadflag_kernel_64 = 0x01;

}  // namespace smvm::hv::x86
