// The control socket against a stand-in machine: requests, replies and
// every malformed request, over a real Unix socket.

#include "control/control_socket.hpp"
#include "tests/unit/scratch_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

using namespace smvm;
using namespace smvm::actors;

namespace {

/// What the stand-in machine was asked.
struct asked {
  std::vector<std::string> snapshots;
  std::atomic<int> stops{0};
};

machine_actor stand_in_machine(caf::actor_system& system, std::shared_ptr<asked> seen) {
  // The unused int: CAF 0.17 dereferences a null tuple<> when a function
  // actor takes no arguments, which UBSan reports.
  auto behavior = [seen](machine_actor::stateful_pointer<bool> self, int) -> machine_actor::behavior_type {
    self->state = false;  // paused
    return {
      [](run_atom) { return std::int32_t{0}; },
      [seen](guest_stop&) { ++seen->stops; },
      [](workload_signal) {},
      [](ready_atom) {},
      [seen](snapshot_request& r) -> caf::result<std::string> {
        if (r.path.find("full") != std::string::npos)
          return caf::make_error(caf::sec::runtime_error, "snapshot " + r.path + ": No space left on device; the VM runs on");
        seen->snapshots.push_back(r.path);
        return r.path;
      },
      [self](pause_atom) { self->state = true; return true; },
      [self](resume_atom) { return std::exchange(self->state, false); },
      [self](status_atom) { return std::string(self->state ? "paused" : "running"); },
    };
  };
  return system.spawn(behavior, 0);
}

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system system{(configure(cfg), cfg)};
  std::shared_ptr<asked> seen = std::make_shared<asked>();
  machine_actor machine = stand_in_machine(system, seen);
  ~fixture() { caf::anon_send_exit(machine, caf::exit_reason::user_shutdown); }
  std::string ask(const std::string& line) { return control::handle_request(system, machine, line); }
};

}  // namespace

TEST_CASE("control socket: status, pause, resume, snapshot and stop") {
  fixture f;
  CHECK(f.ask(R"({"action": "status"})") == R"({"ok":true,"state":"running"})");
  CHECK(f.ask(R"({"action": "pause"})") == R"({"ok":true,"state":"paused"})");
  CHECK(f.ask(R"({"action": "status"})") == R"({"ok":true,"state":"paused"})");
  CHECK(f.ask(R"({"action": "resume"})") == R"({"ok":true,"state":"running"})");
  CHECK(f.ask(R"({"action": "snapshot", "path": "/tmp/a.snap"})") ==
        R"({"memory":"/tmp/a.snap.mem","ok":true,"path":"/tmp/a.snap"})");
  CHECK(f.seen->snapshots == std::vector<std::string>{"/tmp/a.snap"});
  CHECK(f.ask(R"({"action": "stop"})") == R"({"ok":true,"state":"stopping"})");
}

TEST_CASE("control socket: a failed snapshot is a reply with the machine's reason") {
  fixture f;
  CHECK(f.ask(R"({"action": "snapshot", "path": "/full/a.snap"})") ==
        R"({"error":"snapshot /full/a.snap: No space left on device; the VM runs on","ok":false})");
}

TEST_CASE("control socket: malformed requests get an error naming what is wrong") {
  fixture f;
  CHECK_THAT(f.ask("{not json"), Catch::Contains(R"("ok":false)") && Catch::Contains("the request is not JSON"));
  CHECK_THAT(f.ask("[1, 2]"), Catch::Contains("a request is an object with an \\\"action\\\" string"));
  CHECK_THAT(f.ask(R"({"action": 7})"), Catch::Contains("a request is an object with an \\\"action\\\" string"));
  CHECK_THAT(f.ask(R"({"action": "fly"})"), Catch::Contains("unknown action \\\"fly\\\""));
  CHECK_THAT(f.ask(R"({"action": "snapshot"})"), Catch::Contains("snapshot needs a \\\"path\\\""));
  CHECK_THAT(f.ask(R"({"action": "snapshot", "path": ""})"), Catch::Contains("snapshot needs a \\\"path\\\""));
  CHECK(f.seen->snapshots.empty());
  CHECK(f.seen->stops == 0);
}

