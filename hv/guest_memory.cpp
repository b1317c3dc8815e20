#include "hv/guest_memory.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace smvm::hv {

namespace {

/// Sorts the regions, checks them, and lays them out one after another in
/// the backing file; returns the total size.
result<std::uint64_t> lay_out(std::vector<memory_region>& regions) {
  std::sort(regions.begin(), regions.end(),
            [](auto& a, auto& b) { return a.guest_address < b.guest_address; });
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    auto& r = regions[i];
    if (r.size == 0 || r.size % 4096 != 0 || r.guest_address % 4096 != 0)
      return make_error("guest memory region at {:#x} is not page aligned", r.guest_address);
    if (i > 0 && regions[i - 1].guest_address + regions[i - 1].size > r.guest_address)
      return make_error("guest memory regions overlap at {:#x}", r.guest_address);
    r.file_offset = total;
    total += r.size;
  }
  if (total == 0) return make_error("guest memory is empty");
  return total;
}

}  // namespace

result<guest_memory> guest_memory::create(std::vector<memory_region> regions) {
  auto laid_out = lay_out(regions);
  if (!laid_out) return laid_out.error();
  const std::uint64_t total = *laid_out;
  guest_memory m;
  m.fd_ = unique_fd(::memfd_create("smvm-guest-ram", MFD_CLOEXEC));
  if (!m.fd_.valid()) return make_error("memfd_create: {}", std::strerror(errno));
  if (::ftruncate(m.fd_.get(), static_cast<off_t>(total)) != 0)
    return make_error("cannot size guest memory to {} bytes: {}", total, std::strerror(errno));
  void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, m.fd_.get(), 0);
  if (p == MAP_FAILED)
    return make_error("cannot map {} MiB of guest memory: {}", total >> 20, std::strerror(errno));
  m.base_ = static_cast<std::uint8_t*>(p);
  m.total_ = total;
  m.regions_ = std::move(regions);
  return m;
}

result<guest_memory> guest_memory::map_private(unique_fd file, std::vector<memory_region> regions) {
  auto laid_out = lay_out(regions);
  if (!laid_out) return laid_out.error();
  const std::uint64_t total = *laid_out;
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return make_error("memory file: fstat: {}", std::strerror(errno));
  if (static_cast<std::uint64_t>(st.st_size) != total)
    return make_error("memory file holds {} bytes, the VM's memory is {}", st.st_size, total);
  void* p = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, file.get(), 0);
  if (p == MAP_FAILED) return make_error("cannot map the memory file ({} MiB): {}", total >> 20, std::strerror(errno));
  guest_memory m;
  m.fd_ = std::move(file);
  m.base_ = static_cast<std::uint8_t*>(p);
  m.total_ = total;
  m.regions_ = std::move(regions);
  m.private_ = true;
  return m;
}

guest_memory::guest_memory(guest_memory&& other) noexcept
    : fd_(std::move(other.fd_)),
      base_(std::exchange(other.base_, nullptr)),
      total_(std::exchange(other.total_, 0)),
      regions_(std::move(other.regions_)),
      private_(other.private_) {}

guest_memory& guest_memory::operator=(guest_memory&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, total_);
    fd_ = std::move(other.fd_);
    base_ = std::exchange(other.base_, nullptr);
    total_ = std::exchange(other.total_, 0);
    regions_ = std::move(other.regions_);
    private_ = other.private_;
  }
  return *this;
}

guest_memory::~guest_memory() {
  if (base_) ::munmap(base_, total_);
}

result<std::span<std::uint8_t>> guest_memory::slice(std::uint64_t address, std::uint64_t length) const {
  for (auto& r : regions_) {
    if (address < r.guest_address || address - r.guest_address >= r.size) continue;
    std::uint64_t offset = address - r.guest_address;
    // Written so that no addition can overflow: length is checked against
    // what is left of the region.
    if (length > r.size - offset) break;
    return std::span<std::uint8_t>(base_ + r.file_offset + offset, length);
  }
  return make_error("guest range [{:#x}, +{:#x}) is outside guest memory", address, length);
}

result<void> guest_memory::write(std::uint64_t address, std::span<const std::uint8_t> bytes) const {
  auto target = slice(address, bytes.size());
  if (!target) return target.error();
  if (!bytes.empty()) std::memcpy(target->data(), bytes.data(), bytes.size());
  return {};
}

result<void> guest_memory::read(std::uint64_t address, std::span<std::uint8_t> out) const {
  auto source = slice(address, out.size());
  if (!source) return source.error();
  if (!out.empty()) std::memcpy(out.data(), source->data(), out.size());
  return {};
}

}  // namespace smvm::hv
