#pragma once
// Where the guest console's bytes go: stdout, a file, or nowhere. Shared by
// whichever console device the VM has (the UART or virtio-console).

#include "common/result.hpp"
#include "common/stream_frames.hpp"
#include "config/vm_config.hpp"
#include "hv/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <span>

namespace smvm::actors {

class console_sink {
 public:
  /// Opens the output file, if the console writes to one.
  static result<std::shared_ptr<console_sink>> open(const config::console_section& console);
  /// The workload channel's sink: stdout frames to smvm's stdout, stderr
  /// frames to its stderr.
  static std::shared_ptr<console_sink> workload_streams();
  /// The workload channel's: readable once the guest init said it is ready
  /// for input. -1 for other sinks.
  int ready_fd() const { return ready_.get(); }
  /// Writes everything; a closed pipe drops the rest (the guest keeps running).
  void write(std::span<const std::uint8_t> bytes);

 private:
  console_sink() = default;
  static void write_fd(int fd, std::span<const std::uint8_t> bytes);
  std::unique_ptr<frame_decoder> frames_;
  hv::unique_fd ready_;
  hv::unique_fd owned_;
  int fd_ = -1;
};

}  // namespace smvm::actors
