#pragma once
// The seam a hypervisor backend fills for one vCPU: run it until it needs
// the VMM, kick it out of a run from another thread, and read its state
// while it is not running. The vcpu actor knows only this, so it is tested
// against a scripted stand-in, and an HVF or WHP vCPU would fill the same.

#include "common/result.hpp"
#include "hv/vcpu_exit.hpp"

#include <cstdint>
#include <vector>

namespace smvm::hv {

class vcpu_runner {
 public:
  virtual ~vcpu_runner() = default;

  virtual unsigned id() const = 0;
  /// Enters the guest; before that, completes the last exit (the bytes a
  /// read put into its `data`). Returns why the guest came back.
  virtual vcpu_exit run() = 0;
  /// Makes a run in progress, or the next one, return `interrupted` soon.
  /// Safe from any thread; the caller also signals the vCPU's thread.
  virtual void request_immediate_exit() = 0;
  virtual void clear_immediate_exit() = 0;
  /// The state of a vCPU that is not in run(), as a snapshot section's bytes.
  virtual result<std::vector<std::uint8_t>> save_state() = 0;
};

}  // namespace smvm::hv
