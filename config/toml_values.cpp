#include "config/toml_values.hpp"

#include <cstdlib>

namespace smvm::config {

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date or time";
  }
}

std::filesystem::path expand_path(std::string_view raw, const std::filesystem::path& base_dir) {
  std::string text(raw);
  if (text == "~" || text.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    text = std::string(home ? home : "") + text.substr(1);
  }
  std::filesystem::path p(text);
  return p.is_absolute() ? p : base_dir / p;
}

}  // namespace smvm::config
