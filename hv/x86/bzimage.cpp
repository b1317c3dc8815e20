#include "hv/x86/bzimage.hpp"

#include <cstring>

namespace smvm::hv::x86 {

namespace {

template <class T>
T load(std::span<const std::uint8_t> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

}  // namespace

std::uint64_t bzimage::footprint_start(std::uint64_t load_address) const {
  return relocatable ? load_address : std::min(load_address, pref_address);
}

std::uint64_t bzimage::footprint_end(std::uint64_t load_address) const {
  std::uint64_t loaded_end = load_address + kernel_size;
  std::uint64_t run_base = relocatable ? load_address : pref_address;
  return std::max(loaded_end, run_base + init_size);
}

result<bzimage> parse_bzimage(std::span<const std::uint8_t> file) {
  using namespace setup_offsets;
  // Everything up to init_size must be present for a 2.12+ header.
  if (file.size() < init_size + 4)
    return make_error("not a bzImage: only {} bytes, too short for a boot sector and setup header",
                      file.size());
  if (load<std::uint16_t>(file, boot_flag) != 0xaa55)
    return make_error("not a bzImage: no boot signature 0xAA55 at offset 0x1fe");
  if (load<std::uint32_t>(file, header) != header_magic)
    return make_error("not a bzImage: no \"HdrS\" magic at offset 0x202 (is this a vmlinux ELF or a "
                      "compressed file?)");
  bzimage k;
  k.protocol_version = load<std::uint16_t>(file, version);
  if (k.protocol_version < min_boot_protocol)
    return make_error("boot protocol {}.{:02} is too old: smvm needs {}.{:02} or newer (Linux 3.8+)",
                      k.protocol_version >> 8, k.protocol_version & 0xff, min_boot_protocol >> 8,
                      min_boot_protocol & 0xff);
  k.loadflags = load<std::uint8_t>(file, loadflags);
  k.xloadflags = load<std::uint16_t>(file, xloadflags);
  if (!(k.loadflags & loadflag_loaded_high))
    return make_error("the kernel does not load at 1 MiB (LOADED_HIGH is clear): not a bzImage");
  if (!(k.xloadflags & xloadflag_kernel_64))
    return make_error("the kernel has no 64-bit entry point (XLF_KERNEL_64 is clear): smvm boots "
                      "x86-64 kernels only");
  k.relocatable = load<std::uint8_t>(file, relocatable_kernel) != 0;
  k.initrd_addr_max = load<std::uint32_t>(file, initrd_addr_max);
  k.cmdline_size = load<std::uint32_t>(file, cmdline_size);
  k.pref_address = load<std::uint64_t>(file, pref_address);
  k.init_size = load<std::uint32_t>(file, init_size);

  std::size_t sects = load<std::uint8_t>(file, setup_sects);
  if (sects == 0) sects = 4;  // as the protocol says, for ancient images
  k.kernel_offset = (sects + 1) * 512;
  if (k.kernel_offset >= file.size())
    return make_error("bzImage is truncated: {} setup sectors but only {} bytes", sects, file.size());
  k.kernel_size = file.size() - k.kernel_offset;
  std::uint64_t syssize = std::uint64_t{load<std::uint32_t>(file, setup_offsets::syssize)} * 16;
  if (syssize > k.kernel_size)
    return make_error("bzImage is truncated: the header announces {} bytes of kernel, the file has {}",
                      syssize, k.kernel_size);

  // The header runs from 0x1f1 to 0x202 plus the byte at 0x201 (the jump's
  // displacement, which is where setup code starts).
  std::size_t header_end = header + load<std::uint8_t>(file, jump + 1);
  if (header_end > k.kernel_offset || header_end < init_size + 4)
    return make_error("bzImage setup header has an implausible length ({} bytes)", header_end - setup_sects);
  k.setup_header.assign(file.begin() + setup_sects, file.begin() + header_end);
  return k;
}

}  // namespace smvm::hv::x86
