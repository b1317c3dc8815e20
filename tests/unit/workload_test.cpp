// `smvm run`'s merge of the image config with its options, as Docker does,
// and the run spec that carries it to the guest init.

#include "run/workload.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

using smvm::run::make_workload;

namespace {

smvm::image::image_config image() {
  smvm::image::image_config c;
  c.entrypoint = std::vector<std::string>{"/bin/echo", "entry"};
  c.cmd = std::vector<std::string>{"from-cmd"};
  c.env = {"PATH=/image/bin", "GREETING=hello"};
  c.working_dir = "/home/app";
  c.user = "app";
  return c;
}

const char* no_host_env(const char*) { return nullptr; }

}  // namespace

TEST_CASE("the image's Entrypoint, Cmd, Env, WorkingDir and User are the defaults") {
  auto w = make_workload(image(), {}, no_host_env);
  REQUIRE(w);
  CHECK(w->argv == std::vector<std::string>{"/bin/echo", "entry", "from-cmd"});
  CHECK(w->env == std::vector<std::string>{"PATH=/image/bin", "GREETING=hello"});
  CHECK(w->cwd == "/home/app");
  CHECK(w->user == "app");
  CHECK_FALSE(w->relay_stdin);
}

TEST_CASE("a command replaces Cmd; an entrypoint replaces both; an empty one clears it") {
  smvm::run_options o;
  o.command = {"a", "b"};
  CHECK(make_workload(image(), o, no_host_env)->argv == std::vector<std::string>{"/bin/echo", "entry", "a", "b"});
  o.entrypoint = "/bin/sh";
  CHECK(make_workload(image(), o, no_host_env)->argv == std::vector<std::string>{"/bin/sh", "a", "b"});
  o.command.clear();
  CHECK(make_workload(image(), o, no_host_env)->argv == std::vector<std::string>{"/bin/sh"});
  o.entrypoint = "";
  auto none = make_workload(image(), o, no_host_env);
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no command") != std::string::npos);
}

TEST_CASE("-e and --env-file override the image's Env in order; NAME alone takes the host's value") {
  const std::string file = "/tmp/smvm-workload-test.env";
  std::ofstream(file) << "# comment\n\nGREETING=file\nFROM_FILE=1\r\n  INDENTED=yes\n";
  smvm::run_options o;
  o.env_files = {file};
  o.env = {"GREETING=flag", "HOST_ONLY", "UNSET_ON_HOST"};
  auto host = [](const char* name) -> const char* { return std::string(name) == "HOST_ONLY" ? "from-host" : nullptr; };
  auto w = make_workload(image(), o, host);
  std::remove(file.c_str());
  REQUIRE(w);
  CHECK(w->env == std::vector<std::string>{"PATH=/image/bin", "GREETING=flag", "FROM_FILE=1", "INDENTED=yes",
                                           "HOST_ONLY=from-host"});
}

TEST_CASE("PATH has Docker's default when the image sets none") {
  auto c = image();
  c.env = {};
  auto w = make_workload(c, {}, no_host_env);
  REQUIRE(w);
  CHECK(w->env.front() == "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

TEST_CASE("bad overrides are named") {
  smvm::run_options o;
  o.workdir = "relative/dir";
  CHECK(make_workload(image(), o, no_host_env).error().message.find("-w relative/dir: the working folder must be an absolute path") == 0);
  o.workdir = "";
  o.env = {"=value"};
  CHECK(make_workload(image(), o, no_host_env).error().message == "-e: \"=value\" is not NAME=value");
  o.env = {};
  o.env_files = {"/no/such/file.env"};
  CHECK(make_workload(image(), o, no_host_env).error().message == "--env-file /no/such/file.env: cannot read it");
}

TEST_CASE("the run spec is key NUL value NUL records in argv order") {
  smvm::run::workload w;
  w.argv = {"sh", "-c", "echo hi"};
  w.env = {"A=1"};
  w.cwd = "/w";
  w.user = "1000:50";
  w.relay_stdin = true;
  auto bytes = smvm::run::encode_run_spec(w);
  std::string text(bytes.begin(), bytes.end());
  CHECK(text == std::string("arg\0sh\0arg\0-c\0arg\0echo hi\0env\0A=1\0cwd\0/w\0user\0" "1000:50\0stdin\0" "1\0", 62));
}
