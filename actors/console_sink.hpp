#pragma once
// Where the guest console's bytes go: stdout, a file, or nowhere. Shared by
// whichever console device the VM has (the UART or virtio-console).
//
// The workload channel's sink is also where `smvm run` learns that the
// workload's output is whole: the guest's EXIT frame comes after every
// output frame (common/stream_protocol.h), and a write to smvm's stdout or
// stderr that fails is remembered, never dropped in silence.

#include "common/result.hpp"
#include "common/stream_frames.hpp"
#include "config/vm_config.hpp"
#include "common/unique_fd.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

namespace smvm::actors {

class console_sink {
 public:
  /// Opens the output file, if the console writes to one.
  static result<std::shared_ptr<console_sink>> open(const config::console_section& console);
  /// The workload channel's sink: stdout frames to `out` (smvm's stdout),
  /// stderr frames to `err`.
  static std::shared_ptr<console_sink> workload_streams(int out = 1, int err = 2);
  /// The workload channel's: readable once the guest init said it is ready
  /// for input. -1 for other sinks.
  int ready_fd() const { return ready_.get(); }
  /// Writes everything, waiting while the reader is slow (also on a
  /// non-blocking fd). A failed write (a closed pipe, a full disk) drops
  /// the rest, calls the failure handler once, and is kept for failure().
  void write(std::span<const std::uint8_t> bytes);

  /// Called once, from the writing thread, when output could not be written.
  void on_failure(std::function<void(const std::string&)> handler);
  /// Why output was lost, if it was.
  std::optional<std::string> failure() const;
  /// The status in the guest's EXIT frame, once it has arrived (and with
  /// it, every byte of output before it).
  std::optional<std::uint8_t> exit_status() const;
  /// Whether the guest's init got as far as opening the channel (its READY
  /// frame): a guest that died before did not start the workload.
  bool init_up() const { return init_up_; }
  /// The last bytes that went through (the kernel log, for a UART sink):
  /// what smvm shows when a guest dies.
  std::string tail() const;

 private:
  console_sink() = default;
  /// Writes to `fd` whole; returns errno, or 0.
  static int write_fd(int fd, std::span<const std::uint8_t> bytes);
  void write_stream(int fd, const char* name, std::span<const std::uint8_t> bytes);
  void keep_tail(std::span<const std::uint8_t> bytes);

  std::unique_ptr<frame_decoder> frames_;
  unique_fd ready_;
  unique_fd owned_;
  int fd_ = -1;
  mutable std::mutex mutex_;  // what the writing thread leaves for the machine
  std::function<void(const std::string&)> on_failure_;
  std::optional<std::string> failure_;
  std::optional<std::uint8_t> exit_status_;
  std::atomic<bool> init_up_ = false;
  std::string tail_;
};

}  // namespace smvm::actors
