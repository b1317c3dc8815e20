#pragma once
// One way for every part of a VM to go into a snapshot and come back, in the
// manner of Firecracker's Persist: a part names its state struct
// (`saved_state`, whose fields a static visit() names, common/state_codec.hpp),
// save() gives it and restore() takes it back, checking what came from the
// file. save_section and restore_section turn that into a section's bytes
// and back, naming the section in every error. A part whose state is read
// from the hypervisor (a vCPU, the VM) may fail to save: its save() returns
// a result.

#include "common/result.hpp"
#include "common/state_codec.hpp"

#include <concepts>
#include <span>
#include <string_view>
#include <vector>

namespace smvm {

template <class Part>
concept persistent = requires(const Part& saving, Part& restoring, const typename Part::saved_state& state) {
  requires std::same_as<decltype(saving.save()), typename Part::saved_state> ||
             std::same_as<decltype(saving.save()), result<typename Part::saved_state>>;
  { restoring.restore(state) } -> std::same_as<result<void>>;
};

/// The bytes of `part`'s section; a result where save() may fail.
template <persistent Part>
auto save_section(const Part& part) {
  if constexpr (std::same_as<decltype(part.save()), typename Part::saved_state>) {
    return encode_state(part.save());
  } else {
    auto state = part.save();
    if (!state) return result<std::vector<std::uint8_t>>(state.error());
    return result<std::vector<std::uint8_t>>(encode_state(*state));
  }
}

/// Puts `part` back as the section `name`'s bytes say.
template <persistent Part>
result<void> restore_section(Part& part, std::span<const std::uint8_t> bytes, std::string_view name) {
  auto state = decode_state<typename Part::saved_state>(bytes, fmt::format("section {}", name));
  if (!state) return state.error();
  if (auto r = part.restore(*state); !r) return make_error("section {}: {}", name, r.error().message);
  return {};
}

}  // namespace smvm
