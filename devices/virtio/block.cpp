#include "devices/virtio/block.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

namespace smvm::devices::virtio {

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

result<std::unique_ptr<block>> block::open(const memory_view& memory, const std::string& path, bool read_only) {
  int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return make_error("cannot open disk {}: {}", path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return make_error("disk {} is not a regular file", path);
  }
  if (st.st_size % block_sector_size) {
    ::close(fd);
    return make_error("disk {} is {} bytes, not a whole number of 512-byte sectors", path, st.st_size);
  }
  std::string serial = "smvm-" + std::to_string(st.st_ino);
  return std::unique_ptr<block>(
    new block(memory, fd, static_cast<std::uint64_t>(st.st_size) / block_sector_size, read_only, serial));
}

block::block(const memory_view& memory, int fd, std::uint64_t capacity, bool read_only, std::string id)
    : memory_(memory), fd_(fd), capacity_(capacity), read_only_(read_only) {
  std::memcpy(config_.data(), &capacity_, sizeof capacity_);
  // seg_max: a request may have as many data buffers as a chain can hold
  // (less the header and the status); without it Linux sends one each.
  const std::uint32_t seg_max = max_queue_size - 2;
  std::memcpy(config_.data() + 12, &seg_max, sizeof seg_max);
  std::memcpy(serial_.data(), id.data(), std::min(id.size(), serial_.size()));
}

block::~block() { ::close(fd_); }

std::uint64_t block::device_features() const {
  return feature::ring_event_idx | feature::ring_indirect_desc | block_feature::flush | block_feature::seg_max |
         (read_only_ ? block_feature::read_only : 0);
}

result<void> block::activate(std::uint64_t features, const std::vector<queue_config>& queues) {
  auto q = queue::create_live(memory_, queues, 0, features & feature::ring_event_idx, "virtio-blk requests");
  if (!q) return q.error();
  queue_ = std::move(*q);
  return {};
}

std::uint8_t block::execute(const block_request& r, std::uint32_t& written) {
  const std::uint64_t offset = r.sector * block_sector_size;
  switch (r.op) {
    case block_op::read:
      if (!transfer(fd_, r.data, offset, false)) return block_status::io_error;
      written += static_cast<std::uint32_t>(r.data_bytes);
      return block_status::ok;
    case block_op::write:
      return transfer(fd_, r.data, offset, true) ? block_status::ok : block_status::io_error;
    case block_op::flush:
      return ::fdatasync(fd_) == 0 ? block_status::ok : block_status::io_error;
    case block_op::get_id: {
      std::size_t at = 0;
      for (auto& span : r.data) {
        std::size_t n = std::min(span.size(), serial_.size() - at);
        std::memcpy(span.data(), serial_.data() + at, n);
        at += n;
        written += static_cast<std::uint32_t>(n);
      }
      return block_status::ok;
    }
  }
  return block_status::unsupported;
}

result<bool> block::process() {
  if (!queue_) return false;
  return queue_->serve_all([this](const chain& c) -> result<std::uint32_t> {
    auto request = parse_block_request(c, capacity_, read_only_);
    std::uint32_t written = 0;
    if (request.status) {
      *request.status = request.error ? request.error_status : execute(request, written);
      written += 1;  // the status byte
    }
    return written;
  });
}

}  // namespace smvm::devices::virtio
