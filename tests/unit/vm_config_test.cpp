#include "config/vm_config.hpp"
#include "image/store.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <fstream>

using namespace smvm::config;
namespace fs = std::filesystem;

namespace {

struct scratch {
  fs::path dir = fs::temp_directory_path() / ("smvm-config-test-" + std::to_string(::getpid()));
  scratch() {
    fs::create_directories(dir);
    std::ofstream(dir / "bzImage") << "kernel";
    std::ofstream(dir / "initrd.img") << "initrd";
    std::ofstream(dir / "disk.img") << "";
  }
  ~scratch() { fs::remove_all(dir); }
  smvm::result<vm_config> parse(const std::string& text) { return parse_vm_config(text, "vm.toml", dir); }
};

const std::string boot = "[boot]\nkernel = \"bzImage\"\n";

}  // namespace

TEST_CASE("vm.toml: a minimal file takes the defaults") {
  scratch s;
  auto c = s.parse(boot);
  REQUIRE(c);
  CHECK(c->machine.vcpus == 1);
  CHECK(c->machine.memory_mib == 256);
  CHECK(c->boot.kernel == s.dir / "bzImage");
  CHECK_FALSE(c->boot.initrd);
  CHECK(c->console.input == console_input::stdin_stream);
  CHECK(c->console.output == console_output::stdout_stream);
}

TEST_CASE("vm.toml: every section is read") {
  scratch s;
  auto c = s.parse(
    "[machine]\nvcpus = 2\nmemory_mib = 512\n"
    "[boot]\nkernel = \"bzImage\"\ninitrd = \"initrd.img\"\ncmdline = \"quiet\"\n"
    "[console]\ninput = \"none\"\noutput = \"console.log\"\n");
  REQUIRE(c);
  CHECK(c->machine.vcpus == 2);
  CHECK(c->machine.memory_mib == 512);
  CHECK(c->boot.initrd == s.dir / "initrd.img");
  CHECK(c->boot.cmdline == "quiet");
  CHECK(c->console.input == console_input::none);
  CHECK(c->console.output == console_output::file);
  CHECK(c->console.output_file == s.dir / "console.log");
}

TEST_CASE("vm.toml: disks, the rng and a virtio console") {
  scratch s;
  std::ofstream(s.dir / "disk.img") << "";
  std::ofstream(s.dir / "data.img") << "";
  auto c = s.parse(boot + "[console]\ndevice = \"virtio\"\n[rng]\n"
                          "[[disk]]\npath = \"disk.img\"\n[[disk]]\npath = \"data.img\"\nread_only = true\n");
  REQUIRE(c);
  // In window order: the disks, the rng, the console.
  REQUIRE(c->devices.size() == 4);
  CHECK(c->devices[0].label() == "virtio-blk disk[0]");
  CHECK(c->devices[0].settings.text("path") == (s.dir / "disk.img").string());
  CHECK_FALSE(c->devices[0].settings.flag("read_only"));
  CHECK(c->devices[1].label() == "virtio-blk disk[1]");
  CHECK(c->devices[1].settings.text("path") == (s.dir / "data.img").string());
  CHECK(c->devices[1].settings.flag("read_only"));
  CHECK(c->devices[2].label() == "virtio-rng");
  CHECK(c->devices[3].label() == "virtio-console");
  CHECK(c->console.device == console_device::virtio);
  CHECK(c->where("disk[1].read_only") == "vm.toml:10: ");
  CHECK(base_cmdline(*c).find("console=hvc0") != std::string::npos);
}

TEST_CASE("vm.toml: by default there are no virtio devices and the console is the UART") {
  scratch s;
  auto c = s.parse(boot);
  REQUIRE(c);
  CHECK(c->devices.empty());
  CHECK(c->console.device == console_device::serial);
  CHECK(base_cmdline(*c).find("console=ttyS0") != std::string::npos);
}

TEST_CASE("vm.toml: more virtio devices than interrupt lines are refused") {
  scratch s;
  std::ofstream(s.dir / "disk.img") << "";
  std::string text = boot + "[rng]\n";
  for (int i = 0; i < 11; ++i) text += "[[disk]]\npath = \"disk.img\"\n";
  auto c = s.parse(text);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Catch::Contains("12 virtio devices (11 disks, the rng) is more than the 11"));
}

TEST_CASE("vm.toml: a path starting with ~ is under the home folder") {
  scratch s;
  const char* old = std::getenv("HOME");
  std::string saved = old ? old : "";
  ::setenv("HOME", s.dir.c_str(), 1);
  auto c = s.parse("[boot]\nkernel = \"~/bzImage\"\n");
  ::setenv("HOME", saved.c_str(), 1);
  REQUIRE(c);
  CHECK(c->boot.kernel == s.dir / "bzImage");
}

