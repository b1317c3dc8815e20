#include "snapshot/snapshot_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace smvm::snapshot {

namespace {

void put_u32(std::vector<std::uint8_t>& out, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64(std::vector<std::uint8_t>& out, std::size_t at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get_u32(std::span<const std::uint8_t> in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(in[at + i]) << (8 * i);
  return v;
}
std::uint64_t get_u64(std::span<const std::uint8_t> in, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(in[at + i]) << (8 * i);
  return v;
}
std::uint64_t align8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }

/// The header's checksum covers bytes 0..24 and the table.
std::uint32_t header_crc(std::span<const std::uint8_t> file, std::size_t table_end) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  crc = ::crc32(crc, file.data(), 24);
  crc = ::crc32(crc, file.data() + header_size, static_cast<uInt>(table_end - header_size));
  return static_cast<std::uint32_t>(crc);
}

}  // namespace

std::uint32_t crc32_of(std::span<const std::uint8_t> bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  // zlib takes a uInt length: feed large sections in pieces.
  for (std::size_t at = 0; at < bytes.size();) {
    const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, 1u << 30));
    crc = ::crc32(crc, bytes.data() + at, n);
    at += n;
  }
  return static_cast<std::uint32_t>(crc);
}

const section* snapshot_contents::find(std::string_view name) const {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

result<const section*> snapshot_contents::require(std::string_view name) const {
  if (const auto* s = find(name)) return s;
  return make_error("{}: the snapshot has no section {}", where, name);
}

result<std::vector<std::uint8_t>> encode_snapshot(std::span<const section> sections) {
  if (sections.size() > max_sections) return make_error("a snapshot holds at most {} sections, not {}", max_sections, sections.size());
  std::set<std::string_view> names;
  for (const auto& s : sections) {
    if (s.name.empty() || s.name.size() > max_section_name)
      return make_error("section name '{}' must be 1 to {} characters", s.name, max_section_name);
    if (!names.insert(s.name).second) return make_error("section {} appears twice", s.name);
  }
  const std::size_t table_end = header_size + sections.size() * table_entry_size;
  std::uint64_t length = align8(table_end);
  for (const auto& s : sections) length = align8(length + s.bytes.size());

  std::vector<std::uint8_t> out(length, 0);
  std::memcpy(out.data(), file_magic.data(), file_magic.size());
  put_u32(out, 8, format_version);
  put_u32(out, 12, static_cast<std::uint32_t>(sections.size()));
  put_u64(out, 16, length);
  std::uint64_t at = align8(table_end);
  for (std::size_t i = 0; i < sections.size(); ++i) {
    const auto& s = sections[i];
    const std::size_t entry = header_size + i * table_entry_size;
    std::memcpy(out.data() + entry, s.name.data(), s.name.size());
    put_u64(out, entry + 40, at);
    put_u64(out, entry + 48, s.bytes.size());
    put_u32(out, entry + 56, crc32_of(s.bytes));
    std::copy(s.bytes.begin(), s.bytes.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    at = align8(at + s.bytes.size());
  }
  put_u32(out, 24, header_crc(out, table_end));
  return out;
}

result<snapshot_contents> decode_snapshot(std::span<const std::uint8_t> file, const std::string& where) {
  if (file.size() < header_size)
    return make_error("{}: truncated: {} bytes, shorter than a snapshot header ({} bytes)", where, file.size(), header_size);
  if (!std::equal(file_magic.begin(), file_magic.end(), file.begin()))
    return make_error("{}: not an smvm snapshot (no SMVMSNAP magic at the start)", where);
  snapshot_contents contents;
  contents.where = where;
  contents.version = get_u32(file, 8);
  if (contents.version > format_version)
    return make_error("{}: snapshot format version {} is newer than this smvm reads (version {}); "
                      "restore it with the smvm that wrote it", where, contents.version, format_version);
  if (contents.version < format_version)
    return make_error("{}: snapshot format version {} is no longer read by this smvm (version {}); take the snapshot again",
                      where, contents.version, format_version);
  const std::uint32_t count = get_u32(file, 12);
  contents.file_length = get_u64(file, 16);
  if (contents.file_length != file.size())
    return make_error("{}: {}: the header says {} bytes, the file has {}", where,
                      file.size() < contents.file_length ? "truncated" : "trailing bytes", contents.file_length, file.size());
  if (count > max_sections) return make_error("{}: corrupted: {} sections claimed, at most {}", where, count, max_sections);
  const std::size_t table_end = header_size + std::size_t{count} * table_entry_size;
  if (table_end > file.size()) return make_error("{}: truncated: the section table runs past the end of the file", where);
  if (header_crc(file, table_end) != get_u32(file, 24))
    return make_error("{}: corrupted: the header or section table fails its checksum", where);

  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t entry = header_size + std::size_t{i} * table_entry_size;
    section_entry e;
    const auto* name = reinterpret_cast<const char*>(file.data() + entry);
    e.name.assign(name, strnlen(name, 40));
    e.offset = get_u64(file, entry + 40);
    e.length = get_u64(file, entry + 48);
    e.crc = get_u32(file, entry + 56);
    if (e.name.empty() || e.name.size() > max_section_name)
      return make_error("{}: corrupted: section {} has no valid name", where, i);
    if (e.offset < table_end || e.offset > file.size() || e.length > file.size() - e.offset)
      return make_error("{}: corrupted: section {} ({} bytes at {}) lies outside the file", where, e.name, e.length, e.offset);
    auto bytes = file.subspan(e.offset, e.length);
    if (crc32_of(bytes) != e.crc) return make_error("{}: corrupted: section {} fails its checksum", where, e.name);
    if (contents.find(e.name)) return make_error("{}: corrupted: section {} appears twice", where, e.name);
    contents.sections.push_back({e.name, {bytes.begin(), bytes.end()}});
    contents.table.push_back(std::move(e));
  }
  return contents;
}

result<void> write_snapshot_file(const std::filesystem::path& path, std::span<const section> sections, file_io io) {
  auto bytes = encode_snapshot(sections);
  if (!bytes) return with_context(result<void>(bytes.error()), path.string());
  auto file = atomic_file::create(path, std::move(io));
  if (!file) return file.error();
  if (auto r = file->write(*bytes); !r) return r;
  return file->commit();
}

result<snapshot_contents> read_snapshot_file(const std::filesystem::path& path) {
  unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error("{}: cannot open the snapshot: {}", path.string(), std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return make_error("{}: not a regular file", path.string());
  // A snapshot without memory is small (state only); refuse anything absurd
  // before allocating for it.
  constexpr off_t max_size = off_t{256} << 20;
  if (st.st_size > max_size) return make_error("{}: {} bytes is too large for a snapshot state file", path.string(), st.st_size);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("{}: reading: {}", path.string(), std::strerror(errno));
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  bytes.resize(done);
  return decode_snapshot(bytes, path.string());
}

}  // namespace smvm::snapshot
