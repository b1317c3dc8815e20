#include "actors/device_actor.hpp"
#include "devices/serial.hpp"
#include "common/state_codec.hpp"

#include <catch2/catch.hpp>

#include <mutex>
#include <string>

using namespace smvm;
using namespace smvm::actors;

TEST_CASE("device actor: a pio_exit read is answered with the model's register") {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system system{cfg};
  auto output = std::make_shared<std::string>();
  auto uart = std::make_unique<devices::serial>(
    [output](std::span<const std::uint8_t> b) { output->append(b.begin(), b.end()); }, nullptr);
  auto* model = uart.get();
  auto device = spawn_device(system, {std::move(uart), 0x3f8, [model](std::span<const std::uint8_t> b) { model->receive(b); }, {}, {}});
  caf::scoped_actor self{system};

  // Writes are sent anonymously and answered in order with later reads.
  caf::anon_send(device, pio_exit{0x3fb, 1, true, 0x03});
  caf::anon_send(device, pio_exit{0x3f9, 1, true, 0x01});  // the guest listens: receive interrupt on
  caf::anon_send(device, console_input{{'A'}});
  std::uint64_t lcr = 0, rbr = 0;
  self->request(device, caf::infinite, pio_exit{0x3fb, 1, false, 0}).receive([&](std::uint64_t v) { lcr = v; },
                                                                             [](caf::error&) {});
  self->request(device, caf::infinite, pio_exit{0x3f8, 1, false, 0}).receive([&](std::uint64_t v) { rbr = v; },
                                                                             [](caf::error&) {});
  CHECK(lcr == 0x03);
  CHECK(rbr == 'A');

  caf::anon_send(device, pio_exit{0x3f8, 1, true, 'z'});
  bool synced = false;
  self->request(device, caf::infinite, sync_atom_v).receive([&](bool b) { synced = b; }, [](caf::error&) {});
  CHECK(synced);
  CHECK(*output == "z");
  self->send_exit(device, caf::exit_reason::user_shutdown);
}

TEST_CASE("device actor: freeze answers with the model's state, taken after every earlier access") {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system system{cfg};
  auto uart = std::make_unique<devices::serial>([](std::span<const std::uint8_t>) {}, nullptr);
  auto* model = uart.get();
  auto device = spawn_device(system, {std::move(uart), 0x3f8, {}, "serial",
                                      [model] { return encode_state(model->save()); }});
  caf::scoped_actor self{system};
  caf::anon_send(device, pio_exit{0x3ff, 1, true, 0x42});  // scratch register
  actors::saved_section saved;
  self->request(device, caf::infinite, freeze_atom_v).receive([&](actors::saved_section& s) { saved = std::move(s); },
                                                              [](caf::error&) {});
  CHECK(saved.name == "serial");
  auto state = decode_state<devices::serial_state>(saved.bytes, "section serial");
  REQUIRE(state);
  CHECK(state->scr == 0x42);
  self->send_exit(device, caf::exit_reason::user_shutdown);
}

TEST_CASE("device actor: a blocking device's stalled output holds up no other actor") {
  // One scheduler thread: a UART spawned on it, stuck writing to a stdout
  // nobody reads, would stop every other device (and VM) of the process.
  caf::actor_system_config cfg;
  configure(cfg);
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system system{cfg};
  std::mutex stdout_mutex;
  std::unique_lock held(stdout_mutex);  // the slow reader
  auto uart = std::make_unique<devices::serial>(
    [&stdout_mutex](std::span<const std::uint8_t>) { std::lock_guard wait(stdout_mutex); }, nullptr);
  device_spec spec{std::move(uart), 0x3f8, {}, {}, {}};
  spec.blocking = true;
  auto stalled = spawn_device(system, std::move(spec));
  auto other = spawn_device(system, {std::make_unique<devices::serial>([](std::span<const std::uint8_t>) {}, nullptr),
                                     0x2f8, {}, {}, {}});
  caf::anon_send(stalled, pio_exit{0x3f8, 1, true, 'x'});
  caf::scoped_actor self{system};
  std::uint64_t lcr = 0;
  bool answered = false;
  self->request(other, std::chrono::seconds(5), pio_exit{0x2fb, 1, false, 0})
    .receive([&](std::uint64_t v) { lcr = v; answered = true; }, [](caf::error&) {});
  CHECK(answered);
  held.unlock();
  bool synced = false;
  self->request(stalled, std::chrono::seconds(5), sync_atom_v).receive([&](bool b) { synced = b; }, [](caf::error&) {});
  CHECK(synced);
  self->send_exit(stalled, caf::exit_reason::user_shutdown);
  self->send_exit(other, caf::exit_reason::user_shutdown);
}
