#pragma once
// vm.toml's virtio device sections ([[disk]], [rng], ...), read by the
// specs of their kinds (devices/virtio/device_kind.hpp) rather than one
// reader per kind.

#include "common/result.hpp"
#include "config/vm_config.hpp"

#include <toml++/toml.h>

#include <filesystem>
#include <string>

namespace smvm::config {

/// Reads `node`, the section of `kind` (a table, or for a repeatable kind
/// a list of tables), into `config`'s devices; `file` names vm.toml in
/// errors and `base_dir` is where its relative paths start.
result<void> read_device_section(vm_config& config, const devices::virtio::device_kind& kind, const toml::node& node,
                                 const std::string& file, const std::filesystem::path& base_dir);

}  // namespace smvm::config
