#pragma once
// One entry per kind of virtio device (blk, rng, console, ...): everything
// the rest of smvm needs to know about a kind, so that vm.toml parsing, the
// device count, wiring, a snapshot's machine record and restore iterate
// the table (device_kinds()) and name no kind. A kind lives in its own
// folder, devices/virtio/<kind>/: its model, and a kind.cpp with its entry.

#include "common/result.hpp"
#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"
#include "network/port_forward.hpp"

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace smvm::devices::virtio {

/// What a setting holds, in vm.toml and in a snapshot's machine record.
enum class setting_type : std::uint8_t {
  flag,     // true or false
  integer,  // a TOML integer
  text,     // a string
  file,     // a string naming an existing file, relative to vm.toml's folder
  socket,   // a string naming a Unix socket smvm makes, relative to vm.toml's folder
  lines,    // an array of strings (or one); held as one string, an item a line
};

struct setting_spec {
  std::string_view key;
  setting_type type;
  /// Empty: the setting may be left out. Otherwise it must be given, and
  /// this says what it is ("the raw disk image to attach").
  std::string_view required;
};

using setting_value = std::variant<bool, std::int64_t, std::string>;

/// One device's settings, checked against its kind's specs: a required one
/// is there and every value has its spec's type (files and sockets are
/// absolute).
class device_settings {
 public:
  device_settings() = default;
  explicit device_settings(std::map<std::string, setting_value> values) : values_(std::move(values)) {}
  /// {{"path", "/images/root.ext4"}, {"read_only", true}}
  device_settings(std::initializer_list<std::pair<const std::string, setting_value>> values) : values_(values) {}

  bool flag(const std::string& key) const;              // false when absent
  std::int64_t integer(const std::string& key, std::int64_t fallback) const;
  std::string text(const std::string& key) const;
  /// A `lines` setting's items; none when it is not set.
  std::vector<std::string> lines(const std::string& key) const;       // "" when absent
  const std::map<std::string, setting_value>& values() const { return values_; }

 private:
  std::map<std::string, setting_value> values_;
};

/// What making a device may use.
struct device_context {
  const memory_view& memory;
  /// Where a console device writes the guest's output.
  std::function<void(std::span<const std::uint8_t>)> console_output;
};

/// Where a network card's frames go, for the builder to wire to its
/// worker 0 (queue_server::take_frames and receive_frames).
struct frame_link {
  std::string mode;  // "switch": a switch of this process, by name; "slirp": a NAT of the card's own; "tap"
  std::string name;  // the switch's name, or the TAP device's
  std::string mac;   // the card's, "02:00:00:00:00:01": how the control socket names its port
  std::vector<network::port_forward> publish = {};  // slirp: host ports to the guest's
};

/// A device made from its settings, with what its actor needs to know.
struct made_device {
  std::unique_ptr<device_model> model;
  /// Host console input goes to this queue's server (queue_server::receive).
  std::optional<std::uint16_t> input_queue = std::nullopt;
  /// A network card's link.
  std::optional<frame_link> link = std::nullopt;
};

struct device_kind {
  std::string_view name;   // "virtio-blk": messages, and the machine record's key
  /// Its vm.toml section: "disk" for [[disk]] (repeatable) or "rng" for
  /// [rng]. Empty for a kind vm.toml asks for some other way (the console:
  /// [console] device = "virtio").
  std::string_view section;
  bool repeatable = false;
  std::string_view noun;   // "disk": "3 disks" or "the disk" in a count
  std::span<const setting_spec> settings;
  /// Its backend blocks (disk I/O, a slow stdout): its actor and queue
  /// workers get threads of their own rather than the scheduler's.
  bool blocking = false;
  /// Makes the device. An error about one setting starts with its key
  /// ("path: cannot open ..."), so the caller can name the device and the
  /// line of vm.toml that set it.
  result<made_device> (*make)(const device_context& context, const device_settings& settings);
  /// Checks what the settings' types cannot say (a number's range), before
  /// any VM is made; an error starts with the setting's key, as make's do.
  /// Null: nothing more to check.
  result<void> (*validate)(const device_settings& settings) = nullptr;
  /// Why clones of one snapshot cannot share this device ("the disk X is
  /// writable, and ..."), or nothing when they can. Null: they always can.
  std::optional<std::string> (*clone_conflict)(const device_settings& settings) = nullptr;
  /// Fills in settings left out whose value must then stay fixed for the
  /// device's life, snapshots included (a card's MAC): vm.toml's values
  /// before they are checked and recorded. Null: nothing to fill in.
  void (*complete)(std::map<std::string, setting_value>& values) = nullptr;
  /// Makes clone `index` (from 1) of a restored snapshot's device differ
  /// where clones must (a card's MAC); clone 0 keeps what was saved. Null:
  /// clones are the same.
  void (*for_clone)(std::map<std::string, setting_value>& values, unsigned index) = nullptr;
};

/// Every kind, in the order their register windows are laid out (disks
/// first: the guest names them vda, vdb, ...).
std::span<const device_kind* const> device_kinds();
/// The kind called `name`, or null.
const device_kind* find_device_kind(std::string_view name);

/// Checks `settings` against `kind`'s specs; `name` ("disk[0]") prefixes
/// a key in errors. For settings that come from a file: a snapshot's record.
result<void> check_settings(const device_kind& kind, const device_settings& settings, const std::string& name);

}  // namespace smvm::devices::virtio
