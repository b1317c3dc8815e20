#pragma once
// Files into and out of a VM through its guest agent (smvm cp,
// smvm::vm::write_file and read_file).

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace smvm::agent {

struct file_attributes {
  std::uint32_t mode = 0644;
  std::uint32_t uid = 0, gid = 0;
};

/// Writes everything `source` gives until its end to `guest_path`; when
/// that is a folder, to `name` in it. The guest sees the whole file or none.
result<void> write_file(const std::filesystem::path& uds_path, const std::string& guest_path, int source,
                        const file_attributes& attributes, const std::string& name,
                        std::chrono::milliseconds connect_timeout);

struct file_info {
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
};

/// Writes the guest's regular file `guest_path` to `sink`; an error when
/// the guest sends other than what it announced.
result<file_info> read_file(const std::filesystem::path& uds_path, const std::string& guest_path, int sink,
                            std::chrono::milliseconds connect_timeout);

}  // namespace smvm::agent
