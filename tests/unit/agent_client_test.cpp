// The guest agent's protocol, both sides: the host's frame reader against
// bad and split input, and the host client (agent/) against the guest
// agent's own code served on the host (tests/agent/agent_server.c), with
// real processes, pipes, files and a TCP server.
#include "agent/channel.hpp"
#include "agent/exec.hpp"
#include "agent/files.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <thread>

using namespace smvm;
using namespace smvm::agent;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

/// The agent server in a temporary folder, stopped at the end.
class agent_server {
 public:
  agent_server() {
    char name[] = "/tmp/smvm-agent-test-XXXXXX";
    folder_ = ::mkdtemp(name);
    socket_ = folder_ / "v.sock";
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a test that dies takes its server along (ctest waits for its pipes)
      ::dup2(ready[1], 1);
      ::execl(SMVM_TEST_AGENT_SERVER, SMVM_TEST_AGENT_SERVER, socket_.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(ready[1]);
    char line[16] = {};
    REQUIRE(::read(ready[0], line, sizeof line - 1) > 0);  // "listening"
    ::close(ready[0]);
  }
  ~agent_server() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(folder_);
  }
  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& folder() const { return folder_; }

 private:
  std::filesystem::path folder_, socket_;
  pid_t pid_ = -1;
};

/// A file's bytes, for writing stdin and reading output.
std::string slurp(int fd) {
  std::string out;
  char buffer[65536];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<std::size_t>(n));
  return out;
}

/// A temporary file with `content`, opened for reading.
struct temp_input {
  explicit temp_input(const std::string& content) {
    char name[] = "/tmp/smvm-agent-input-XXXXXX";
    fd = ::mkstemp(name);
    ::unlink(name);
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::lseek(fd, 0, SEEK_SET);
  }
  ~temp_input() { ::close(fd); }
  int fd;
};

struct temp_output {
  temp_output() {
    char name[] = "/tmp/smvm-agent-output-XXXXXX";
    fd = ::mkstemp(name);
    ::unlink(name);
  }
  ~temp_output() { ::close(fd); }
  std::string text() const {
    ::lseek(fd, 0, SEEK_SET);
    return slurp(fd);
  }
  int fd;
};

struct exec_run {
  exec_outcome outcome;
  std::string out, err;
};

exec_request command(std::vector<std::string> argv, std::vector<std::string> env = {}, std::string cwd = "",
                     std::string user = "") {
  exec_request r;
  r.argv = std::move(argv);
  r.env = std::move(env);
  r.cwd = std::move(cwd);
  r.user = std::move(user);
  return r;
}

exec_run run(const agent_server& server, exec_request request, const std::string* input = nullptr) {
  temp_output out, err;
  std::optional<temp_input> in;
  if (input) in.emplace(*input);
  auto r = exec(server.socket(), request, {in ? in->fd : -1, out.fd, err.fd, -1}, 5s);
  REQUIRE(r);
  return {*r, out.text(), err.text()};
}

}  // namespace

TEST_CASE("agent frames: split anywhere, read whole", "[agent]") {
  auto stream = encode_frame(SMVM_AGENT_STDOUT, bytes("hello"));
  auto second = encode_frame(SMVM_AGENT_EXIT, std::vector<std::uint8_t>{3, 0, 0, 0});
  stream.insert(stream.end(), second.begin(), second.end());
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    frame_reader reader;
    std::vector<frame> got;
    for (auto part : {std::span(stream).first(cut), std::span(stream).subspan(cut)}) {
      reader.append(part);
      for (;;) {
        auto f = reader.next();
        REQUIRE(f);
        if (!*f) break;
        got.push_back(std::move(**f));
      }
    }
    REQUIRE(got.size() == 2);
    CHECK(got[0].text() == "hello");
    CHECK(got[1].type == SMVM_AGENT_EXIT);
    CHECK(reader.buffered() == 0);
  }
}

