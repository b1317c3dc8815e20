// smvm-test-vm-api: the library's VM handle (include/smvm/vm.hpp) end to
// end, for tests/e2e/agent.sh.
//   smvm-test-vm-api attach NAME PORT   a VM running an echo server on PORT
//   smvm-test-vm-api start IMAGE        a VM of its own, started and stopped
//   smvm-test-vm-api restore SNAPSHOT   a VM of its own from a snapshot
// Prints a line per check; exit 0 when every one passed.
#include <smvm/vm.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const std::string& what, const std::string& detail = "") {
  std::printf("%s - %s%s%s\n", ok ? "ok" : "not ok", what.c_str(), detail.empty() ? "" : ": ", detail.c_str());
  if (!ok) ++failures;
}

std::string describe(const smvm::error& e) { return e.message; }

/// The checks every VM gets: exec with input and env, files both ways, a
/// TCP stream to `port` when not 0.
void exercise(const smvm::vm& vm, std::uint16_t port) {
  auto r = vm.exec({"sh", "-c", "cat; echo \"$A\" >&2; exit 4"}).input("piped\n").env("A=from-env").run();
  check(r && r->status == 4 && r->out == "piped\n" && r->err == "from-env\n", "exec: input, env, out, err, status",
        r ? r->out + "|" + r->err : describe(r.error()));
  auto missing = vm.exec({"/no/such"}).run();
  check(missing && missing->status == 127 && !missing->error.empty(), "exec: a missing command is 127 with a reason");
  std::string content(300000, 'x');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>('a' + i * 7 % 26);
  auto written = vm.write_file("/tmp/api-file", content, 0600);
  check(bool(written), "write_file", written ? "" : describe(written.error()));
  auto read = vm.read_file("/tmp/api-file");
  check(read && *read == content, "read_file gives back what write_file wrote");
  auto mode = vm.exec({"stat", "-c", "%a", "/tmp/api-file"}).run();
  check(mode && mode->out == "600\n", "write_file sets the mode", mode ? mode->out : "");
  if (port == 0) return;
  auto fd = vm.connect(port);
  check(bool(fd), "connect", fd ? "" : describe(fd.error()));
  if (!fd) return;
  const std::string message = "through the agent\n";
  bool sent = ::write(*fd, message.data(), message.size()) == static_cast<ssize_t>(message.size());
  ::shutdown(*fd, SHUT_WR);
  std::string back;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(*fd, buffer, sizeof buffer)) > 0) back.append(buffer, static_cast<std::size_t>(n));
  ::close(*fd);
  check(sent && back == message, "connect: the guest's echo server answers", back);
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line out as it is checked
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "attach" && argc == 4) {
    auto vm = smvm::vm::attach(argv[2]);
    check(bool(vm), "attach", vm ? "" : describe(vm.error()));
    if (vm) exercise(*vm, static_cast<std::uint16_t>(std::atoi(argv[3])));
    auto none = smvm::vm::attach("no-such-vm");
    check(!none && none.error().message.find("no VM named") != std::string::npos, "attach to an unknown name fails");
  } else if (mode == "start" && argc == 3) {
    smvm::run_options options;
    options.image = argv[2];
    options.entrypoint = "";
    options.command = {"sleep", "100000"};
    auto vm = smvm::vm::start(options);
    check(bool(vm), "start", vm ? "" : describe(vm.error()));
    if (vm) {
      exercise(*vm, 0);
      auto status = vm->stop();
      check(status && *status == 0, "stop ends it with status 0");
    }
  } else if (mode == "restore" && argc == 3) {
    auto vm = smvm::vm::restore(argv[2], "api-restored");
    check(vm && vm->name() == "api-restored", "restore", vm ? "" : describe(vm.error()));
    if (vm) {
      exercise(*vm, 0);
      auto status = vm->stop();
      check(status && *status == 0, "stop ends it with status 0");
    }
  } else {
    std::fprintf(stderr, "usage: smvm-test-vm-api attach NAME PORT | start IMAGE | restore SNAPSHOT\n");
    return 2;
  }
  return failures == 0 ? 0 : 1;
}
