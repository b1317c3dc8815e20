// Embedding smvm: run an image's command in a microVM from a C++ program.
//   smvm-embed-example IMAGE [COMMAND...]
// Built with the project (target smvm-embed-example, linking smvm::smvm);
// tests/e2e/run.sh runs it.

#include <smvm/smvm.hpp>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s IMAGE [COMMAND...]\n", argv[0]);
    return 2;
  }
  smvm::run_options options;
  options.image = argv[1];  // a docker-archive, an OCI layout, or a registry reference
  options.command.assign(argv + 2, argv + argc);
  if (!options.command.empty()) options.entrypoint = "";  // COMMAND alone, whatever the image's Entrypoint
  options.env = {"GREETING=embedded"};
  return smvm::run_image(options);  // the workload's exit status; 125 if smvm failed
}
