#include "config/vm_config.hpp"

#include "common/cache_root.hpp"
#include "config/device_sections.hpp"
#include "config/toml_values.hpp"

#include <toml++/toml.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace smvm::config {

namespace {

using key_set = std::set<std::string_view>;

const std::map<std::string_view, key_set>& schema() {
  static const std::map<std::string_view, key_set> tables{
    {"machine", {"vcpus", "memory_mib"}},
    {"boot", {"kernel", "initrd", "cmdline"}},
    {"console", {"device", "input", "output"}},
    {"snapshot", {"path", "on_ready"}},
  };
  return tables;
}

/// The virtio device kind whose vm.toml section is `section`, or null.
const devices::virtio::device_kind* device_kind_of(std::string_view section) {
  for (const auto* kind : devices::virtio::device_kinds())
    if (!kind->section.empty() && kind->section == section) return kind;
  return nullptr;
}

std::string join(const key_set& keys) {
  std::string out;
  for (auto k : keys) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

/// Every section vm.toml may have, for an unknown one's message.
std::string section_names() {
  std::string out;
  for (const auto& [name, keys] : schema()) out += (out.empty() ? "" : ", ") + std::string(name);
  for (const auto* kind : devices::virtio::device_kinds())
    if (!kind->section.empty()) out += ", " + std::string(kind->section);
  return out;
}

class parser {
 public:
  parser(const std::string& name, std::filesystem::path base_dir) : name_(name), base_(std::move(base_dir)) {
    config_.source_file = name;
  }

  result<vm_config> parse(std::string_view text) {
    toml::table root;
    try {
      root = toml::parse(text, name_);
    } catch (const toml::parse_error& e) {
      return make_error("{}:{}: {}", name_, e.source().begin.line, e.description());
    }
    for (auto& [key, node] : root) {
      if (const auto* kind = device_kind_of(key.str())) {
        if (auto r = read_device_section(config_, *kind, node, name_, base_); !r) return r.error();
        continue;
      }
      auto table = schema().find(key.str());
      if (table == schema().end())
        return make_error("{}:{}: unknown section [{}] (expected one of: {})", name_, node.source().begin.line,
                          key.str(), section_names());
      if (!node.is_table())
        return make_error("{}:{}: {} must be a table ([{}]), got {}", name_, node.source().begin.line,
                          key.str(), key.str(), type_name(node));
      for (auto& [inner, value] : *node.as_table()) {
        if (!table->second.count(inner.str()))
          return make_error("{}:{}: unknown key {}.{} (expected {})", name_, value.source().begin.line, key.str(),
                            inner.str(), table->second.empty() ? "none" : "one of: " + join(table->second));
        config_.positions[std::string(key.str()) + "." + std::string(inner.str())] =
          source_position{name_, value.source().begin.line};
      }
    }
    if (auto r = read_machine(root); !r) return r.error();
    if (auto r = read_boot(root); !r) return r.error();
    if (auto r = read_console(root); !r) return r.error();
    if (auto r = read_snapshot(root); !r) return r.error();
    if (config_.console.device == console_device::virtio) use_virtio_console(config_);
    if (const std::size_t n = config_.devices.size(); n > max_virtio_devices)
      return make_error("{}: {} virtio devices ({}) is more than the {} smvm can wire up", name_, n,
                        count_devices(config_), max_virtio_devices);
    return std::move(config_);
  }

 private:
  std::string at(const toml::node& node) const { return fmt::format("{}:{}", name_, node.source().begin.line); }

  template <class T>
  result<std::optional<T>> get(const toml::table& root, const char* table, const char* key) {
    const toml::node* node = root[table][key].node();
    if (!node) return std::optional<T>{};
    if constexpr (std::is_same_v<T, std::string>) {
      if (auto v = node->value<std::string>()) return std::optional<T>{*v};
      return make_error("{}: {}.{} must be a string, got {}", at(*node), table, key, type_name(*node));
    } else {
      if (node->is_integer()) return std::optional<T>{node->as_integer()->get()};
      return make_error("{}: {}.{} must be an integer, got {}", at(*node), table, key, type_name(*node));
    }
  }

  result<void> read_machine(const toml::table& root) {
    auto vcpus = get<std::int64_t>(root, "machine", "vcpus");
    if (!vcpus) return vcpus.error();
    if (*vcpus) {
      auto n = **vcpus;
      if (n < 1) return make_error("{}machine.vcpus must be at least 1, got {}", config_.where("machine.vcpus"), n);
      if (n > static_cast<std::int64_t>(max_vcpus))
        return make_error("{}machine.vcpus must be at most {}, got {}", config_.where("machine.vcpus"), max_vcpus, n);
      config_.machine.vcpus = static_cast<unsigned>(n);
    }
    auto memory = get<std::int64_t>(root, "machine", "memory_mib");
    if (!memory) return memory.error();
    if (*memory) {
      auto m = **memory;
      if (m < static_cast<std::int64_t>(min_memory_mib))
        return make_error("{}machine.memory_mib must be at least {}, got {}", config_.where("machine.memory_mib"),
                          min_memory_mib, m);
      if (static_cast<std::uint64_t>(m) > max_memory_mib)
        return make_error("{}machine.memory_mib must be at most {} (1 TiB), got {}", config_.where("machine.memory_mib"),
                          max_memory_mib, m);
      config_.machine.memory_mib = static_cast<std::uint64_t>(m);
    }
    return {};
  }

  result<void> read_boot(const toml::table& root) {
    auto kernel = get<std::string>(root, "boot", "kernel");
    if (!kernel) return kernel.error();
    if (*kernel) {
      config_.boot.kernel = expand_path(**kernel, base_);
      if (!std::filesystem::is_regular_file(config_.boot.kernel))
        return make_error("{}boot.kernel: {} does not exist or is not a file", config_.where("boot.kernel"),
                          config_.boot.kernel.string());
    } else {
      config_.boot.kernel = default_kernel_path();
      if (!std::filesystem::is_regular_file(config_.boot.kernel))
        return make_error("{}: no [boot] kernel is set and the default kernel {} does not exist; build it "
                          "with tools/build-kernel.sh or set boot.kernel", name_, config_.boot.kernel.string());
    }
    auto initrd = get<std::string>(root, "boot", "initrd");
    if (!initrd) return initrd.error();
    if (*initrd) {
      config_.boot.initrd = expand_path(**initrd, base_);
      if (!std::filesystem::is_regular_file(*config_.boot.initrd))
        return make_error("{}boot.initrd: {} does not exist or is not a file", config_.where("boot.initrd"),
                          config_.boot.initrd->string());
    }
    auto cmdline = get<std::string>(root, "boot", "cmdline");
    if (!cmdline) return cmdline.error();
    if (*cmdline) config_.boot.cmdline = **cmdline;
    return {};
  }

  /// A string key that names one of a few choices.
  template <class Enum>
  result<void> read_choice(const toml::table& root, const char* table, const char* key,
                           std::initializer_list<std::pair<std::string_view, Enum>> choices, Enum& out) {
    auto text = get<std::string>(root, table, key);
    if (!text) return text.error();
    if (!*text) return {};
    std::string names;
    for (auto& [name, value] : choices) {
      if (**text == name) {
        out = value;
        return {};
      }
      names += fmt::format("{}\"{}\"", names.empty() ? "" : " or ", name);
    }
    const std::string dotted = fmt::format("{}.{}", table, key);
    return make_error("{}{} must be {}, got \"{}\"", config_.where(dotted), dotted, names, **text);
  }

  result<void> read_console(const toml::table& root) {
    if (auto r = read_choice(root, "console", "device",
                             {{"serial", console_device::serial}, {"virtio", console_device::virtio}},
                             config_.console.device); !r)
      return r;
    if (auto r = read_choice(root, "console", "input",
                             {{"stdin", console_input::stdin_stream}, {"none", console_input::none}},
                             config_.console.input); !r)
      return r;
    auto output = get<std::string>(root, "console", "output");
    if (!output) return output.error();
    if (*output) {
      if (**output == "stdout") config_.console.output = console_output::stdout_stream;
      else if (**output == "none") config_.console.output = console_output::none;
      else if ((*output)->empty())
        return make_error("{}console.output must be \"stdout\", \"none\" or a file path, got \"\"",
                          config_.where("console.output"));
      else {
        config_.console.output = console_output::file;
        config_.console.output_file = expand_path(**output, base_);
      }
    }
    return {};
  }

  /// [snapshot]: where to write the snapshot the guest asks for, and what
  /// the VM does then.
  result<void> read_snapshot(const toml::table& root) {
    const toml::node* table = root.get("snapshot");
    if (!table) return {};
    auto path = get<std::string>(root, "snapshot", "path");
    if (!path) return path.error();
    if (!*path || (*path)->empty())
      return make_error("{}: [snapshot] has no path (the snapshot file to write when the guest is ready)", at(*table));
    snapshot_section snap;
    snap.path = expand_path(**path, base_);
    const auto folder = snap.path.parent_path();
    if (!std::filesystem::is_directory(folder))
      return make_error("{}snapshot.path: the folder {} does not exist", config_.where("snapshot.path"), folder.string());
    if (auto r = read_choice(root, "snapshot", "on_ready", {{"stop", true}, {"continue", false}}, snap.stop_after); !r)
      return r;
    config_.snapshot = std::move(snap);
    return {};
  }

  std::string name_;
  std::filesystem::path base_;
  vm_config config_;
};

}  // namespace

std::string vm_config::where(const std::string& key) const {
  auto it = positions.find(key);
  if (it == positions.end()) return source_file + ": ";
  return fmt::format("{}:{}: ", it->second.file, it->second.line);
}

std::filesystem::path default_kernel_path() { return cache_root() / "bzImage"; }

std::string base_cmdline(const vm_config& config) {
  const bool hvc = config.console.device == console_device::virtio && !config.console.workload_streams;
  const char* console = hvc ? "hvc0" : "ttyS0";
  return fmt::format("console={} reboot=k panic=-1", console);
}

result<vm_config> parse_vm_config(std::string_view text, const std::string& name,
                                  const std::filesystem::path& base_dir) {
  return parser(name, base_dir).parse(text);
}

result<vm_config> load_vm_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error("cannot read {}: {}", file.string(), std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  auto base = file.parent_path().empty() ? std::filesystem::current_path() : std::filesystem::absolute(file.parent_path());
  return parse_vm_config(text.str(), file.string(), base);
}

}  // namespace smvm::config
