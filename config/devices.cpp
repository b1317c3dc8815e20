// The virtio devices of a vm_config: added in window order, named, counted.
#include "config/vm_config.hpp"

#include <algorithm>

namespace smvm::config {

namespace virtio = devices::virtio;

std::string device_config::label() const {
  return kind->repeatable ? fmt::format("{} {}", kind->name, name) : std::string(kind->name);
}

result<void> add_device(vm_config& config, std::string_view kind_name, virtio::device_settings settings) {
  const virtio::device_kind* kind = virtio::find_device_kind(kind_name);
  if (!kind) return make_error("there is no virtio device kind {}", kind_name);
  const auto kinds = virtio::device_kinds();
  const auto rank = [&](const virtio::device_kind* k) { return std::find(kinds.begin(), kinds.end(), k) - kinds.begin(); };
  const auto same = std::count_if(config.devices.begin(), config.devices.end(), [&](auto& d) { return d.kind == kind; });
  if (same && !kind->repeatable) return make_error("there can be only one {}", kind->name);
  const std::string section(kind->section.empty() ? kind->noun : kind->section);
  std::string name = kind->repeatable ? fmt::format("{}[{}]", section, same) : section;
  // Files are absolute (a record is restored from any folder): normalised
  // here, and check_settings refuses a relative one.
  std::map<std::string, virtio::setting_value> values = settings.values();
  for (const auto& spec : kind->settings) {
    auto it = values.find(std::string(spec.key));
    const bool path = spec.type == virtio::setting_type::file || spec.type == virtio::setting_type::socket;
    if (!path || it == values.end()) continue;
    if (auto* text = std::get_if<std::string>(&it->second); text && !text->empty() && text->front() == '/')
      *text = std::filesystem::path(*text).lexically_normal().string();
  }
  if (kind->complete) kind->complete(values);
  virtio::device_settings checked(std::move(values));
  if (auto r = virtio::check_settings(*kind, checked, name); !r) return r;
  auto after = std::find_if(config.devices.begin(), config.devices.end(), [&](auto& d) { return rank(d.kind) > rank(kind); });
  config.devices.insert(after, device_config{kind, std::move(name), std::move(checked)});
  return {};
}

void use_virtio_console(vm_config& config) {
  config.console.device = console_device::virtio;
  const bool has = std::any_of(config.devices.begin(), config.devices.end(),
                               [](auto& d) { return d.kind->name == "virtio-console"; });
  if (!has) (void)add_device(config, "virtio-console", {});  // no settings: cannot fail
}

std::string count_devices(const vm_config& config) {
  std::string out;
  for (const virtio::device_kind* kind : virtio::device_kinds()) {
    const auto n = std::count_if(config.devices.begin(), config.devices.end(), [&](auto& d) { return d.kind == kind; });
    if (n == 0) continue;
    out += out.empty() ? "" : ", ";
    out += kind->repeatable ? fmt::format("{} {}{}", n, kind->noun, n == 1 ? "" : "s") : fmt::format("the {}", kind->noun);
  }
  return out;
}

}  // namespace smvm::config
