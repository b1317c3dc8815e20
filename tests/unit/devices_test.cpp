#include "devices/bus.hpp"
#include "devices/i8042.hpp"
#include "devices/serial.hpp"
#include "devices/status_port.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace smvm::devices;
using namespace smvm::devices::uart;

namespace {
struct uart_fixture {
  std::string output;
  std::vector<bool> irq_changes;
  serial uart{[this](std::span<const std::uint8_t> b) { output.append(b.begin(), b.end()); },
              [this](bool high) { irq_changes.push_back(high); }};
};
}  // namespace

TEST_CASE("UART: a byte written to THR is transmitted at once") {
  uart_fixture f;
  f.uart.write(rbr_thr, 1, 'h');
  f.uart.write(rbr_thr, 1, 'i');
  CHECK(f.output == "hi");
  CHECK((f.uart.read(lsr, 1) & (lsr_thr_empty | lsr_idle)) == (lsr_thr_empty | lsr_idle));
}

TEST_CASE("UART: enabling the THR-empty interrupt raises it, and reading IIR acknowledges it") {
  uart_fixture f;
  CHECK(f.uart.read(iir_fcr, 1) == iir_none);
  f.uart.write(ier, 1, ier_thr_empty);
  CHECK(f.uart.irq_level());
  CHECK(f.irq_changes == std::vector<bool>{true});
  CHECK((f.uart.read(iir_fcr, 1) & 0x0f) == iir_thr_empty);
  CHECK_FALSE(f.uart.irq_level());
  CHECK(f.uart.read(iir_fcr, 1) == iir_none);
  // Each transmitted byte empties THR again and asks for more.
  f.uart.write(rbr_thr, 1, 'x');
  CHECK(f.uart.irq_level());
}

TEST_CASE("UART: host input sets data-ready and the receive interrupt once the guest enables it") {
  uart_fixture f;
  const std::uint8_t bytes[] = {'o', 'k'};
  CHECK(f.uart.receive(bytes) == 2);
  CHECK((f.uart.read(lsr, 1) & lsr_data_ready) == 0);  // waits until the guest listens
  CHECK_FALSE(f.uart.irq_level());
  f.uart.write(ier, 1, ier_rx_available);
  CHECK((f.uart.read(lsr, 1) & lsr_data_ready) != 0);
  CHECK(f.uart.irq_level());
  CHECK((f.uart.read(iir_fcr, 1) & 0x0f) == iir_rx_available);
  CHECK(f.uart.read(rbr_thr, 1) == 'o');
  CHECK(f.uart.read(rbr_thr, 1) == 'k');
  CHECK((f.uart.read(lsr, 1) & lsr_data_ready) == 0);
  CHECK_FALSE(f.uart.irq_level());
}

TEST_CASE("UART: receive data outranks THR-empty in IIR") {
  uart_fixture f;
  f.uart.write(ier, 1, ier_rx_available | ier_thr_empty);
  const std::uint8_t b = 'z';
  f.uart.receive({&b, 1});
  CHECK((f.uart.read(iir_fcr, 1) & 0x0f) == iir_rx_available);
}

TEST_CASE("UART: input that arrives before the guest opens the port survives its start-up") {
  uart_fixture f;
  const std::uint8_t bytes[] = {'h', 'i', '\n'};
  f.uart.receive(bytes);
  // Linux's autoconfig probe turns every interrupt on for a moment...
  f.uart.write(ier, 1, 0x0f);
  f.uart.write(ier, 1, 0x00);
  // ...and serial8250_startup clears the FIFOs and drains the registers.
  f.uart.write(iir_fcr, 1, 0x07);
  f.uart.read(lsr, 1);
  f.uart.read(rbr_thr, 1);
  f.uart.read(iir_fcr, 1);
  f.uart.write(ier, 1, ier_rx_available);
  std::string got;
  while (f.uart.read(lsr, 1) & lsr_data_ready) got += static_cast<char>(f.uart.read(rbr_thr, 1));
  CHECK(got == "hi\n");
}

TEST_CASE("UART: the receive FIFO holds 16 bytes, refills from waiting input, and a reset loses none") {
  uart_fixture f;
  f.uart.write(ier, 1, ier_rx_available);
  std::vector<std::uint8_t> bytes(40);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i);
  f.uart.receive(bytes);
  CHECK(f.uart.read(rbr_thr, 1) == 0);
  f.uart.write(iir_fcr, 1, 0x03);  // a FIFO reset, as Linux's probe and start-up do
  std::vector<std::uint8_t> got;
  while (f.uart.read(lsr, 1) & lsr_data_ready) got.push_back(static_cast<std::uint8_t>(f.uart.read(rbr_thr, 1)));
  REQUIRE(got.size() == 39);
  CHECK(got.front() == 1);
  CHECK(got.back() == 39);
}

TEST_CASE("UART: input beyond the capacity is refused, not dropped silently") {
  uart_fixture f;
  std::vector<std::uint8_t> big(serial::input_capacity + 10, 'a');
  CHECK(f.uart.receive(big) == serial::input_capacity);
}

TEST_CASE("UART: DLAB switches offsets 0 and 1 to the divisor latch") {
  uart_fixture f;
  f.uart.write(lcr, 1, lcr_dlab | 0x03);
  f.uart.write(rbr_thr, 1, 0x01);
  f.uart.write(ier, 1, 0x00);
  CHECK(f.uart.read(rbr_thr, 1) == 0x01);
  CHECK(f.output.empty());
  f.uart.write(lcr, 1, 0x03);
  CHECK(f.uart.read(ier, 1) == 0);
  CHECK(f.uart.read(lcr, 1) == 0x03);
}

