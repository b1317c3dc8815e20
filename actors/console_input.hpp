#pragma once
// Pumps smvm's stdin into the guest's console device. A plain thread, not an
// actor: it sits in poll(), and a blocked actor would hold up shutdown.

#include "actors/messages.hpp"
#include "common/unique_fd.hpp"

#include <thread>

namespace smvm::actors {

class console_input_pump {
 public:
  /// Starts reading `fd` (not owned) and sending what arrives to `console`.
  /// `framed`: the console carries the workload channel, so input goes as
  /// stdin frames and its end as a stdin-EOF frame.
  /// `gate`: when not -1, nothing is read until it is readable.
  console_input_pump(int fd, console_port console, bool framed = false, int gate = -1);
  ~console_input_pump();  // stops and joins
  console_input_pump(const console_input_pump&) = delete;
  console_input_pump& operator=(const console_input_pump&) = delete;

 private:
  void run(int fd, console_port console, bool framed, int gate);
  unique_fd wake_read_, wake_write_;
  std::thread thread_;
};

}  // namespace smvm::actors
