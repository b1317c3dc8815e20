#pragma once
// A VM a program holds: started here from an image, or attached by name to
// one running elsewhere (smvm run -d), and reached through its guest agent
// and control socket in the runtime folder (run/vm_state.hpp).
//
//   smvm::run_options options;
//   options.image = "registry.example:5000/app:1";
//   options.command = {"sleep", "infinity"};
//   auto vm = smvm::vm::start(options);                // boots; returns once its agent answers
//                                                     // (or vm::boot(vm_toml), vm::restore(snapshot), vm::attach(name))
//   auto r = vm->exec({"sh", "-c", "cat; uname -r"}).input("hi\n").env("A=1").run();
//   // r->status, r->out, r->err
//   vm->write_file("/etc/app.conf", "port = 8080\n");
//   int fd = *vm->connect(8080);                      // a stream to 127.0.0.1:8080 in the guest
//   vm->snapshot("/var/snap/app");                    // /var/snap/app and /var/snap/app.mem
//   vm->stop();

#include "smvm/smvm.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace smvm {

struct exec_result {
  int status = 0;     // the command's exit status; 128+N after signal N
  std::string out;    // its stdout, all of it
  std::string err;    // its stderr (with a tty: empty, all is in out)
  std::string error;  // why it did not start (status 126/127), or empty
};

class vm;

/// One command to run, built up and then run (vm::exec).
class exec_builder {
 public:
  exec_builder& env(std::string name_value);     // NAME=value over the image's environment
  exec_builder& workdir(std::string folder);     // absolute; default the image's
  exec_builder& user(std::string user);          // default the image's
  exec_builder& input(std::string bytes);        // its stdin; without: /dev/null
  exec_builder& tty(bool on = true);             // on a pseudo-terminal in the guest
  /// Runs it to its end, collecting its output.
  result<exec_result> run();
  /// Runs it with its stdio on these file descriptors (in: -1 for /dev/null).
  result<int> run(int in, int out, int err);

 private:
  friend class vm;
  exec_builder(const vm& owner, std::vector<std::string> command);
  const vm& vm_;
  std::vector<std::string> command_, env_;
  std::string workdir_, user_, input_;
  bool has_input_ = false, tty_ = false;
};

class vm {
 public:
  /// Boots `options` (its image and command, as run_image) in this process
  /// and returns once the guest agent answers, or an error with why not.
  static result<vm> start(run_options options, std::chrono::seconds timeout = std::chrono::seconds(120));
  /// Boots the VM a vm.toml describes in this process, named `name`
  /// (default: a new name), and returns once it runs: once its guest agent
  /// answers when it has a [vsock] (its guest runs `smvm-init agent`), else
  /// once its control socket is up. Its uds_path stays where vm.toml says;
  /// the runtime folder's vsock.sock points there.
  static result<vm> boot(const std::filesystem::path& vm_toml, std::string name = "",
                         std::chrono::seconds timeout = std::chrono::seconds(120));
  /// Runs the VM of a snapshot (smvm snapshot, vm::snapshot) on in this
  /// process, named `name` (default: a new name), and returns once it runs.
  static result<vm> restore(const std::filesystem::path& snapshot, std::string name = "",
                            std::chrono::seconds timeout = std::chrono::seconds(120));
  /// A running VM by its name (smvm ps).
  static result<vm> attach(const std::string& name);

  vm(vm&&) noexcept;
  vm& operator=(vm&&) noexcept;
  ~vm();  // stops a VM this handle started, if still running

  const std::string& name() const;
  exec_builder exec(std::vector<std::string> command) const { return exec_builder(*this, std::move(command)); }
  /// The guest sees all of `contents` at `path`, or nothing.
  result<void> write_file(const std::string& path, std::string_view contents, std::uint32_t mode = 0644) const;
  result<std::string> read_file(const std::string& path) const;
  /// A stream to TCP `port` on the guest's 127.0.0.1; the caller closes it.
  result<int> connect(std::uint16_t port) const;
  /// Writes a snapshot (`path` and `path`.mem; smvm restore runs it).
  result<void> snapshot(const std::filesystem::path& path) const;
  /// Ends the VM; its exit status (0 when it was stopped).
  result<int> stop();

 private:
  struct state;
  explicit vm(std::unique_ptr<state> s);
  /// Runs `run` on a thread of its own for the VM `name`, and returns once
  /// it is up: its guest agent answers (`agent`), else its control socket
  /// is there. `what` names it in errors.
  static result<vm> launch(const std::string& name, std::function<int()> run, bool agent, std::chrono::seconds timeout,
                           const std::string& what);
  friend class exec_builder;
  std::unique_ptr<state> state_;
};

}  // namespace smvm
