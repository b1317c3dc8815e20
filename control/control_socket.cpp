#include "control/control_socket.hpp"

#include "control/network_requests.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace smvm::control {

namespace {

using json = nlohmann::json;

/// A request line longer than this is refused: no client needs more.
constexpr std::size_t max_request = 64 * 1024;
/// How long a request may wait for the VM (a snapshot of a large guest
/// writes its memory).
constexpr auto request_deadline = std::chrono::minutes(10);

/// Asks the machine and turns its answer into a reply line.
template <class Value, class Message, class OnValue>
std::string ask(caf::actor_system& system, const actors::machine_actor& machine, Message message, OnValue on_value) {
  caf::scoped_actor self{system};
  std::string reply;
  self->request(machine, request_deadline, std::move(message))
    .receive([&](Value& value) { reply = on_value(value).dump(); },
             [&](caf::error& e) { reply = failure_reply(actors::error_text(e)); });
  return reply;
}

}  // namespace

std::string handle_request(caf::actor_system& system, const actors::machine_actor& machine, const std::string& line,
                           const std::shared_ptr<actors::switch_registry>& net) {
  json request;
  try {
    request = json::parse(line);
  } catch (const json::parse_error& e) {
    return failure_reply(fmt::format("the request is not JSON: {}", e.what()));
  }
  if (!request.is_object() || !request.contains("action") || !request["action"].is_string())
    return failure_reply("a request is an object with an \"action\" string: status, pause, resume, snapshot, stop, link or "
                   "switch");
  const std::string action = request["action"];
  if (action == "status")
    return ask<std::string>(system, machine, actors::status_atom_v, [](std::string& state) { return json{{"ok", true}, {"state", state}}; });
  if (action == "pause")
    return ask<bool>(system, machine, actors::pause_atom_v, [](bool) { return json{{"ok", true}, {"state", "paused"}}; });
  if (action == "resume")
    return ask<bool>(system, machine, actors::resume_atom_v, [](bool) { return json{{"ok", true}, {"state", "running"}}; });
  if (action == "snapshot") {
    if (!request.contains("path") || !request["path"].is_string() || request["path"].get<std::string>().empty())
      return failure_reply("snapshot needs a \"path\": the snapshot file to write (guest memory goes to PATH.mem)");
    const auto path = std::filesystem::absolute(request["path"].get<std::string>()).lexically_normal().string();
    return ask<std::string>(system, machine, actors::snapshot_request{path, false}, [](std::string& written) {
      return json{{"ok", true}, {"path", written}, {"memory", written + ".mem"}};
    });
  }
  if (action == "stop") {
    caf::anon_send(machine, actors::guest_stop{0, false, "stopped through the control socket", true});
    return json{{"ok", true}, {"state", "stopping"}}.dump();
  }
  if (action == "link" || action == "switch") return network_request(system, net.get(), request);
  return failure_reply(
    fmt::format("unknown action \"{}\" (expected status, pause, resume, snapshot, stop, link or switch)", action));
}

result<std::unique_ptr<control_socket>> control_socket::open(const std::filesystem::path& path,
                                                             caf::actor_system& system, actors::machine_actor machine,
                                                             std::shared_ptr<actors::switch_registry> net) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof(address.sun_path))
    return make_error("control socket {}: the path is longer than a Unix socket allows ({} bytes)", path.string(),
                      sizeof(address.sun_path) - 1);
  std::memcpy(address.sun_path, path.c_str(), path.string().size());
  struct stat st{};
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error("control socket {}: a file that is not a socket is there already", path.string());
    ::unlink(path.c_str());  // a socket left behind by an earlier smvm
  }
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_error("control socket {}: {}", path.string(), std::strerror(errno));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || ::listen(fd, 4) != 0) {
    int err = errno;
    ::close(fd);
    return make_error("control socket {}: {}", path.string(), std::strerror(err));
  }
  int wake = ::eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return make_error("control socket: eventfd: {}", std::strerror(errno));
  }
  return std::unique_ptr<control_socket>(
    new control_socket(path, fd, wake, system, std::move(machine), std::move(net)));
}

control_socket::control_socket(std::filesystem::path path, int listen_fd, int wake_fd, caf::actor_system& system,
                               actors::machine_actor machine, std::shared_ptr<actors::switch_registry> net)
    : path_(std::move(path)),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      system_(system),
      machine_(std::move(machine)),
      net_(std::move(net)) {
  thread_ = std::thread([this] { serve(); });
}

control_socket::~control_socket() {
  done_ = true;
  std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_fd_);
  ::unlink(path_.c_str());
}

void control_socket::serve() {
  while (!done_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    serve_client(client);
    ::close(client);
  }
}

void control_socket::serve_client(int fd) {
  // One client at a time, one request a line; the client ends with EOF.
  std::string buffer;
  char chunk[4096];
  while (!done_) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return;
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return;
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (std::size_t end; (end = buffer.find('\n')) != std::string::npos;) {
      std::string reply = handle_request(system_, machine_, buffer.substr(0, end), net_) + "\n";
      buffer.erase(0, end + 1);
      if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return;
    }
    if (buffer.size() > max_request) {
      std::string reply = failure_reply(fmt::format("a request line is at most {} bytes", max_request)) + "\n";
      (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
      return;
    }
  }
}

}  // namespace smvm::control
