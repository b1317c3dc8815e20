#include "actors/snapshotter.hpp"

#include <fmt/format.h>

#include <memory>

namespace smvm::actors {

namespace {

struct snapshotter_state {
  snapshot_target target;
  bool busy = false;
  bool paused = false;  // frozen on request, until resume
  static inline const char* name = "snapshotter";
};

using snapshotter_pointer = snapshotter_actor::stateful_pointer<snapshotter_state>;

/// One snapshot (or pause) in progress: the sections gathered so far and
/// the promise.
struct attempt {
  snapshot_request request;
  bool pause_only = false;  // freeze everything and stay so: no capture, no file
  caf::typed_response_promise<std::string> promise;
  caf::typed_response_promise<bool> paused;
  std::vector<snapshot::section> sections;
  std::size_t waiting = 0;
  bool failed = false;
};
using attempt_ptr = std::shared_ptr<attempt>;

std::string describe(const caf::error& e, std::chrono::milliseconds deadline) {
  if (e == caf::sec::request_timeout) return fmt::format("no answer within {} ms", deadline.count());
  return error_text(e);
}

void thaw_everything(snapshotter_pointer self) {
  for (auto& d : self->state.target.devices) self->send(d, thaw_atom_v);
  for (auto& v : self->state.target.vcpus) caf::anon_send(v, thaw_atom_v);
}

/// Thaws every part (a part that never froze ignores it) unless the VM was
/// paused before, and answers the request with `why`.
void fail(snapshotter_pointer self, const attempt_ptr& a, std::string why) {
  if (a->failed) return;
  a->failed = true;
  auto& s = self->state;
  if (!s.paused) thaw_everything(self);
  s.busy = false;
  if (a->pause_only)
    a->paused.deliver(caf::make_error(caf::sec::runtime_error, fmt::format("pause: {}; the VM runs on", why)));
  else
    a->promise.deliver(caf::make_error(caf::sec::runtime_error,
                                       fmt::format("snapshot {}: {}; the VM {}", a->request.path, why,
                                                   s.paused ? "stays paused" : "runs on")));
}

void keep(const attempt_ptr& a, saved_section& s) {
  if (!s.name.empty()) a->sections.push_back({std::move(s.name), std::move(s.bytes)});
}

void write_and_finish(snapshotter_pointer self, const attempt_ptr& a) {
  auto& t = self->state.target;
  if (a->pause_only) {
    self->state.paused = true;
    self->state.busy = false;
    a->paused.deliver(true);
    return;
  }
  auto vm = t.capture ? t.capture(a->request.path) : result<std::vector<snapshot::section>>(std::vector<snapshot::section>{});
  if (!vm) return fail(self, a, fmt::format("capturing the VM: {}", vm.error().message));
  a->sections.insert(a->sections.end(), std::make_move_iterator(vm->begin()), std::make_move_iterator(vm->end()));
  if (auto r = snapshot::write_snapshot_file(a->request.path, a->sections, t.io); !r) {
    // The memory file alone is no snapshot: it goes too.
    if (t.discard) t.discard(a->request.path);
    return fail(self, a, r.error().message);
  }
  if (!a->request.leave_frozen && !self->state.paused) thaw_everything(self);
  self->state.busy = false;
  a->promise.deliver(a->request.path);
}

/// Sends freeze to each of `parts` with a deadline and keeps their
/// sections; once all have answered, `next`; the first failure fails all.
template <class Handle, class Next>
void freeze_all(snapshotter_pointer self, const attempt_ptr& a, const std::vector<Handle>& parts,
                std::chrono::milliseconds deadline, const char* what, Next next) {
  if (parts.empty()) return next(self, a);
  a->waiting = parts.size();
  for (std::size_t i = 0; i < parts.size(); ++i)
    self->request(parts[i], deadline, freeze_atom_v)
      .then(
        [self, a, next](saved_section& s) {
          if (a->failed) return;
          keep(a, s);
          if (--a->waiting == 0) next(self, a);
        },
        [self, a, i, deadline, what](caf::error& e) {
          fail(self, a, fmt::format("{} {} did not freeze: {}", what, i, describe(e, deadline)));
        });
}

/// Step 2: with no vCPU running, no register access can reach a device.
void freeze_devices(snapshotter_pointer self, const attempt_ptr& a) {
  const auto& t = self->state.target;
  freeze_all(self, a, t.devices, t.device_deadline, "device", write_and_finish);
}

/// Step 1.
void freeze_vcpus(snapshotter_pointer self, const attempt_ptr& a) {
  const auto& t = self->state.target;
  freeze_all(self, a, t.vcpus, t.vcpu_deadline, "vCPU", freeze_devices);
}

snapshotter_actor::behavior_type snapshotter_behavior(snapshotter_pointer self, snapshot_target target) {
  self->state.target = std::move(target);
  return {
    [self](snapshot_request& request) -> caf::result<std::string> {
      if (self->state.busy)
        return caf::make_error(caf::sec::runtime_error,
                               fmt::format("snapshot {}: another snapshot of this VM is in progress", request.path));
      self->state.busy = true;
      auto a = std::make_shared<attempt>();
      a->request = std::move(request);
      a->promise = self->make_response_promise<std::string>();
      freeze_vcpus(self, a);
      return a->promise;
    },
    [self](pause_atom) -> caf::result<bool> {
      auto& s = self->state;
      if (s.paused) return true;
      if (s.busy) return caf::make_error(caf::sec::runtime_error, "pause: a snapshot of this VM is in progress");
      s.busy = true;
      auto a = std::make_shared<attempt>();
      a->pause_only = true;
      a->paused = self->make_response_promise<bool>();
      freeze_vcpus(self, a);
      return a->paused;
    },
    [self](resume_atom) -> caf::result<bool> {
      auto& s = self->state;
      if (s.busy) return caf::make_error(caf::sec::runtime_error, "resume: a snapshot of this VM is in progress");
      if (!s.paused) return false;  // it was running
      s.paused = false;
      thaw_everything(self);
      return true;
    },
  };
}

}  // namespace

snapshotter_actor spawn_snapshotter(caf::actor_system& system, snapshot_target target) {
  if (target.own_thread) return system.spawn<caf::detached>(snapshotter_behavior, std::move(target));
  return system.spawn(snapshotter_behavior, std::move(target));
}

}  // namespace smvm::actors
