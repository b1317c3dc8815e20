#include "snapshot/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace smvm::snapshot {

namespace fs = std::filesystem;

file_io file_io::system() {
  return {[](int fd, const void* data, std::size_t length) { return ::write(fd, data, length); },
          [](int fd) { return ::fsync(fd); }};
}

result<atomic_file> atomic_file::create(fs::path final_path, file_io io) {
  atomic_file file;
  file.final_path_ = std::move(final_path);
  const auto folder = file.final_path_.has_parent_path() ? file.final_path_.parent_path() : fs::path(".");
  std::string pattern = (folder / ("." + file.final_path_.filename().string() + ".tmp.XXXXXX")).string();
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) return make_error("{}: cannot create a file in {}: {}", file.final_path_.string(), folder.string(), std::strerror(errno));
  file.fd_ = unique_fd(fd);
  file.temp_path_ = pattern;
  file.io_ = std::move(io);
  return file;
}

atomic_file::atomic_file(atomic_file&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::move(other.fd_)),
      append_at_(other.append_at_),
      io_(std::move(other.io_)),
      committed_(std::exchange(other.committed_, true)) {}

atomic_file::~atomic_file() {
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

result<void> atomic_file::write(std::span<const std::uint8_t> bytes) {
  if (auto r = write_all(append_at_, bytes); !r) return r;
  append_at_ += bytes.size();
  return {};
}

result<void> atomic_file::write_at(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  return write_all(offset, bytes);
}

result<void> atomic_file::write_all(std::uint64_t offset, std::span<const std::uint8_t> bytes) {
  if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
    return make_error("{}: seek: {}", final_path_.string(), std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = io_.write(fd_.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return make_error("{}: writing: {}", final_path_.string(), n < 0 ? std::strerror(errno) : "no progress");
    done += static_cast<std::size_t>(n);
  }
  return {};
}

result<void> atomic_file::set_length(std::uint64_t length) {
  if (::ftruncate(fd_.get(), static_cast<off_t>(length)) != 0)
    return make_error("{}: setting the length to {} bytes: {}", final_path_.string(), length, std::strerror(errno));
  return {};
}

result<void> atomic_file::commit() {
  if (io_.fsync(fd_.get()) != 0) return make_error("{}: fsync: {}", final_path_.string(), std::strerror(errno));
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
    return make_error("{}: renaming {} onto it: {}", final_path_.string(), temp_path_.string(), std::strerror(errno));
  committed_ = true;
  // The rename is durable once the folder is: fsync it too.
  const auto folder = final_path_.has_parent_path() ? final_path_.parent_path() : fs::path(".");
  unique_fd dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || io_.fsync(dir.get()) != 0)
    return make_error("{}: fsync of the folder {}: {}", final_path_.string(), folder.string(), std::strerror(errno));
  return {};
}

}  // namespace smvm::snapshot