TEST_CASE("control socket: a card's link is changed and a switch's counters read, by switch name and MAC") {
  fixture f;
  auto net = std::make_shared<switch_registry>(f.system);
  auto plugged = net->plug({"switch", "lan0", "02:00:00:00:00:01"}, "vm0 net[0]");
  REQUIRE(plugged);
  auto ask = [&](const std::string& line) { return control::handle_request(f.system, f.machine, line, net); };
  // The port exists once a card's worker has attached; a stand-in does it here.
  auto card = f.system.spawn([](frame_port::pointer, int) -> frame_port::behavior_type { return {[](net_frames&) {}}; }, 0);
  caf::anon_send(plugged->peer, port_attach{plugged->port, "vm0 net[0]", caf::actor_cast<caf::actor>(card),
                                            std::make_shared<frame_credit>(1 << 20), plugged->port_credit});
  // The requests below come from other senders: wait until the switch has the port.
  for (int i = 0; i < 1000 && ask(R"({"action": "switch", "switch": "lan0"})").find("vm0") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK(ask(R"({"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:01", "down": true})") == R"({"ok":true})");
  CHECK(ask(R"({"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:01", "loss": 0.1, "delay_us": 500,
                "seed": 3})") == R"({"ok":true})");
  CHECK_THAT(ask(R"({"action": "switch", "switch": "lan0"})"),
             Catch::Contains(R"("ok":true)") && Catch::Contains(R"("name":"vm0 net[0]")"));
  CHECK_THAT(ask(R"({"action": "link", "switch": "lan9", "mac": "02:00:00:00:00:01"})"),
             Catch::Contains(R"(no switch \"lan9\" in this process)"));
  CHECK_THAT(ask(R"({"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:07"})"),
             Catch::Contains(R"(no card 02:00:00:00:00:07 on switch \"lan0\")"));
  CHECK_THAT(ask(R"({"action": "link", "switch": "lan0"})"), Catch::Contains(R"(link needs a \"mac\")"));
  CHECK_THAT(ask(R"({"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:01", "loss": 2})"),
             Catch::Contains(R"(\"loss\" must be a share from 0 to 1)"));
  CHECK_THAT(ask(R"({"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:01", "speed": 1})"),
             Catch::Contains(R"(no setting \"speed\")"));
  CHECK_THAT(ask(R"({"action": "link", "switch": "lan0", "mac": "02:00:00:00:00:01", "down": 1})"),
             Catch::Contains(R"(\"down\" must be true or false)"));
  CHECK_THAT(ask(R"({"action": "switch"})"), Catch::Contains(R"(switch needs a \"switch\")"));
  CHECK_THAT(f.ask(R"({"action": "switch", "switch": "lan0"})"), Catch::Contains(R"(no switch \"lan0\")"));
  caf::anon_send_exit(card, caf::exit_reason::user_shutdown);
}

TEST_CASE("control socket: lines over a Unix socket, and the file removed at the end") {
  fixture f;
  test::scratch_dir dir;
  const auto path = dir / "api.sock";
  {
    auto socket = control::control_socket::open(path, f.system, f.machine);
    REQUIRE(socket);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    const std::string requests = "{\"action\": \"pause\"}\n{\"action\": \"status\"}\n";
    REQUIRE(::write(fd, requests.data(), requests.size()) == static_cast<ssize_t>(requests.size()));
    std::string replies;
    char buffer[256];
    while (std::count(replies.begin(), replies.end(), '\n') < 2) {
      ssize_t n = ::read(fd, buffer, sizeof(buffer));
      REQUIRE(n > 0);
      replies.append(buffer, static_cast<std::size_t>(n));
    }
    CHECK(replies == "{\"ok\":true,\"state\":\"paused\"}\n{\"ok\":true,\"state\":\"paused\"}\n");
    ::close(fd);
  }
  CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("control socket: a path holding another file is refused") {
  fixture f;
  test::scratch_dir dir;
  std::ofstream(dir / "api.sock") << "not a socket";
  auto socket = control::control_socket::open(dir / "api.sock", f.system, f.machine);
  REQUIRE_FALSE(socket);
  CHECK_THAT(socket.error().message, Catch::Contains("a file that is not a socket is there already"));
}