TEST_CASE("UART: loopback mirrors modem control to modem status, as Linux's probe expects") {
  uart_fixture f;
  f.uart.write(mcr, 1, mcr_loop | 0x0a);
  CHECK((f.uart.read(msr, 1) & 0xf0) == 0x90);
  f.uart.write(rbr_thr, 1, 'q');
  CHECK(f.output.empty());
  CHECK(f.uart.read(rbr_thr, 1) == 'q');
}

TEST_CASE("UART: FIFO enable shows in IIR's top bits; the scratch register keeps its value") {
  uart_fixture f;
  f.uart.write(iir_fcr, 1, 0x01);
  CHECK((f.uart.read(iir_fcr, 1) & 0xc0) == 0xc0);
  f.uart.write(scr, 1, 0x5a);
  CHECK(f.uart.read(scr, 1) == 0x5a);
  f.uart.write(ier, 1, 0xff);
  CHECK(f.uart.read(ier, 1) == 0x0f);
}

TEST_CASE("i8042: the pulse-reset command resets the machine") {
  int resets = 0;
  i8042 kbc([&] { ++resets; });
  kbc.write(i8042::command_port, 1, 0xd4);
  CHECK(resets == 0);
  kbc.write(i8042::command_port, 1, 0xfe);
  CHECK(resets == 1);
}

TEST_CASE("i8042: the controller answers its command byte and self test") {
  i8042 kbc([] {});
  CHECK((kbc.read(i8042::command_port, 1) & kbc::status_output_full) == 0);
  kbc.write(i8042::command_port, 1, kbc::cmd_write_control);
  kbc.write(i8042::data_port, 1, 0x47);
  kbc.write(i8042::command_port, 1, kbc::cmd_read_control);
  CHECK((kbc.read(i8042::command_port, 1) & kbc::status_output_full) != 0);
  CHECK(kbc.read(i8042::data_port, 1) == 0x47);
  kbc.write(i8042::command_port, 1, kbc::cmd_self_test);
  CHECK(kbc.read(i8042::data_port, 1) == kbc::self_test_passed);
}

TEST_CASE("status port: a one-byte write reports that status") {
  std::vector<int> reported;
  status_port port([&](std::uint8_t s) { reported.push_back(s); });
  port.write(0, 1, 3);
  port.write(0, 1, 0x1ff);  // only the byte counts
  port.write(0, 2, 7);      // a wider write is not the documented call
  CHECK(reported == std::vector<int>{3, 0xff});
}

TEST_CASE("bus: windows map addresses to their target and offset") {
  bus<int> b;
  REQUIRE(b.add(0x3f8, 8, 1));
  REQUIRE(b.add(0x60, 5, 2));
  auto hit = b.find(0x3fd);
  REQUIRE(hit);
  CHECK(*hit->target == 1);
  CHECK(hit->offset == 5);
  CHECK_FALSE(b.find(0x400));
  CHECK_FALSE(b.find(0x3ff, 2));  // runs past the window's end
  CHECK_FALSE(b.find(0x5f));
}

TEST_CASE("bus: overlapping windows are refused") {
  bus<int> b;
  REQUIRE(b.add(0x100, 0x10, 1));
  CHECK_FALSE(b.add(0x108, 0x10, 2));
  CHECK_FALSE(b.add(0xf8, 0x10, 3));
  CHECK_FALSE(b.add(0x0, 0, 4));
  CHECK(b.add(0x110, 0x10, 5));
}

TEST_CASE("serial: a saved UART restores registers, FIFO and waiting input") {
  std::string out;
  std::vector<bool> irq;
  serial a([&](std::span<const std::uint8_t> b) { out.append(b.begin(), b.end()); },
                    [&](bool high) { irq.push_back(high); });
  a.write(uart::lcr, 1, 0x03);
  a.write(uart::scr, 1, 0x5a);
  a.write(uart::iir_fcr, 1, 0x01);  // FIFO on
  a.write(uart::ier, 1, uart::ier_rx_available);
  const std::string input = "hello, restored guest: more than sixteen bytes";
  a.receive({reinterpret_cast<const std::uint8_t*>(input.data()), input.size()});

  serial b([](std::span<const std::uint8_t>) {}, [](bool) {});
  REQUIRE(b.restore(a.save()));
  CHECK(b.read(uart::scr, 1) == 0x5a);
  CHECK(b.read(uart::lcr, 1) == 0x03);
  CHECK(b.irq_level() == a.irq_level());
  std::string read;
  while (b.read(uart::lsr, 1) & uart::lsr_data_ready)
    read.push_back(static_cast<char>(b.read(uart::rbr_thr, 1)));
  CHECK(read == input);
}

TEST_CASE("serial: a saved FIFO longer than a 16550A's is refused") {
  serial s([](std::span<const std::uint8_t>) {}, [](bool) {});
  auto state = s.save();
  state.rx.assign(17, 'x');
  CHECK_THAT(s.restore(state).error().message, Catch::Contains("17 bytes in a receive FIFO of 16"));
}

TEST_CASE("i8042: a saved controller restores its command byte") {
  i8042 a([] {});
  a.write(i8042::command_port, 1, kbc::cmd_write_control);
  a.write(i8042::data_port, 1, 0x47);
  i8042 b([] {});
  REQUIRE(b.restore(a.save()));
  b.write(i8042::command_port, 1, kbc::cmd_read_control);
  CHECK(b.read(i8042::data_port, 1) == 0x47);
}
