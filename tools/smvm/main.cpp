// smvm: run a microVM. A thin client of the smvm_core library.

#include "actors/run_vm.hpp"
#include "config/vm_config.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <caf/config.hpp>

int main(int argc, char** argv) {
  CLI::App app{"smvm: run Linux microVMs under KVM", "smvm"};
  std::string config_file;
  app.add_option("--config", config_file, "Boot the VM described in this vm.toml")->type_name("FILE");
  app.set_version_flag("--version", fmt::format("smvm {} (CAF {}.{}.{})", SMVM_VERSION, CAF_MAJOR_VERSION,
                                                CAF_MINOR_VERSION, CAF_PATCH_VERSION));
  app.footer(
    "Exit status: the guest's status (written to port 0xf4), 0 when the guest\n"
    "reboots, 128+N when signal N stopped the VM, 125 when smvm itself failed.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : smvm::actors::smvm_failure_status;
  }
  if (config_file.empty()) {
    fmt::print(stderr, "smvm: nothing to run: give --config FILE (see smvm --help)\n");
    return smvm::actors::smvm_failure_status;
  }
  auto config = smvm::config::load_vm_config(config_file);
  if (!config) {
    fmt::print(stderr, "smvm: {}\n", config.error().message);
    return smvm::actors::smvm_failure_status;
  }
  return smvm::actors::run_vm(*config);
}
