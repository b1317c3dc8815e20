#include "devices/virtio/device_kind.hpp"

#include <algorithm>

namespace smvm::devices::virtio {

bool device_settings::flag(const std::string& key) const {
  auto it = values_.find(key);
  const bool* v = it == values_.end() ? nullptr : std::get_if<bool>(&it->second);
  return v && *v;
}

std::int64_t device_settings::integer(const std::string& key, std::int64_t fallback) const {
  auto it = values_.find(key);
  const std::int64_t* v = it == values_.end() ? nullptr : std::get_if<std::int64_t>(&it->second);
  return v ? *v : fallback;
}

std::string device_settings::text(const std::string& key) const {
  auto it = values_.find(key);
  const std::string* v = it == values_.end() ? nullptr : std::get_if<std::string>(&it->second);
  return v ? *v : std::string();
}

std::vector<std::string> device_settings::lines(const std::string& key) const {
  std::vector<std::string> out;
  const std::string all = text(key);
  for (std::size_t at = 0; at < all.size();) {
    const auto end = std::min(all.find('\n', at), all.size());
    out.push_back(all.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

namespace {

const char* type_name(setting_type type) {
  switch (type) {
    case setting_type::flag: return "true or false";
    case setting_type::integer: return "an integer";
    case setting_type::text: return "a string";
    case setting_type::file: return "an absolute file path";
    case setting_type::socket: return "an absolute socket path";
    case setting_type::lines: return "strings";
  }
  return "?";
}

bool holds(const setting_value& value, setting_type type) {
  switch (type) {
    case setting_type::flag: return std::holds_alternative<bool>(value);
    case setting_type::integer: return std::holds_alternative<std::int64_t>(value);
    case setting_type::text:
    case setting_type::lines: return std::holds_alternative<std::string>(value);
    case setting_type::file:
    case setting_type::socket: {
      const std::string* path = std::get_if<std::string>(&value);
      return path && !path->empty() && path->front() == '/';
    }
  }
  return false;
}

}  // namespace

result<void> check_settings(const device_kind& kind, const device_settings& settings, const std::string& name) {
  for (const auto& [key, value] : settings.values()) {
    auto spec = std::find_if(kind.settings.begin(), kind.settings.end(), [&](auto& s) { return s.key == key; });
    if (spec == kind.settings.end()) return make_error("{} has no setting {}", name, key);
    if (!holds(value, spec->type)) return make_error("{}.{} must be {}", name, key, type_name(spec->type));
  }
  for (const auto& spec : kind.settings)
    if (!spec.required.empty() && !settings.values().count(std::string(spec.key)))
      return make_error("{} has no {} ({})", name, spec.key, spec.required);
  return {};
}

}  // namespace smvm::devices::virtio