TEST_CASE("agent frames: a bad header is an error, not a wait", "[agent]") {
  auto error_of = [](std::vector<std::uint8_t> header) {
    frame_reader reader;
    reader.append(header);
    auto f = reader.next();
    REQUIRE_FALSE(f);
    return f.error().message;
  };
  CHECK_THAT(error_of({0x7f, 0, 0, 0, 0, 0, 0, 0}), Catch::Contains("unknown type 0x7f"));
  CHECK_THAT(error_of({SMVM_AGENT_EXEC, 0, 0, 0, 0, 0, 0, 0}), Catch::Contains("unknown type 0x02"));  // a host's frame
  CHECK_THAT(error_of({SMVM_AGENT_DATA, 0, 1, 0, 0, 0, 0, 0}), Catch::Contains("reserved"));
  CHECK_THAT(error_of({SMVM_AGENT_DATA, 0, 0, 0, 1, 0, 1, 0}), Catch::Contains("65537 bytes"));
}

TEST_CASE("agent records: round trip, and a cut record is an error", "[agent]") {
  records r{{"path", "/a b"}, {"mode", "755"}, {"empty", ""}};
  auto decoded = decode_records(encode_records(r));
  REQUIRE(decoded);
  CHECK(*decoded == r);
  CHECK(find_record(*decoded, "mode") == "755");
  CHECK_FALSE(decode_records(bytes(std::string("path\0/a", 7))));
  CHECK_FALSE(decode_records(bytes(std::string("path", 4))));
}

TEST_CASE("agent: ping answers with the version", "[agent]") {
  agent_server server;
  auto version = ping(server.socket(), 5s);
  REQUIRE(version);
  CHECK(*version == SMVM_AGENT_VERSION);
}

TEST_CASE("agent: a connection with nobody at the port is an error", "[agent]") {
  agent_server server;
  auto c = channel::open(server.socket(), 5s, 53);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Catch::Contains("not listening"));
  auto missing = ping(server.folder() / "none.sock", 1s);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("cannot connect"));
}

TEST_CASE("agent exec: stdin in, stdout and stderr apart, the exit status back", "[agent]") {
  agent_server server;
  std::string input = "line one\nline two\n";
  auto r = run(server, command({"sh", "-c", "cat; echo to-stderr >&2; exit 3"}), &input);
  CHECK(r.outcome.status == 3);
  CHECK(r.outcome.error.empty());
  CHECK(r.out == input);
  CHECK(r.err == "to-stderr\n");
}

TEST_CASE("agent exec: env over the image's, cwd, and stdin is /dev/null without input", "[agent]") {
  agent_server server;
  auto r = run(server, command({"sh", "-c", "echo $FROM_IMAGE $ADDED; pwd; cat; echo end"}, {"ADDED=1"}, "/tmp"));
  CHECK(r.outcome.status == 0);
  CHECK(r.out == "yes 1\n/tmp\nend\n");
  auto replaced = run(server, command({"sh", "-c", "echo $FROM_IMAGE"}, {"FROM_IMAGE=no"}));
  CHECK(replaced.out == "no\n");
}

TEST_CASE("agent exec: a command that cannot run says why, with Docker's statuses", "[agent]") {
  agent_server server;
  auto missing = run(server, command({"/no/such/command"}));
  CHECK(missing.outcome.status == 127);
  CHECK_THAT(missing.outcome.error, Catch::Contains("cannot run /no/such/command"));
  auto folder = run(server, command({"true"}, {}, "/no/such/folder"));
  CHECK(folder.outcome.status == 126);
  CHECK_THAT(folder.outcome.error, Catch::Contains("working folder /no/such/folder"));
  auto user = run(server, command({"true"}, {}, "", "nosuchuser"));
  CHECK(user.outcome.status == 126);
  CHECK_THAT(user.outcome.error, Catch::Contains("unable to find user nosuchuser"));
}

TEST_CASE("agent exec: a signal ends the command with 128+N", "[agent]") {
  agent_server server;
  temp_output out, err;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sfd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  std::thread raise([] {
    std::this_thread::sleep_for(300ms);
    ::kill(::getpid(), SIGUSR1);
  });
  auto r = exec(server.socket(), command({"sleep", "30"}), {-1, out.fd, err.fd, sfd}, 5s);
  raise.join();
  ::close(sfd);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  REQUIRE(r);
  CHECK(r->status == 128 + SIGUSR1);
}

