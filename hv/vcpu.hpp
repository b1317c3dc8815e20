#pragma once
// One KVM vCPU: its fd and the shared kvm_run area.

#include "common/result.hpp"
#include "hv/kvm.hpp"
#include "hv/unique_fd.hpp"
#include "hv/vm.hpp"

#include <linux/kvm.h>

#include <cstdint>

namespace smvm::hv {

class vcpu {
 public:
  static result<vcpu> create(const kvm& kvm, const vm& vm, unsigned id);

  vcpu(vcpu&&) noexcept;
  vcpu& operator=(vcpu&&) = delete;
  ~vcpu();

  /// One KVM_RUN. Returns 0 after a guest exit, or -errno: -EINTR when the
  /// run was cut short by a signal or `immediate_exit`.
  int run();

  /// Asks a KVM_RUN in progress, or the next one, to return at once. Safe to
  /// call from any thread; the caller also signals the vCPU thread.
  void request_immediate_exit() { volatile_run()->immediate_exit = 1; }
  void clear_immediate_exit() { volatile_run()->immediate_exit = 0; }

  kvm_run* run_state() const { return run_; }
  /// Bytes mapped at run_state(); KVM's data offsets must stay inside.
  std::size_t run_size() const { return run_size_; }
  int fd() const { return fd_.get(); }
  unsigned id() const { return id_; }

 private:
  vcpu(unique_fd fd, kvm_run* run, std::size_t run_size, unsigned id)
      : fd_(std::move(fd)), run_(run), run_size_(run_size), id_(id) {}
  volatile kvm_run* volatile_run() const { return run_; }
  unique_fd fd_;
  kvm_run* run_ = nullptr;
  std::size_t run_size_ = 0;
  unsigned id_ = 0;
};

}  // namespace smvm::hv
