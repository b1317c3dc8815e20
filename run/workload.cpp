#include "run/workload.hpp"

#include "network/slirp_stack.hpp"

#include <fstream>

namespace smvm::run {

namespace {

constexpr const char* default_path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (c == ' ' || c == '\t' || c == '=' || c == '\0') return false;
  return true;
}

/// Sets NAME=value, replacing an earlier NAME.
void put(std::vector<std::string>& env, std::string entry) {
  const std::string name = entry.substr(0, entry.find('='));
  for (auto& e : env)
    if (e.size() > name.size() && e[name.size()] == '=' && e.compare(0, name.size(), name) == 0) {
      e = std::move(entry);
      return;
    }
  env.push_back(std::move(entry));
}

/// "NAME=value" as is; "NAME" takes the host's value, or is skipped.
result<void> put_option(std::vector<std::string>& env, const std::string& item, const std::string& where,
                        const std::function<const char*(const char*)>& host_env) {
  const auto eq = item.find('=');
  const std::string name = item.substr(0, eq);
  if (!valid_name(name)) return make_error("{}: \"{}\" is not NAME=value", where, item);
  if (eq != std::string::npos) {
    put(env, item);
  } else if (const char* value = host_env(name.c_str())) {
    put(env, fmt::format("{}={}", name, value));
  }
  return {};
}

}  // namespace

result<workload> make_workload(const image::image_config& image, const run_options& options,
                               const std::function<const char*(const char*)>& host_env) {
  workload w;
  std::vector<std::string> entrypoint = image.entrypoint.value_or(std::vector<std::string>{});
  std::vector<std::string> cmd = image.cmd.value_or(std::vector<std::string>{});
  if (options.entrypoint) {
    // As in Docker: a new entrypoint drops the image's Cmd too; "" clears it.
    entrypoint = options.entrypoint->empty() ? std::vector<std::string>{} : std::vector<std::string>{*options.entrypoint};
    cmd.clear();
  }
  if (!options.command.empty()) cmd = options.command;
  w.argv = entrypoint;
  w.argv.insert(w.argv.end(), cmd.begin(), cmd.end());
  if (w.argv.empty())
    return make_error("no command: the image has no Entrypoint or Cmd; give one after the image name");

  for (const auto& e : image.env)
    if (e.find('=') != std::string::npos && valid_name(e.substr(0, e.find('=')))) put(w.env, e);
  for (const auto& file : options.env_files) {
    std::ifstream in(file);
    if (!in) return make_error("--env-file {}: cannot read it", file.string());
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      if (auto r = put_option(w.env, line.substr(start), fmt::format("--env-file {}:{}", file.string(), number), host_env); !r)
        return r.error();
    }
  }
  for (const auto& e : options.env)
    if (auto r = put_option(w.env, e, "-e", host_env); !r) return r.error();
  bool has_path = false;
  for (const auto& e : w.env) has_path = has_path || e.rfind("PATH=", 0) == 0;
  if (!has_path) w.env.insert(w.env.begin(), default_path);

  const std::string& cwd = !options.workdir.empty() ? options.workdir : image.working_dir;
  w.cwd = cwd.empty() ? std::string("/") : cwd;
  if (w.cwd[0] != '/') return make_error("-w {}: the working folder must be an absolute path", w.cwd);
  w.user = !options.user.empty() ? options.user : image.user;
  w.relay_stdin = options.interactive;
  w.network = options.network == "slirp";
  return w;
}

std::vector<std::uint8_t> encode_run_spec(const workload& w) {
  std::vector<std::uint8_t> out;
  auto record = [&](std::string_view key, std::string_view value) {
    out.insert(out.end(), key.begin(), key.end());
    out.push_back(0);
    out.insert(out.end(), value.begin(), value.end());
    out.push_back(0);
  };
  for (const auto& a : w.argv) record("arg", a);
  for (const auto& e : w.env) record("env", e);
  record("cwd", w.cwd);
  record("user", w.user);
  record("stdin", w.relay_stdin ? "1" : "0");
  if (w.agent) record("agent", "1");
  if (w.network) {
    record("address", fmt::format("{}/{}", network::nat::guest_address, network::nat::prefix_length));
    record("gateway", network::nat::gateway);
    record("dns", network::nat::dns);
  }
  return out;
}

}  // namespace smvm::run
