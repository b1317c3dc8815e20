#pragma once
// virtio-blk (virtio 1.2, section 5.2) on a raw image file: read, write,
// flush (fdatasync), get-id, and read-only disks.

#include "devices/memory_view.hpp"
#include "devices/virtio/blk/request.hpp"
#include "devices/virtio/device_model.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>

namespace smvm::devices::virtio::blk {

namespace feature {
inline constexpr std::uint64_t seg_max = 1ull << 2, read_only = 1ull << 5, flush = 1ull << 9;
}

/// The request queue and the disk's file: what its worker holds.
class request_server final : public queue_server {
 public:
  request_server(int fd, std::uint64_t capacity, bool read_only, const std::string& id);
  ~request_server() override;
  /// Serves every pending request (the I/O blocks).
  result<bool> serve(std::uint16_t index) override;

  std::optional<queue> requests;

 private:
  /// Carries out one parsed request; returns the status to report.
  std::uint8_t execute(const request& r, std::uint32_t& written);

  int fd_;
  std::uint64_t capacity_;
  bool read_only_;
  std::array<std::uint8_t, id_bytes> serial_{};
};

class device final : public device_model {
 public:
  static constexpr std::uint32_t id = 2;

  /// Opens `path` (read-only when asked). The disk's size must be whole sectors.
  static result<std::unique_ptr<device>> open(const memory_view& memory, const std::string& path, bool read_only);

  std::uint32_t device_id() const override { return id; }
  std::uint64_t device_features() const override;
  std::uint16_t queue_count() const override { return 1; }
  std::span<const std::uint8_t> config_space() const override { return config_; }
  result<void> activate(std::uint64_t features, const std::vector<queue_config>& queues) override;
  void reset() override;
  std::vector<queue*> queues() override;

  std::uint64_t capacity_sectors() const { return capacity_; }

 private:
  device(const memory_view& memory, int fd, std::uint64_t capacity, bool read_only, const std::string& id);

  const memory_view& memory_;
  std::uint64_t capacity_;
  bool read_only_;
  std::array<std::uint8_t, 16> config_{};  // capacity (512-byte sectors), size_max, seg_max
};

}  // namespace smvm::devices::virtio::blk
