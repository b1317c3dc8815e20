#include "hv/x86/boot_params.hpp"

#include <cstring>

namespace smvm::hv::x86 {

namespace {

template <class T>
void store(std::array<std::uint8_t, boot_params_size>& page, std::size_t offset, T value) {
  std::memcpy(page.data() + offset, &value, sizeof(T));
}

}  // namespace

result<std::array<std::uint8_t, boot_params_size>> make_boot_params(const boot_params_input& in) {
  using namespace setup_offsets;
  if (in.e820.size() > e820_max_entries)
    return make_error("{} e820 entries, the zero page holds {}", in.e820.size(), e820_max_entries);
  std::array<std::uint8_t, boot_params_size> page{};
  auto& header = in.kernel->setup_header;
  std::memcpy(page.data() + setup_sects, header.data(), header.size());

  store<std::uint8_t>(page, type_of_loader, 0xff);  // "undefined" loader, as the protocol allows
  store<std::uint8_t>(page, loadflags,
                      static_cast<std::uint8_t>(in.kernel->loadflags | loadflag_can_use_heap));
  // The heap ends below the command line; offset from the real-mode base.
  store<std::uint16_t>(page, heap_end_ptr, 0xfe00);
  store<std::uint32_t>(page, cmd_line_ptr, in.cmdline_address);
  store<std::uint32_t>(page, ramdisk_image, in.initrd_address);
  store<std::uint32_t>(page, ramdisk_size, in.initrd_size);

  store<std::uint8_t>(page, zero_page::e820_entries, static_cast<std::uint8_t>(in.e820.size()));
  for (std::size_t i = 0; i < in.e820.size(); ++i) {
    std::size_t at = zero_page::e820_table + i * zero_page::e820_entry_size;
    store<std::uint64_t>(page, at, in.e820[i].address);
    store<std::uint64_t>(page, at + 8, in.e820[i].size);
    store<std::uint32_t>(page, at + 16, static_cast<std::uint32_t>(in.e820[i].type));
  }
  return page;
}

}  // namespace smvm::hv::x86
