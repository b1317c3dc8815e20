#include "actors/irq_actor.hpp"

#include <fmt/format.h>

namespace smvm::actors {

namespace {

struct irq_state {
  std::shared_ptr<const hv::vm> vm;
  static inline const char* name = "irq";
};

irq_actor::behavior_type irq_behavior(irq_actor::stateful_pointer<irq_state> self, std::shared_ptr<const hv::vm> vm) {
  self->state.vm = std::move(vm);
  return {
    [self](const irq_line& x) {
      // A line KVM refuses is a wiring bug in smvm, not a guest fault; say so
      // once and keep the VM running without that interrupt.
      if (auto r = self->state.vm->set_irq_line(x.line, x.high); !r)
        fmt::print(stderr, "smvm: interrupt line {}: {}\n", x.line, r.error().message);
    },
  };
}

}  // namespace

irq_actor spawn_irq(caf::actor_system& system, std::shared_ptr<const hv::vm> vm) {
  return system.spawn(irq_behavior, std::move(vm));
}

}  // namespace smvm::actors
