#pragma once
// virtio-vsock (virtio 1.2, section 5.10): stream sockets between the guest
// and host programs, through the muxer's Unix sockets. Queue 0 (rx) takes
// packets to the guest, queue 1 (tx) the guest's packets, queue 2 (event)
// the transport reset a restored guest is told of. One worker serves all
// three, since every packet may change what the others owe.

#include "devices/memory_view.hpp"
#include "devices/virtio/device_model.hpp"
#include "devices/virtio/vsock/muxer.hpp"

#include <array>
#include <memory>
#include <optional>
#include <vector>

namespace smvm::devices::virtio::vsock {

/// The three queues and the muxer: what the device's one worker holds.
class connection_server final : public queue_server {
 public:
  connection_server(std::unique_ptr<muxer> m, std::uint64_t guest_cid) : muxer_(std::move(m)), guest_cid_(guest_cid) {}

  result<bool> serve(std::uint16_t index) override;
  int backend_fd() const override { return muxer_->poll_fd(); }
  result<bool> serve_backend() override;
  /// Host programs' connections wait while a transport reset is not yet
  /// handled by the guest: one let through before would be reset with
  /// the stale ones.
  bool backend_wanted() const override { return !starved_ && reset_ == reset_state::none; }

  void activate(std::optional<queue> rx, std::optional<queue> tx, std::optional<queue> event);
  /// Forgets the queues, every connection and what was owed the guest.
  void reset();
  std::vector<queue*> queues();
  /// The guest's connections are gone (a restore): tell it so.
  void owe_transport_reset() { reset_ = reset_state::owed; }
  /// True until the guest has handled the transport reset it is owed.
  bool resetting() const { return reset_ != reset_state::none; }
  const muxer& connections() const { return *muxer_; }

 private:
  /// The guest's packets: each goes to the muxer, or resets what it names.
  result<bool> serve_transmit();
  /// What the muxer owes the guest, into its receive buffers.
  result<bool> serve_receive();
  result<bool> serve_event();

  std::unique_ptr<muxer> muxer_;
  std::uint64_t guest_cid_;
  std::optional<queue> rx_, tx_, event_;
  // A packet taken from the muxer that no receive buffer has had room for
  // yet; RW data is split over buffers as they come.
  std::optional<header> staged_;
  std::vector<std::uint8_t> staged_payload_;
  std::size_t staged_sent_ = 0;
  std::size_t last_room_ = 4096;  // payload room of the guest's last receive buffer
  bool starved_ = false;          // the muxer had a packet and the guest no buffer
  // A restored guest is owed VIRTIO_VSOCK_EVENT_TRANSPORT_RESET; once it is
  // written, the guest's next event queue notify says it has handled it:
  // Linux drops its connections, then gives the event buffer back and
  // kicks (virtio_transport_event_work).
  enum class reset_state { none, owed, sent };
  reset_state reset_ = reset_state::none;
  std::uint16_t offered_when_sent_ = 0;  // the event queue's available index then
};

class device final : public device_model {
 public:
  static constexpr std::uint32_t id = 19;
  static constexpr std::uint16_t rx_queue = 0, tx_queue = 1, event_queue = 2;

  /// Listens on `uds_path` for host programs; the guest is `guest_cid`.
  static result<std::unique_ptr<device>> open(const memory_view& memory, std::uint64_t guest_cid,
                                              const std::string& uds_path);

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override {
    return virtio::feature::ring_event_idx | virtio::feature::ring_indirect_desc;
  }
  std::uint16_t queue_count() const override { return 3; }
  /// guest_cid, a little-endian 64-bit number.
  std::span<const std::uint8_t> config_space() const override { return config_; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override;
  std::uint16_t worker_of(std::uint16_t) const override { return 0; }
  std::vector<queue*> queues() override;
  /// Connections are not kept: a restored guest is told the transport reset
  /// (VIRTIO_VSOCK_EVENT_TRANSPORT_RESET), drops its connections and keeps
  /// its listeners.
  result<void> restore_extra(std::span<const std::uint8_t> bytes) override;

 private:
  device(const memory_view& memory, std::uint64_t guest_cid, std::unique_ptr<muxer> m);
  const memory_view& memory_;
  std::array<std::uint8_t, 8> config_{};
};

}  // namespace smvm::devices::virtio::vsock
