#include "hv/vcpu_exit.hpp"

#include <fmt/format.h>

namespace smvm::hv {

namespace {

template <class... F>
struct overloaded : F... {
  using F::operator()...;
};

}  // namespace

std::string describe(const vcpu_exit& exit) {
  return std::visit(
    overloaded{
      [](const exits::port_io& x) {
        return fmt::format("port {} {:#x} size {} count {}", x.write ? "out" : "in", x.port, x.size, x.count);
      },
      [](const exits::mmio& x) {
        return fmt::format("mmio {} {:#x} size {}", x.write ? "write" : "read", x.address, x.data.size());
      },
      [](const exits::interrupted&) { return std::string("interrupted"); },
      [](const exits::halt&) { return std::string("halt"); },
      [](const exits::shutdown&) { return std::string("shutdown (triple fault)"); },
      [](const exits::system_event& x) { return fmt::format("system event {}", x.type); },
      [](const exits::entry_failed& x) { return fmt::format("entry failed (hardware reason {:#x})", x.reason); },
      [](const exits::internal_error& x) {
        return fmt::format("internal error (suberror {}){}", x.suberror,
                           x.rip ? fmt::format(" at rip {:#x}", *x.rip) : std::string());
      },
      [](const exits::run_failed& x) { return fmt::format("run failed (errno {})", x.error); },
      [](const exits::unexpected& x) { return fmt::format("unexpected: {}", x.what); },
    },
    exit);
}

}  // namespace smvm::hv
