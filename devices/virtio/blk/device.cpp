#include "devices/virtio/blk/device.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

namespace smvm::devices::virtio::blk {

namespace {

/// One preadv/pwritev for a request's buffers (a short transfer goes on
/// where it stopped): all of it, or false.
bool transfer(int fd, const std::vector<std::span<std::uint8_t>>& data, std::uint64_t offset, bool write) {
  std::vector<iovec> iov;
  iov.reserve(data.size());
  for (auto& span : data)
    if (!span.empty()) iov.push_back({span.data(), span.size()});
  std::size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    ssize_t n = write ? ::pwritev(fd, iov.data() + first, count, static_cast<off_t>(offset))
                      : ::preadv(fd, iov.data() + first, count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    offset += static_cast<std::uint64_t>(n);
    for (auto left = static_cast<std::size_t>(n); left > 0;) {
      const std::size_t step = std::min(left, iov[first].iov_len);
      iov[first].iov_base = static_cast<std::uint8_t*>(iov[first].iov_base) + step;
      iov[first].iov_len -= step;
      left -= step;
      if (iov[first].iov_len == 0) ++first;
    }
  }
  return true;
}

}  // namespace

result<std::unique_ptr<device>> device::open(const memory_view& memory, const std::string& path, bool read_only) {
  int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open disk {}: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("disk {} is not a regular file", path);
  }
  if (st.st_size % sector_size) {
    ::close(fd);
    return make_error("disk {} is {} bytes, not a whole number of 512-byte sectors", path, st.st_size);
  }
  std::string serial = "smvm-" + std::to_string(st.st_ino);
  return std::unique_ptr<device>(
    new device(memory, fd, static_cast<std::uint64_t>(st.st_size) / sector_size, read_only, serial));
}

device::device(const memory_view& memory, int fd, std::uint64_t capacity, bool read_only, const std::string& id)
    : memory_(memory), capacity_(capacity), read_only_(read_only) {
  std::memcpy(config_.data(), &capacity_, sizeof capacity_);
  // seg_max: a request may have as many data buffers as a chain can hold
  // (less the header and the status); without it Linux sends one each.
  const std::uint32_t seg_max = max_queue_size - 2;
  std::memcpy(config_.data() + 12, &seg_max, sizeof seg_max);
  set_servers({std::make_shared<request_server>(fd, capacity, read_only, id)});
}

request_server::request_server(int fd, std::uint64_t capacity, bool read_only, const std::string& id)
    : fd_(fd), capacity_(capacity), read_only_(read_only) {
  std::memcpy(serial_.data(), id.data(), std::min(id.size(), serial_.size()));
}

request_server::~request_server() { ::close(fd_); }

std::uint64_t device::device_features() const {
  return virtio::feature::ring_event_idx | virtio::feature::ring_indirect_desc | feature::flush | feature::seg_max |
         (read_only_ ? feature::read_only : 0);
}

result<void> device::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  auto q = queue::create_live(memory_, queues, 0, features & virtio::feature::ring_event_idx, "virtio-blk requests");
  if (!q) return q.error();
  home<request_server>(0)->requests = std::move(*q);
  return {};
}

void device::reset() { home<request_server>(0)->requests.reset(); }

std::vector<queue*> device::queues() {
  auto& requests = home<request_server>(0)->requests;
  return {requests ? &*requests : nullptr};
}

std::uint8_t request_server::execute(const request& r, std::uint32_t& written) {
  const std::uint64_t offset = r.sector * sector_size;
  switch (r.op) {
    case operation::read:
      if (!transfer(fd_, r.data, offset, false)) return status_byte::io_error;
      written += static_cast<std::uint32_t>(r.data_bytes);
      return status_byte::ok;
    case operation::write:
      return transfer(fd_, r.data, offset, true) ? status_byte::ok : status_byte::io_error;
    case operation::flush:
      return ::fdatasync(fd_) == 0 ? status_byte::ok : status_byte::io_error;
    case operation::get_id: {
      std::size_t at = 0;
      for (auto& span : r.data) {
        std::size_t n = std::min(span.size(), serial_.size() - at);
        std::memcpy(span.data(), serial_.data() + at, n);
        at += n;
        written += static_cast<std::uint32_t>(n);
      }
      return status_byte::ok;
    }
  }
  return status_byte::unsupported;
}

result<bool> request_server::serve(std::uint16_t) {
  if (!requests) return false;
  return requests->serve_all([this](const chain& c) -> result<std::uint32_t> {
    auto req = parse_request(c, capacity_, read_only_);
    std::uint32_t written = 0;
    if (req.status) {
      *req.status = req.error ? req.error_status : execute(req, written);
      written += 1;  // the status byte
    }
    return written;
  });
}

}  // namespace smvm::devices::virtio::blk
