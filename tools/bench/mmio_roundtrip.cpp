// The round trip of a guest register read through the actors: a vCPU-like
// sender (a detached blocking actor, as the vcpu actor is) asks a virtio
// device actor for a register with an mmio_exit request and waits for the
// reply, as a vCPU does for every config-space or status read. Prints the
// latency distribution in microseconds. No KVM needed.
//
//   build/smvm-bench-mmio [ROUND_TRIPS]   (default 20000)

#include "actors/notify_reactor.hpp"
#include "actors/virtio_device_actor.hpp"
#include "devices/virtio/mmio_transport.hpp"
#include "devices/virtio/rng/device.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

using namespace smvm;
using namespace smvm::actors;
namespace virtio = smvm::devices::virtio;

namespace {

/// Guest RAM for the device model; the benchmark never touches queues.
class no_memory final : public devices::memory_view {
 public:
  result<std::span<std::uint8_t>> slice(std::uint64_t, std::uint64_t) const override {
    return make_error("no guest memory in this benchmark");
  }
};

constexpr std::uint64_t base = 0xd0000000;

/// The vCPU stand-in: `count` reads of MagicValue, each timed.
void measure(caf::blocking_actor* self, device_actor device, std::size_t count, std::vector<double>* micros) {
  micros->reserve(count);
  for (std::size_t i = 0; i < count + 1000; ++i) {
    auto start = std::chrono::steady_clock::now();
    std::uint64_t value = 0;
    self->request(device, caf::infinite, mmio_exit{base + virtio::mmio_reg::magic, 4, false, 0})
      .receive([&](std::uint64_t v) { value = v; }, [](caf::error&) {});
    auto took = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    if (value != virtio::mmio_magic) std::abort();
    if (i >= 1000) micros->push_back(took);  // the first thousand warm up
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 20000;
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system system{cfg};

  no_memory memory;
  // Function actors take an unused int: CAF 0.17 binds a reference to a null
  // argument tuple when they take none (UBSan reports it).
  auto irq = system.spawn([](irq_actor::pointer, int) -> irq_actor::behavior_type {
    return {[](const irq_line&) {}, [](const irq_raise&) {}};
  }, 0);
  auto machine = system.spawn([](machine_actor::pointer, int) -> machine_actor::behavior_type {
    return {[](run_atom) { return std::int32_t{0}; }, [](guest_stop&) {}, [](workload_signal) {}, [](ready_atom) {},
            [](snapshot_request&) { return std::string(); }, [](pause_atom) { return true; },
            [](resume_atom) { return true; }, [](status_atom) { return std::string(); }};
  }, 0);
  auto reactor = std::make_shared<notify_reactor>();
  virtio_device_spec spec;
  spec.name = "virtio-rng";
  spec.model = std::make_shared<virtio::rng::device>(memory);
  spec.base = base;
  spec.irq_line = 5;
  auto device = spawn_virtio_device(system, std::move(spec), irq, reactor, machine);

  std::vector<double> micros;
  auto sender = system.spawn<caf::detached>(measure, device, count, &micros);
  system.await_actors_before_shutdown();
  {
    caf::scoped_actor self{system};
    self->wait_for(sender);
  }
  reactor->stop();
  caf::anon_send_exit(device, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(irq, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(machine, caf::exit_reason::user_shutdown);

  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) { return micros[static_cast<std::size_t>(q * static_cast<double>(micros.size() - 1))]; };
  double sum = 0;
  for (double m : micros) sum += m;
  fmt::print("mmio_exit round trip, vCPU-like detached actor -> virtio device actor -> reply, {} reads\n",
             micros.size());
  fmt::print("  median {:.1f} us, mean {:.1f} us, p90 {:.1f} us, p99 {:.1f} us, min {:.1f} us, max {:.1f} us\n",
             at(0.5), sum / static_cast<double>(micros.size()), at(0.9), at(0.99), micros.front(), micros.back());
}