TEST_CASE("vm.toml errors name the file, the line and what was expected") {
  scratch s;
  struct bad {
    std::string text;
    std::string message;
  };
  auto cases = GENERATE(
    bad{"[machine]\nvcpus = 0\n" + boot, "vm.toml:2: machine.vcpus must be at least 1, got 0"},
    bad{"[machine]\nvcpus = 255\n" + boot, "vm.toml:2: machine.vcpus must be at most 254, got 255"},
    bad{"[machine]\nvcpus = 2000\n" + boot, "vm.toml:2: machine.vcpus must be at most 254, got 2000"},
    bad{"[machine]\n\nvcpus = \"two\"\n" + boot, "vm.toml:3: machine.vcpus must be an integer, got a string"},
    bad{"[machine]\nmemory_mib = 8\n" + boot, "vm.toml:2: machine.memory_mib must be at least 16, got 8"},
    bad{"[machine]\nmemory_mib = 99999999999\n" + boot, "machine.memory_mib must be at most"},
    bad{"[machine]\ncpus = 2\n" + boot, "vm.toml:2: unknown key machine.cpus (expected one of: memory_mib, vcpus)"},
    bad{"[network]\nx = 1\n", "vm.toml:1: unknown section [network]"},
    bad{"machine = 3\n", "vm.toml:1: machine must be a table"},
    bad{"[boot]\nkernel = \"missing\"\n", "vm.toml:2: boot.kernel: " },
    bad{boot + "initrd = \"nope.img\"\n", "vm.toml:3: boot.initrd: "},
    bad{boot + "cmdline = 5\n", "vm.toml:3: boot.cmdline must be a string, got an integer"},
    bad{boot + "[console]\ninput = \"keyboard\"\n", "vm.toml:4: console.input must be \"stdin\" or \"none\""},
    bad{boot + "[console]\noutput = \"\"\n", "vm.toml:4: console.output must be"},
    bad{boot + "[console]\ndevice = \"vga\"\n", "vm.toml:4: console.device must be \"serial\" or \"virtio\", got \"vga\""},
    bad{boot + "[disk]\npath = \"disk.img\"\n", "vm.toml:3: disk must be a list of tables: write each disk as a [[disk]]"},
    bad{boot + "[[disk]]\nread_only = true\n", "vm.toml:3: disk[0] has no path"},
    bad{boot + "[[disk]]\npath = \"disk.img\"\n[[disk]]\npath = \"gone.img\"\n",
        "vm.toml:6: disk[1].path: "},
    bad{boot + "[[disk]]\npath = 3\n", "vm.toml:4: disk[0].path must be a string, got an integer"},
    bad{boot + "[[disk]]\npath = \"disk.img\"\nread_only = \"yes\"\n",
        "vm.toml:5: disk[0].read_only must be true or false, got a string"},
    bad{boot + "[[disk]]\npath = \"disk.img\"\nformat = \"qcow2\"\n",
        "vm.toml:5: unknown key disk[0].format (expected one of: path, read_only)"},
    bad{boot + "[rng]\nsource = \"/dev/random\"\n", "vm.toml:4: unknown key rng.source (expected none)"},
    bad{"rng = true\n" + boot, "vm.toml:1: rng must be a table"},
    bad{"[machine\nvcpus = 1\n", "vm.toml:1: "});
  auto c = s.parse(cases.text);
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Catch::Contains(cases.message));
}

TEST_CASE("vm.toml: a missing kernel file is reported with its path") {
  scratch s;
  auto c = s.parse("[boot]\nkernel = \"missing\"\n");
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Catch::Contains((s.dir / "missing").string()) && Catch::Contains("does not exist"));
}

TEST_CASE("vm.toml: without a kernel, the default kernel must exist") {
  scratch s;
  ::setenv("SMVM_CACHE", (s.dir / "empty-cache").c_str(), 1);
  auto missing = s.parse("[machine]\nvcpus = 1\n");
  ::setenv("SMVM_CACHE", s.dir.c_str(), 1);
  auto found = s.parse("[machine]\nvcpus = 1\n");
  ::unsetenv("SMVM_CACHE");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message, Catch::Contains("tools/build-kernel.sh"));
  REQUIRE(found);
  CHECK(found->boot.kernel == s.dir / "bzImage");
}

TEST_CASE("vm.toml: an unreadable file is an error, not a crash") {
  auto c = load_vm_config("/nonexistent/vm.toml");
  REQUIRE_FALSE(c);
  CHECK_THAT(c.error().message, Catch::Contains("cannot read /nonexistent/vm.toml"));
}

TEST_CASE("vm.toml: [snapshot] names the file and what the VM does once it is written") {
  scratch s;
  auto c = s.parse(boot + "[snapshot]\npath = \"vm.snap\"\non_ready = \"continue\"\n");
  REQUIRE(c);
  REQUIRE(c->snapshot);
  CHECK(c->snapshot->path == s.dir / "vm.snap");
  CHECK_FALSE(c->snapshot->stop_after);
  auto stops = s.parse(boot + "[snapshot]\npath = \"vm.snap\"\n");
  REQUIRE(stops);
  CHECK(stops->snapshot->stop_after);
  auto none = s.parse(boot);
  REQUIRE(none);
  CHECK_FALSE(none->snapshot);
}

TEST_CASE("cache: $SMVM_CACHE, else $XDG_CACHE_HOME/smvm, else ~/.cache/smvm, for the kernel and the images alike") {
  // The environment is the process's: set, checked, and put back.
  auto saved = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto cache = saved("SMVM_CACHE"), xdg = saved("XDG_CACHE_HOME"), home = saved("HOME");
  ::setenv("HOME", "/home/u", 1);
  ::unsetenv("SMVM_CACHE");
  ::unsetenv("XDG_CACHE_HOME");
  CHECK(smvm::config::default_kernel_path() == "/home/u/.cache/smvm/bzImage");
  CHECK(smvm::image::store::default_root() == "/home/u/.cache/smvm/images");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  CHECK(smvm::config::default_kernel_path() == "/xdg/smvm/bzImage");
  CHECK(smvm::image::store::default_root() == "/xdg/smvm/images");
  ::setenv("SMVM_CACHE", "/c", 1);
  CHECK(smvm::config::default_kernel_path() == "/c/bzImage");
  CHECK(smvm::image::store::default_root() == "/c/images");
  auto put_back = [](const char* name, const std::optional<std::string>& v) {
    if (v) ::setenv(name, v->c_str(), 1);
    else ::unsetenv(name);
  };
  put_back("SMVM_CACHE", cache);
  put_back("XDG_CACHE_HOME", xdg);
  put_back("HOME", home);
}
