#include "actors/irq_actor.hpp"

#include "hv/eventfd.hpp"

#include <fmt/format.h>

namespace smvm::actors {

namespace {

struct irq_state {
  std::shared_ptr<const hv::vm> vm;
  irqfd_map irqfds;
  static inline const char* name = "irq";
};

irq_actor::behavior_type irq_behavior(irq_actor::stateful_pointer<irq_state> self, std::shared_ptr<const hv::vm> vm,
                                      irqfd_map irqfds) {
  self->state.vm = std::move(vm);
  self->state.irqfds = std::move(irqfds);
  return {
    [self](const irq_line& x) {
      // A line KVM refuses is a wiring bug in smvm, not a guest fault; say so
      // and keep the VM running without that interrupt.
      if (auto r = self->state.vm->set_irq_line(x.line, x.high); !r)
        fmt::print(stderr, "smvm: interrupt line {}: {}\n", x.line, r.error().message);
    },
    [self](const irq_raise& x) {
      auto it = self->state.irqfds.find(x.line);
      if (it == self->state.irqfds.end()) {
        fmt::print(stderr, "smvm: interrupt line {} has no irqfd\n", x.line);
        return;
      }
      hv::signal_eventfd(it->second.get());
    },
  };
}

}  // namespace

irq_actor spawn_irq(caf::actor_system& system, std::shared_ptr<const hv::vm> vm, irqfd_map irqfds) {
  return system.spawn(irq_behavior, std::move(vm), std::move(irqfds));
}

}  // namespace smvm::actors
