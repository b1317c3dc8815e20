// How the smvm CLI reads the options of verbs that take a command after an
// operand (run IMAGE CMD, exec NAME CMD), as docker does.

#include "tools/smvm/commands.hpp"

#include "run/run_vm.hpp"

namespace smvm::cli {

split_args split_at_operand(const std::vector<std::string>& args, const std::set<std::string>& takes_value) {
  split_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {  // `-- OPERAND REST`: OPERAND is not an option even if it looks like one
      if (i + 1 < args.size()) out.options.push_back(args[i + 1]);
      if (i + 2 < args.size()) out.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 2, args.end());
      return out;
    }
    out.options.push_back(a);
    if (a.size() > 1 && a[0] == '-') {
      if (takes_value.count(a) && i + 1 < args.size()) out.options.push_back(args[++i]);
      continue;
    }
    std::size_t rest = i + 1;  // the operand: the rest is the command; a leading `--` only separates
    if (rest < args.size() && args[rest] == "--") ++rest;
    out.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(rest), args.end());
    return out;
  }
  return out;
}

std::optional<int> parse_options(CLI::App& app, const std::vector<std::string>& options) {
  try {
    std::vector<std::string> reversed(options.rbegin(), options.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : run::smvm_failure_status;
  }
  return std::nullopt;
}

}  // namespace smvm::cli
