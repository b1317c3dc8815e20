// smvm-test-vm-api: the library's VM handle (include/smvm/vm.hpp) end to
// end, for tests/e2e/agent.sh.
//   smvm-test-vm-api attach NAME PORT   a VM running an echo server on PORT
//   smvm-test-vm-api start IMAGE        a VM of its own, started and stopped
//   smvm-test-vm-api restore SNAPSHOT   a VM of its own from a snapshot
//   smvm-test-vm-api boot VM_TOML       a VM of its own from a vm.toml whose
//                                       guest runs `smvm-init agent`
//   smvm-test-vm-api flood IMAGE        two VMs in this process: one's command
//     writes without end to a host reader that never reads; the other's
//     execs go on, and this process's own memory stays bounded
// Prints a line per check; exit 0 when every one passed.
#include <smvm/vm.hpp>

#include <csignal>
#include <fstream>
#include <sys/socket.h>
#include <thread>
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

/// This process's RssAnon in KiB (guest RAM is shared memory, not in it).
long rss_anon_kib() {
  std::ifstream status("/proc/self/status");
  std::string key;
  long value = 0;
  while (status >> key) {
    if (key == "RssAnon:") {
      status >> value;
      return value;
    }
    status.ignore(1 << 10, '\n');
  }
  return -1;
}

void flood(const std::string& image) {
  std::signal(SIGPIPE, SIG_IGN);  // the unread pipe is closed at the end: an EPIPE for the flooding exec
  smvm::run_options options;
  options.image = image;
  options.entrypoint = "";
  options.command = {"sleep", "100000"};
  options.name = "flooder";
  auto a = smvm::vm::start(options);
  options.name = "bystander";
  auto b = smvm::vm::start(options);
  check(a && b, "two VMs started in one process", a ? (b ? "" : describe(b.error())) : describe(a.error()));
  if (!a || !b) return;
  int never_read[2];
  if (::pipe(never_read) != 0) return check(false, "pipe");
  std::thread flooding([&] { (void)a->exec({"cat", "/dev/zero"}).run(-1, never_read[1], never_read[1]); });
  std::this_thread::sleep_for(std::chrono::seconds(3));  // credit has run out long before
  const long before = rss_anon_kib();
  int answered = 0;
  const auto began = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    auto r = b->exec({"sh", "-c", "echo bystander-" + std::to_string(i)}).run();
    answered += r && r->status == 0 && r->out == "bystander-" + std::to_string(i) + "\n";
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const long after = rss_anon_kib();
  check(answered == 10, "the other VM answers 10 execs during the flood",
        std::to_string(answered) + " in " + std::to_string(seconds) + " s");
  check(before > 0 && after - before < 64 * 1024, "this process's memory stays bounded while the flood goes on",
        std::to_string(before) + " KiB, 3 s later " + std::to_string(after) + " KiB");
  auto a_status = a->stop();
  check(bool(a_status), "the flooding VM stops");
  ::close(never_read[0]);  // its exec, blocked writing to the pipe, ends with EPIPE
  flooding.join();
  ::close(never_read[1]);
  auto b_status = b->stop();
  check(b_status && *b_status == 0, "the other VM stops with status 0");
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
  } else if (mode == "boot" && argc == 3) {
    auto vm = smvm::vm::boot(argv[2], "api-booted");
    check(vm && vm->name() == "api-booted", "boot a vm.toml", vm ? "" : describe(vm.error()));
    if (vm) {
      exercise(*vm, 0);
      auto attached = smvm::vm::attach("api-booted");  // by name, as smvm exec finds it
      auto r = attached ? attached->exec({"echo", "by-name"}).run() : smvm::result<smvm::exec_result>(attached.error());
      check(r && r->out == "by-name\n", "attach by name reaches it");
      auto status = vm->stop();
      check(status && *status == 0, "stop ends it with status 0");
    }
  } else if (mode == "flood" && argc == 3) {
    flood(argv[2]);
  } else {
    std::fprintf(stderr, "usage: smvm-test-vm-api attach NAME PORT | start IMAGE | restore SNAPSHOT | boot VM_TOML | flood IMAGE\n");
    return 2;
  }
  return failures == 0 ? 0 : 1;
}
