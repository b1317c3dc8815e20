#pragma once
// The snapshot file: everything of a VM but its memory, as named sections.
//
//   offset 0   magic "SMVMSNAP"
//          8   u32 format version
//         12   u32 section count
//         16   u64 file length
//         24   u32 CRC-32 of bytes 0..24 and the section table
//         28   u32 zero
//         32   section table: per section 64 bytes
//                name (40 bytes, NUL-padded), u64 offset, u64 length,
//                u32 CRC-32 of the section's bytes, u32 zero
//              then the sections, each at an 8-byte boundary
//
// All integers little-endian. Guest memory is a file of its own (raw, for
// mmap), named by the "memory" section.

#include "common/result.hpp"
#include "snapshot/atomic_file.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace smvm::snapshot {

inline constexpr std::array<char, 8> file_magic{'S', 'M', 'V', 'M', 'S', 'N', 'A', 'P'};
/// Bumped whenever a section's layout changes; older files are refused.
/// 2: the machine section lists devices by kind and settings.
inline constexpr std::uint32_t format_version = 2;
inline constexpr std::size_t header_size = 32;
inline constexpr std::size_t table_entry_size = 64;
inline constexpr std::size_t max_section_name = 39;
inline constexpr std::uint32_t max_sections = 1024;

struct section {
  std::string name;
  std::vector<std::uint8_t> bytes;
};

/// Where a section lies in the file, for `smvm snapshot inspect`.
struct section_entry {
  std::string name;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint32_t crc = 0;
};

struct snapshot_contents {
  std::string where;  // the file's name, for errors
  std::uint32_t version = 0;
  std::uint64_t file_length = 0;
  std::vector<section_entry> table;
  std::vector<section> sections;

  /// The section of that name, or nullptr.
  const section* find(std::string_view name) const;
  /// The section of that name, or an error naming the file and the section.
  result<const section*> require(std::string_view name) const;
};

/// The bytes of a snapshot file holding these sections (unique names).
result<std::vector<std::uint8_t>> encode_snapshot(std::span<const section> sections);
/// Checks magic, version, lengths and every checksum; `where` names the file.
result<snapshot_contents> decode_snapshot(std::span<const std::uint8_t> bytes, const std::string& where);

/// Writes atomically: the final name holds the whole file or is untouched.
result<void> write_snapshot_file(const std::filesystem::path& path, std::span<const section> sections,
                                 file_io io = file_io::system());
result<snapshot_contents> read_snapshot_file(const std::filesystem::path& path);

/// CRC-32 (zlib's polynomial).
std::uint32_t crc32_of(std::span<const std::uint8_t> bytes);

}  // namespace smvm::snapshot
