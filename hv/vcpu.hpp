#pragma once
// One KVM vCPU: its fd and the shared kvm_run area, and the vcpu_runner
// seam filled from them: KVM_RUN's exit record turned into a vcpu_exit.

#include "common/result.hpp"
#include "hv/kvm.hpp"
#include "common/unique_fd.hpp"
#include "hv/vcpu_runner.hpp"
#include "hv/vm.hpp"

#include <linux/kvm.h>

#include <cstdint>
#include <memory>

namespace smvm::hv {

namespace x86 {
struct vcpu_state;
}

class vcpu final : public vcpu_runner {
 public:
  static result<vcpu> create(const kvm& kvm, const vm& vm, unsigned id);

  vcpu(vcpu&&) noexcept;
  vcpu& operator=(vcpu&&) = delete;
  ~vcpu() override;

  /// One KVM_RUN; `interrupted` when a signal or `immediate_exit` cut it short.
  vcpu_exit run() override;
  void request_immediate_exit() override { volatile_run()->immediate_exit = 1; }
  void clear_immediate_exit() override { volatile_run()->immediate_exit = 0; }
  /// save(), encoded as the vCPU's snapshot section.
  result<std::vector<std::uint8_t>> save_state() override;
  unsigned id() const override { return id_; }

  /// Persisted as common/persist.hpp says: the x86 state
  /// (hv/x86/vcpu_state.hpp) with the MSRs named by save_msrs_from, read
  /// from a vCPU out of KVM_RUN, and put back into one that has not run.
  using saved_state = x86::vcpu_state;
  result<saved_state> save() const;
  result<void> restore(const saved_state& state);

  /// The MSRs save() reads (KVM_GET_MSR_INDEX_LIST, sorted).
  void save_msrs_from(std::shared_ptr<const std::vector<std::uint32_t>> indices) { msrs_ = std::move(indices); }
  int fd() const { return fd_.get(); }

 private:
  vcpu(unique_fd fd, kvm_run* run, std::size_t run_size, unsigned id)
      : fd_(std::move(fd)), run_(run), run_size_(run_size), id_(id) {}
  volatile kvm_run* volatile_run() const { return run_; }
  /// kvm_run's record of the exit that just happened, checked against the
  /// area's size.
  vcpu_exit decode_exit();
  unique_fd fd_;
  kvm_run* run_ = nullptr;
  std::size_t run_size_ = 0;
  unsigned id_ = 0;
  std::shared_ptr<const std::vector<std::uint32_t>> msrs_;
};

}  // namespace smvm::hv
