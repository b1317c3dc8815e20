#pragma once
// A synthetic bzImage: a valid 2.15 setup header and a payload, with knobs
// to break it the ways the tests need.

#include "hv/x86/bzimage.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

namespace smvm::test {

struct fake_bzimage_options {
  std::uint16_t version = 0x020f;
  std::uint8_t setup_sects = 4;
  std::size_t payload = 64 * 1024;
  std::uint32_t init_size = 8 << 20;
  std::uint64_t pref_address = 0x1000000;
  bool relocatable = false;
  bool kernel_64 = true;
  std::uint32_t cmdline_size = 2047;
  std::uint32_t initrd_addr_max = 0x7fffffff;
};

inline std::vector<std::uint8_t> fake_bzimage(const fake_bzimage_options& o = {}) {
  using namespace hv::x86::setup_offsets;
  std::vector<std::uint8_t> f((o.setup_sects + 1) * 512 + o.payload, 0);
  auto put = [&](std::size_t at, auto value) { std::memcpy(f.data() + at, &value, sizeof value); };
  put(setup_sects, o.setup_sects);
  put(syssize, static_cast<std::uint32_t>(o.payload / 16));
  put(boot_flag, std::uint16_t{0xaa55});
  put(jump, std::uint8_t{0xeb});
  put(jump + 1, std::uint8_t{0x6a});  // header ends at 0x202 + 0x6a = 0x26c
  put(header, hv::x86::header_magic);
  put(version, o.version);
  put(loadflags, hv::x86::loadflag_loaded_high);
  put(initrd_addr_max, o.initrd_addr_max);
  put(kernel_alignment, std::uint32_t{0x200000});
  put(relocatable_kernel, std::uint8_t{o.relocatable});
  put(xloadflags, std::uint16_t{o.kernel_64 ? hv::x86::xloadflag_kernel_64 : std::uint16_t{0}});
  put(cmdline_size, o.cmdline_size);
  put(pref_address, o.pref_address);
  put(init_size, o.init_size);
  for (std::size_t i = (o.setup_sects + 1) * 512; i < f.size(); ++i) f[i] = static_cast<std::uint8_t>(i * 7);
  return f;
}

}  // namespace smvm::test
