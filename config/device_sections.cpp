#include "config/device_sections.hpp"

#include "config/toml_values.hpp"

#include <algorithm>

namespace smvm::config {

namespace {

namespace virtio = devices::virtio;

std::string expected_keys(const virtio::device_kind& kind) {
  if (kind.settings.empty()) return "none";
  std::vector<std::string_view> keys;
  for (const auto& s : kind.settings) keys.push_back(s.key);
  std::sort(keys.begin(), keys.end());
  std::string out = "one of: ";
  for (std::size_t i = 0; i < keys.size(); ++i) out += (i ? ", " : "") + std::string(keys[i]);
  return out;
}

/// One device's table: every key known and of its spec's type.
result<void> read_device(vm_config& config, const virtio::device_kind& kind, const toml::table& table,
                         const std::string& name, const std::string& file, const std::filesystem::path& base_dir) {
  auto at = [&](const toml::node& n) { return fmt::format("{}:{}", file, n.source().begin.line); };
  std::map<std::string, virtio::setting_value> values;
  for (auto& [key, node] : table) {
    auto spec = std::find_if(kind.settings.begin(), kind.settings.end(), [&](auto& s) { return s.key == key.str(); });
    if (spec == kind.settings.end())
      return make_error("{}: unknown key {}.{} (expected {})", at(node), name, key.str(), expected_keys(kind));
    const std::string dotted = fmt::format("{}.{}", name, key.str());
    config.positions[dotted] = source_position{file, node.source().begin.line};
    switch (spec->type) {
      case virtio::setting_type::flag:
        if (!node.is_boolean()) return make_error("{}: {} must be true or false, got {}", at(node), dotted, type_name(node));
        values[std::string(key.str())] = node.as_boolean()->get();
        break;
      case virtio::setting_type::integer:
        if (!node.is_integer()) return make_error("{}: {} must be an integer, got {}", at(node), dotted, type_name(node));
        values[std::string(key.str())] = node.as_integer()->get();
        break;
      case virtio::setting_type::lines: {
        // publish = ["8080:80", "5353:53/udp"], or one string.
        std::string all;
        auto add = [&](const toml::node& item) {
          if (!item.is_string()) return false;
          const std::string text = item.as_string()->get();
          if (text.empty() || text.find('\n') != std::string::npos) return false;
          all += (all.empty() ? "" : "\n") + text;
          return true;
        };
        bool good = node.is_string() ? add(node) : node.is_array();
        if (auto* items = node.as_array())
          for (auto& item : *items) good = good && add(item);
        if (!good)
          return make_error("{}: {} must be a string or an array of strings, none empty or with a line break",
                            at(node), dotted);
        values[std::string(key.str())] = std::move(all);
        break;
      }
      case virtio::setting_type::text:
      case virtio::setting_type::file:
      case virtio::setting_type::socket: {
        if (!node.is_string()) return make_error("{}: {} must be a string, got {}", at(node), dotted, type_name(node));
        std::string text = node.as_string()->get();
        if (spec->type == virtio::setting_type::socket) {
          // Made when the VM starts: only its folder has to be there.
          const auto path = std::filesystem::absolute(expand_path(text, base_dir));
          std::error_code ec;
          if (text.empty() || !std::filesystem::is_directory(path.parent_path(), ec))
            return make_error("{}: {}: the folder of {} does not exist", at(node), dotted, path.string());
          text = path.string();
        }
        if (spec->type == virtio::setting_type::file) {
          const auto path = expand_path(text, base_dir);
          std::error_code ec;
          if (!std::filesystem::is_regular_file(path, ec))
            return make_error("{}: {}: {} does not exist or is not a file", at(node), dotted, path.string());
          text = std::filesystem::absolute(path).string();
        }
        values[std::string(key.str())] = std::move(text);
        break;
      }
    }
  }
  for (const auto& spec : kind.settings)
    if (!spec.required.empty() && !values.count(std::string(spec.key)))
      return make_error("{}: {} has no {} ({})", at(table), name, spec.key, spec.required);
  virtio::device_settings settings(std::move(values));
  if (kind.validate)
    if (auto r = kind.validate(settings); !r) {
      // "cid: must be ..." names a key: point at its line.
      for (auto& [key, node] : table)
        if (r.error().message.rfind(std::string(key.str()) + ": ", 0) == 0)
          return make_error("{}: {}.{}", at(node), name, r.error().message);
      return make_error("{}: {}: {}", at(table), name, r.error().message);
    }
  return add_device(config, kind.name, std::move(settings));
}

}  // namespace

result<void> read_device_section(vm_config& config, const virtio::device_kind& kind, const toml::node& node,
                                 const std::string& file, const std::filesystem::path& base_dir) {
  const std::string section(kind.section);
  const auto line = node.source().begin.line;
  if (!kind.repeatable) {
    if (!node.is_table())
      return make_error("{}:{}: {} must be a table ([{}]), got {}", file, line, section, section, type_name(node));
    return read_device(config, kind, *node.as_table(), section, file, base_dir);
  }
  const toml::array* list = node.as_array();
  if (!list || !list->is_array_of_tables())
    return make_error("{}:{}: {} must be a list of tables: write each {} as a [[{}]] section", file, line, section,
                      kind.noun, section);
  for (std::size_t i = 0; i < list->size(); ++i)
    if (auto r = read_device(config, kind, *(*list)[i].as_table(), fmt::format("{}[{}]", section, i), file, base_dir); !r)
      return r;
  return {};
}

}  // namespace smvm::config
