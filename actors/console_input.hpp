#pragma once
// Pumps smvm's stdin into the guest's console device. A plain thread, not an
// actor: it sits in poll(), and a blocked actor would hold up shutdown.

#include "actors/messages.hpp"
#include "hv/unique_fd.hpp"

#include <thread>

namespace smvm::actors {

class console_input_pump {
 public:
  /// Starts reading `fd` (not owned) and sending what arrives to `console`.
  console_input_pump(int fd, device_actor console);
  ~console_input_pump();  // stops and joins
  console_input_pump(const console_input_pump&) = delete;
  console_input_pump& operator=(const console_input_pump&) = delete;

 private:
  void run(int fd, device_actor console);
  hv::unique_fd wake_read_, wake_write_;
  std::thread thread_;
};

}  // namespace smvm::actors
