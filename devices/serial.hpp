#pragma once
// A 16550A UART as Linux's 8250 driver sees it: eight registers, a receive
// FIFO fed by the host, transmission that completes at once, and one
// interrupt line whose level follows the enabled, pending interrupts.

#include "common/result.hpp"
#include "devices/io_device.hpp"

#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <vector>

namespace smvm::devices {

/// What a snapshot keeps of the UART: registers, FIFO and waiting input.
struct serial_state {
  std::uint8_t ier = 0, lcr = 0, mcr = 0, scr = 0, dll = 0, dlm = 0, loopback_msr = 0;
  bool thr_empty_pending = false, fifo_enabled = false, irq_high = false;
  std::vector<std::uint8_t> rx, wire;

  template <class Visitor, class Self>
  static bool visit(Visitor& v, Self& s) {
    return v.value("ier", s.ier) && v.value("lcr", s.lcr) && v.value("mcr", s.mcr) && v.value("scr", s.scr) &&
           v.value("dll", s.dll) && v.value("dlm", s.dlm) && v.value("loopback_msr", s.loopback_msr) &&
           v.value("thr_empty_pending", s.thr_empty_pending) && v.value("fifo_enabled", s.fifo_enabled) &&
           v.value("irq_high", s.irq_high) && v.list("rx", s.rx) && v.list("wire", s.wire);
  }
};

class serial final : public io_device {
 public:
  /// Bytes the guest transmits.
  using output_fn = std::function<void(std::span<const std::uint8_t>)>;
  /// The level of the interrupt line (IRQ 4 for COM1).
  using irq_fn = std::function<void(bool high)>;

  static constexpr std::uint16_t com1_base = 0x3f8;
  static constexpr std::uint8_t com1_irq = 4;
  static constexpr std::uint64_t window_size = 8;
  /// Host input waiting beyond this is refused (receive() says how much fit).
  static constexpr std::size_t input_capacity = 64 * 1024;
  /// The receive FIFO of a 16550A.
  static constexpr std::size_t fifo_size = 16;

  serial(output_fn output, irq_fn irq);

  std::uint64_t read(std::uint64_t offset, unsigned size) override;
  void write(std::uint64_t offset, unsigned size, std::uint64_t value) override;

  /// Queues host input for the guest; returns how many bytes fit. Input
  /// waits "on the wire" and enters the receive FIFO only while the guest
  /// has the receive interrupt enabled, which Linux does when the tty is
  /// opened: its port start-up clears the FIFO and drains RBR, and input
  /// that arrived earlier (a pipe on smvm's stdin) would otherwise be lost.
  /// For the same reason a FIFO reset returns unread host bytes to the wire.
  std::size_t receive(std::span<const std::uint8_t> bytes);
  bool irq_level() const { return irq_high_; }

  using saved_state = serial_state;  // common/persist.hpp
  serial_state save() const;
  /// Takes a saved state; a FIFO or input longer than the UART holds is an
  /// error. The interrupt line is not driven: the irqchip's own state,
  /// restored with the VM, already holds its level.
  result<void> restore(const serial_state& state);

 private:
  void update_irq();
  void refill_fifo();
  std::uint8_t interrupt_identification() const;

  output_fn output_;
  irq_fn irq_;
  std::deque<std::uint8_t> wire_;  // host input not yet offered to the guest
  std::deque<std::uint8_t> rx_;    // the receive FIFO
  std::uint8_t ier_ = 0, lcr_ = 0, mcr_ = 0, scr_ = 0, dll_ = 0x0c, dlm_ = 0;
  std::uint8_t loopback_msr_ = 0;
  bool thr_empty_pending_ = false;  // cleared by an IIR read or a THR write
  bool fifo_enabled_ = false;
  bool irq_high_ = false;
};

namespace uart {
// Register offsets; DLL/DLM replace RBR/IER while LCR.DLAB is set.
inline constexpr std::uint64_t rbr_thr = 0, ier = 1, iir_fcr = 2, lcr = 3, mcr = 4, lsr = 5, msr = 6, scr = 7;
inline constexpr std::uint8_t ier_rx_available = 0x01, ier_thr_empty = 0x02;
inline constexpr std::uint8_t iir_none = 0x01, iir_thr_empty = 0x02, iir_rx_available = 0x04, iir_fifo = 0xc0;
inline constexpr std::uint8_t lcr_dlab = 0x80;
inline constexpr std::uint8_t mcr_dtr = 0x01, mcr_rts = 0x02, mcr_out1 = 0x04, mcr_out2 = 0x08, mcr_loop = 0x10;
inline constexpr std::uint8_t lsr_data_ready = 0x01, lsr_thr_empty = 0x20, lsr_idle = 0x40;
inline constexpr std::uint8_t msr_cts = 0x10, msr_dsr = 0x20, msr_ri = 0x40, msr_dcd = 0x80;
}  // namespace uart

}  // namespace smvm::devices
