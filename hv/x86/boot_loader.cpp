#include "hv/x86/boot_loader.hpp"

#include "hv/x86/boot_params.hpp"
#include "hv/x86/bzimage.hpp"
#include "hv/x86/e820.hpp"
#include "hv/x86/gdt.hpp"
#include "hv/x86/layout.hpp"
#include "hv/x86/mptable.hpp"
#include "hv/x86/page_tables.hpp"

namespace smvm::hv::x86 {

namespace {

constexpr std::uint64_t page = 4096;
constexpr std::uint64_t entry_64_offset = 0x200;  // startup_64, from the load address

std::uint64_t mib_rounded_up(std::uint64_t bytes) { return (bytes + layout::MiB - 1) / layout::MiB; }

}  // namespace

result<boot_entry> load_linux(const guest_memory& memory, std::uint64_t memory_bytes, const linux_boot& boot) {
  const bzimage& k = *boot.header;

  if (boot.cmdline.size() > k.cmdline_size)
    return make_error("the kernel command line is {} bytes, this kernel takes at most {}",
                      boot.cmdline.size(), k.cmdline_size);

  // The kernel occupies [start, end) once it runs; the initrd goes as high
  // as the kernel allows, and must stay clear of it.
  const std::uint64_t kernel_end = k.footprint_end(layout::kernel_load_address);
  const std::uint64_t low_end = low_memory_end(memory_bytes);
  std::uint64_t initrd_limit = std::min<std::uint64_t>(low_end, std::uint64_t{k.initrd_addr_max} + 1);
  std::uint64_t initrd_address = 0;
  if (!boot.initrd.empty()) {
    if (boot.initrd.size() > initrd_limit) initrd_limit = 0;  // cannot fit at all
    initrd_address = (initrd_limit - std::min<std::uint64_t>(initrd_limit, boot.initrd.size())) & ~(page - 1);
  }
  const std::uint64_t needed = kernel_end + (boot.initrd.empty() ? 0 : (boot.initrd.size() + page));
  if (kernel_end > low_end || (!boot.initrd.empty() && initrd_address < kernel_end))
    return make_error("{} MiB of memory is too small: the kernel needs {} MiB and the initrd {} MiB "
                      "(about {} MiB in all); raise memory_mib",
                      memory_bytes / layout::MiB, mib_rounded_up(kernel_end),
                      mib_rounded_up(boot.initrd.size()), mib_rounded_up(needed) + 16);

  auto write = [&](std::uint64_t address, std::span<const std::uint8_t> bytes, const char* what) -> result<void> {
    return with_context(memory.write(address, bytes), what);
  };
  if (auto r = write(layout::kernel_load_address, boot.kernel.subspan(k.kernel_offset, k.kernel_size), "loading the kernel"); !r)
    return r.error();
  if (!boot.initrd.empty())
    if (auto r = write(initrd_address, boot.initrd, "loading the initrd"); !r) return r.error();

  std::vector<std::uint8_t> cmdline(boot.cmdline.begin(), boot.cmdline.end());
  cmdline.push_back(0);
  if (auto r = write(layout::cmdline_address, cmdline, "writing the command line"); !r) return r.error();

  boot_params_input params;
  params.kernel = &k;
  params.cmdline_address = static_cast<std::uint32_t>(layout::cmdline_address);
  params.cmdline_size = static_cast<std::uint32_t>(boot.cmdline.size());
  params.initrd_address = static_cast<std::uint32_t>(initrd_address);
  params.initrd_size = static_cast<std::uint32_t>(boot.initrd.size());
  params.e820 = e820_map(memory_bytes);
  auto zero_page = make_boot_params(params);
  if (!zero_page) return zero_page.error();
  if (auto r = write(layout::boot_params_address, *zero_page, "writing boot_params"); !r) return r.error();

  if (auto r = write(layout::page_tables_address, identity_page_tables(layout::page_tables_address), "writing page tables"); !r)
    return r.error();
  auto gdt = boot_gdt();
  if (auto r = memory.write_object(layout::gdt_address, gdt); !r) return r.error();

  auto mptable = build_mptable(boot.cpus, static_cast<std::uint32_t>(layout::mptable_address));
  if (!mptable) return mptable.error();
  if (auto r = write(layout::mptable_address, *mptable, "writing the MP table"); !r) return r.error();

  return boot_entry{layout::kernel_load_address + entry_64_offset, layout::boot_params_address};
}

}  // namespace smvm::hv::x86
