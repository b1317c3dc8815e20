#pragma once
// Helpers vm.toml's readers share (config/ only).

#include <toml++/toml.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace smvm::config {

/// "a string", "an integer", ...: what a value is, for "must be X, got Y".
std::string type_name(const toml::node& node);

/// `raw` with a leading ~ as the home folder, relative to `base_dir`.
std::filesystem::path expand_path(std::string_view raw, const std::filesystem::path& base_dir);

}  // namespace smvm::config
