#include "devices/serial.hpp"

namespace smvm::devices {

using namespace uart;

serial::serial(output_fn output, irq_fn irq) : output_(std::move(output)), irq_(std::move(irq)) {}

std::size_t serial::receive(std::span<const std::uint8_t> bytes) {
  std::size_t room = input_capacity - std::min(input_capacity, wire_.size());
  std::size_t n = std::min(room, bytes.size());
  wire_.insert(wire_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
  refill_fifo();
  update_irq();
  return n;
}

void serial::refill_fifo() {
  if (!(ier_ & ier_rx_available) || (mcr_ & mcr_loop)) return;
  while (!wire_.empty() && rx_.size() < fifo_size) {
    rx_.push_back(wire_.front());
    wire_.pop_front();
  }
}

std::uint8_t serial::interrupt_identification() const {
  if ((ier_ & ier_rx_available) && !rx_.empty()) return iir_rx_available;
  if ((ier_ & ier_thr_empty) && thr_empty_pending_) return iir_thr_empty;
  return iir_none;
}

void serial::update_irq() {
  bool high = interrupt_identification() != iir_none;
  if (high != irq_high_) {
    irq_high_ = high;
    if (irq_) irq_(high);
  }
}

std::uint64_t serial::read(std::uint64_t offset, unsigned) {
  const bool dlab = lcr_ & lcr_dlab;
  std::uint8_t value = 0;
  switch (offset) {
    case rbr_thr:
      if (dlab) return dll_;
      if (!rx_.empty()) {
        value = rx_.front();
        rx_.pop_front();
        refill_fifo();
      }
      break;
    case ier:
      return dlab ? dlm_ : ier_;
    case iir_fcr:
      value = interrupt_identification() | (fifo_enabled_ ? iir_fifo : 0);
      // Reading IIR while it reports "THR empty" acknowledges that interrupt.
      if ((value & 0x0f) == iir_thr_empty) thr_empty_pending_ = false;
      break;
    case lcr:
      return lcr_;
    case mcr:
      return mcr_;
    case lsr:
      return (rx_.empty() ? 0 : lsr_data_ready) | lsr_thr_empty | lsr_idle;
    case msr:
      if (mcr_ & mcr_loop) {
        // Loopback wires the modem outputs back to the inputs; Linux's
        // probe checks exactly this.
        return ((mcr_ & mcr_rts) ? msr_cts : 0) | ((mcr_ & mcr_dtr) ? msr_dsr : 0) |
               ((mcr_ & mcr_out1) ? msr_ri : 0) | ((mcr_ & mcr_out2) ? msr_dcd : 0);
      }
      return msr_dcd | msr_dsr | msr_cts;
    case scr:
      return scr_;
    default:
      return 0xff;
  }
  update_irq();
  return value;
}

void serial::write(std::uint64_t offset, unsigned, std::uint64_t raw) {
  const auto value = static_cast<std::uint8_t>(raw);
  const bool dlab = lcr_ & lcr_dlab;
  switch (offset) {
    case rbr_thr:
      if (dlab) {
        dll_ = value;
        return;
      }
      if (mcr_ & mcr_loop) {
        if (rx_.size() < fifo_size) rx_.push_back(value);
      } else if (output_) {
        output_({&value, 1});
      }
      thr_empty_pending_ = true;  // the byte left at once; THR is empty again
      break;
    case ier:
      if (dlab) {
        dlm_ = value;
        return;
      }
      if ((value & ier_thr_empty) && !(ier_ & ier_thr_empty)) thr_empty_pending_ = true;
      ier_ = value & 0x0f;
      refill_fifo();
      break;
    case iir_fcr:
      fifo_enabled_ = value & 0x01;
      if (value & 0x02) {
        // Linux resets the FIFO when it starts or reconfigures the port,
        // never to discard input: unread host bytes go back on the wire.
        if (!(mcr_ & mcr_loop)) wire_.insert(wire_.begin(), rx_.begin(), rx_.end());
        rx_.clear();
        refill_fifo();
      }
      break;
    case lcr:
      lcr_ = value;
      return;
    case mcr:
      mcr_ = value & 0x1f;
      return;
    case scr:
      scr_ = value;
      return;
    default:
      return;  // LSR and MSR are read-only
  }
  update_irq();
}

serial_state serial::save() const {
  serial_state s;
  s.ier = ier_;
  s.lcr = lcr_;
  s.mcr = mcr_;
  s.scr = scr_;
  s.dll = dll_;
  s.dlm = dlm_;
  s.loopback_msr = loopback_msr_;
  s.thr_empty_pending = thr_empty_pending_;
  s.fifo_enabled = fifo_enabled_;
  s.irq_high = irq_high_;
  s.rx.assign(rx_.begin(), rx_.end());
  s.wire.assign(wire_.begin(), wire_.end());
  return s;
}

result<void> serial::restore(const serial_state& s) {
  if (s.rx.size() > fifo_size) return make_error("serial: {} bytes in a receive FIFO of {}", s.rx.size(), fifo_size);
  if (s.wire.size() > input_capacity)
    return make_error("serial: {} bytes of waiting input, more than the {} it holds", s.wire.size(), input_capacity);
  ier_ = s.ier;
  lcr_ = s.lcr;
  mcr_ = s.mcr;
  scr_ = s.scr;
  dll_ = s.dll;
  dlm_ = s.dlm;
  loopback_msr_ = s.loopback_msr;
  thr_empty_pending_ = s.thr_empty_pending;
  fifo_enabled_ = s.fifo_enabled;
  irq_high_ = s.irq_high;
  rx_.assign(s.rx.begin(), s.rx.end());
  wire_.assign(s.wire.begin(), s.wire.end());
  return {};
}

}  // namespace smvm::devices