TEST_CASE("agent exec: a tty gives the command a terminal of the asked size", "[agent]") {
  agent_server server;
  auto request = command({"sh", "-c", "tty; stty size"});
  request.tty = true;
  request.rows = 33;
  request.cols = 101;
  auto r = run(server, request);
  CHECK(r.outcome.status == 0);
  CHECK_THAT(r.out, Catch::StartsWith("/dev/pts/"));
  CHECK_THAT(r.out, Catch::Contains("33 101"));
}

TEST_CASE("agent exec: twenty at once each get their own output", "[agent]") {
  agent_server server;
  std::vector<std::future<exec_run>> runs;
  for (int i = 0; i < 20; ++i)
    runs.push_back(std::async(std::launch::async, [&server, i] {
      return run(server, command({"sh", "-c", "sleep 0.2; echo exec-$0; exit $0", std::to_string(i)}));
    }));
  for (int i = 0; i < 20; ++i) {
    auto r = runs[static_cast<std::size_t>(i)].get();
    CHECK(r.outcome.status == i);
    CHECK(r.out == fmt::format("exec-{}\n", i));
  }
}

TEST_CASE("agent files: a file in and out, byte for byte, with its mode", "[agent]") {
  agent_server server;
  std::string content(3 * 65536 + 17, '\0');
  std::mt19937 random(7);
  for (auto& c : content) c = static_cast<char>(random());
  temp_input in(content);
  const auto target = (server.folder() / "copied").string();
  REQUIRE(write_file(server.socket(), target, in.fd, {0750, 0, 0}, "ignored", 5s));
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0750);
  temp_output out;
  auto info = read_file(server.socket(), target, out.fd, 5s);
  REQUIRE(info);
  CHECK(info->mode == 0750);
  CHECK(info->size == content.size());
  CHECK(out.text() == content);
  // Into a folder: under the name given, and no temporary file left.
  temp_input small("small\n");
  REQUIRE(write_file(server.socket(), server.folder().string(), small.fd, {}, "named", 5s));
  std::ifstream named(server.folder() / "named");
  std::string line;
  std::getline(named, line);
  CHECK(line == "small");
  for (const auto& e : std::filesystem::directory_iterator(server.folder()))
    CHECK(e.path().filename().string().find(".smvm-") == std::string::npos);
}

TEST_CASE("agent files: errors name the file", "[agent]") {
  agent_server server;
  temp_output out;
  auto missing = read_file(server.socket(), "/no/such/file", out.fd, 5s);
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("/no/such/file"));
  auto folder = read_file(server.socket(), server.folder().string(), out.fd, 5s);
  REQUIRE_FALSE(folder);
  CHECK_THAT(folder.error().message, Catch::Contains("is a folder"));
  temp_input in("x");
  auto nowhere = write_file(server.socket(), "/no/such/folder/file", in.fd, {}, "", 5s);
  REQUIRE_FALSE(nowhere);
  CHECK_THAT(nowhere.error().message, Catch::Contains("/no/such/folder"));
  auto relative = write_file(server.socket(), "relative", in.fd, {}, "", 5s);
  REQUIRE_FALSE(relative);
  CHECK_THAT(relative.error().message, Catch::Contains("absolute"));
}

TEST_CASE("agent connect: a stream to a TCP server inside, both ways", "[agent]") {
  agent_server server;
  int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto port = ntohs(addr.sin_port);
  std::thread echo([listener] {  // a banner first, then an echo until the end
    int c = ::accept(listener, nullptr, nullptr);
    (void)!::write(c, "banner\n", 7);
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(c, buffer, sizeof buffer)) > 0) (void)!::write(c, buffer, static_cast<std::size_t>(n));
    ::close(c);
  });
  auto stream = connect_tcp(server.socket(), port, 5s);
  REQUIRE(stream);
  REQUIRE(::write(stream->get(), "ping\n", 5) == 5);
  ::shutdown(stream->get(), SHUT_WR);
  CHECK(slurp(stream->get()) == "banner\nping\n");
  echo.join();
  ::close(listener);
  auto refused = connect_tcp(server.socket(), port, 5s);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message, Catch::Contains(fmt::format("port {}", port)));
}
