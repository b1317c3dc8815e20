// The workload channel's sink: the EXIT frame marks the end of whole
// output, a slow or non-blocking stdout loses nothing, and a closed one is
// reported once instead of being dropped in silence.

#include "actors/console_sink.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <thread>

namespace {

using smvm::actors::console_sink;

std::vector<std::uint8_t> frame(smvm_frame_type type, const std::string& text) {
  return smvm::encode_frame(type, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

struct pipe_pair {
  int fds[2] = {-1, -1};
  pipe_pair() { REQUIRE(::pipe2(fds, O_CLOEXEC) == 0); }
  ~pipe_pair() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
  std::string drain() {
    std::string all;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0) all.append(buffer, static_cast<std::size_t>(n));
    return all;
  }
};

}  // namespace

TEST_CASE("the EXIT frame's status is known only once it has arrived, after the output before it") {
  pipe_pair out, err;
  auto sink = console_sink::workload_streams(out.fds[1], err.fds[1]);
  sink->write(frame(SMVM_FRAME_STDOUT, "hello"));
  CHECK_FALSE(sink->exit_status().has_value());
  auto exit_frame = frame(SMVM_FRAME_EXIT, std::string(1, '\3'));
  sink->write(std::span(exit_frame).first(3));  // cut mid-frame: not there yet
  CHECK_FALSE(sink->exit_status().has_value());
  sink->write(std::span(exit_frame).subspan(3));
  REQUIRE(sink->exit_status() == std::uint8_t{3});
  CHECK_FALSE(sink->failure().has_value());
  ::close(out.fds[1]);
  out.fds[1] = -1;
  CHECK(out.drain() == "hello");
}

TEST_CASE("an EXIT frame of the wrong size is not taken as the workload's status") {
  pipe_pair out, err;
  auto sink = console_sink::workload_streams(out.fds[1], err.fds[1]);
  sink->write(frame(SMVM_FRAME_EXIT, ""));
  sink->write(frame(SMVM_FRAME_EXIT, "ab"));
  CHECK_FALSE(sink->exit_status().has_value());
}

TEST_CASE("the sink knows the guest's init was up once its READY frame came") {
  pipe_pair out, err;
  auto sink = console_sink::workload_streams(out.fds[1], err.fds[1]);
  sink->write(frame(SMVM_FRAME_STDOUT, "kernel noise is not init"));
  CHECK_FALSE(sink->init_up());
  sink->write(frame(SMVM_FRAME_READY, ""));
  CHECK(sink->init_up());
}

TEST_CASE("a non-blocking stdout that is full makes the sink wait, and a slow reader gets every byte") {
  pipe_pair out, err;
  REQUIRE(::fcntl(out.fds[1], F_SETFL, O_NONBLOCK) == 0);
  auto sink = console_sink::workload_streams(out.fds[1], err.fds[1]);
  const std::string chunk(60000, 'z');
  std::string got;
  std::thread reader([&] {
    ::usleep(200'000);  // the pipe fills, and write() says EAGAIN, meanwhile
    char buffer[4096];
    while (got.size() < 20 * chunk.size()) {
      ssize_t n = ::read(out.fds[0], buffer, sizeof buffer);
      if (n <= 0) break;
      got.append(buffer, static_cast<std::size_t>(n));
    }
  });
  for (int i = 0; i < 20; ++i) sink->write(frame(SMVM_FRAME_STDOUT, chunk));
  reader.join();
  CHECK(got.size() == 20 * chunk.size());
  CHECK_FALSE(sink->failure().has_value());
}

TEST_CASE("a closed stdout is a failure, reported once, naming the stream") {
  std::signal(SIGPIPE, SIG_IGN);
  pipe_pair out, err;
  ::close(out.fds[0]);
  out.fds[0] = -1;
  auto sink = console_sink::workload_streams(out.fds[1], err.fds[1]);
  int calls = 0;
  std::string reported;
  sink->on_failure([&](const std::string& why) {
    ++calls;
    reported = why;
  });
  sink->write(frame(SMVM_FRAME_STDOUT, "lost"));
  sink->write(frame(SMVM_FRAME_STDOUT, "lost too"));
  CHECK(calls == 1);
  CHECK(reported.find("cannot write the workload's stdout: Broken pipe") != std::string::npos);
  REQUIRE(sink->failure().has_value());
  CHECK(*sink->failure() == reported);
}

TEST_CASE("a console sink keeps the end of what went through it") {
  smvm::config::console_section none;
  none.output = smvm::config::console_output::none;
  auto sink = console_sink::open(none);
  REQUIRE(sink);
  const std::string early(5000, 'a');
  (*sink)->write({reinterpret_cast<const std::uint8_t*>(early.data()), early.size()});
  const std::string panic = "Kernel panic - not syncing: test\n";
  (*sink)->write({reinterpret_cast<const std::uint8_t*>(panic.data()), panic.size()});
  const auto tail = (*sink)->tail();
  CHECK(tail.size() == 4096);
  CHECK(tail.ends_with(panic));
}
