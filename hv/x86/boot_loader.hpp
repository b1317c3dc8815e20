#pragma once
// Loads a Linux bzImage, an optional initrd and a command line into guest
// memory with everything the 64-bit boot protocol needs around them.

#include "common/result.hpp"
#include "hv/guest_memory.hpp"
#include "hv/x86/bzimage.hpp"
#include "hv/x86/vcpu_setup.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace smvm::hv::x86 {

struct linux_boot {
  std::span<const std::uint8_t> kernel;  // the bzImage file, as parse_bzimage accepted it
  const bzimage* header = nullptr;       // what parse_bzimage found in it
  std::span<const std::uint8_t> initrd;  // may be empty
  std::string cmdline;
  unsigned cpus = 1;
};

/// Writes kernel, initrd (at the top of low memory, below the kernel's
/// initrd_addr_max), command line, boot_params with the e820 map, page
/// tables, GDT and MP table. `memory_bytes` is the guest's RAM size. Errors
/// say what does not fit ("the kernel and initrd need 70 MiB ...").
result<boot_entry> load_linux(const guest_memory& memory, std::uint64_t memory_bytes,
                              const linux_boot& boot);

}  // namespace smvm::hv::x86
