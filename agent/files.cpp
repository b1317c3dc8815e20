#include "agent/files.hpp"

#include "agent/channel.hpp"

#include <cerrno>
#include <charconv>
#include <cstring>

namespace smvm::agent {

namespace {

std::optional<std::uint64_t> number(const records& r, std::string_view key, int base) {
  auto text = find_record(r, key);
  if (!text || text->empty()) return std::nullopt;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n, base);
  if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
  return n;
}

}  // namespace

result<void> write_file(const std::filesystem::path& uds_path, const std::string& guest_path, int source,
                        const file_attributes& attributes, const std::string& name,
                        std::chrono::milliseconds connect_timeout) {
  auto c = channel::open(uds_path, connect_timeout);
  if (!c) return c.error();
  records request{{"path", guest_path},
                  {"mode", fmt::format("{:o}", attributes.mode & 07777)},
                  {"uid", std::to_string(attributes.uid)},
                  {"gid", std::to_string(attributes.gid)},
                  {"name", name}};
  // The agent answers only at the end, or with an ERROR as soon as it
  // cannot write (and closes): a send that fails means it has gone, and
  // its answer says why.
  auto failed_send = [&c](const smvm::error& e) -> smvm::error {
    auto f = c->receive();
    if (f && f->type == SMVM_AGENT_ERROR) return make_error("{}", f->text());
    return e;
  };
  if (auto s = c->send(SMVM_AGENT_WRITE_FILE, request); !s) return failed_send(s.error());
  std::vector<std::uint8_t> buffer(SMVM_AGENT_MAX_PAYLOAD);
  for (;;) {
    const ssize_t n = ::read(source, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("reading what to copy: {}", std::strerror(errno));
    if (n == 0) break;
    if (auto s = c->send(SMVM_AGENT_DATA, {buffer.data(), static_cast<std::size_t>(n)}); !s) return failed_send(s.error());
  }
  if (auto s = c->send(SMVM_AGENT_END); !s) return failed_send(s.error());
  auto f = c->receive();
  if (!f) return f.error();
  if (f->type == SMVM_AGENT_ERROR) return make_error("{}", f->text());
  if (f->type != SMVM_AGENT_OK) return make_error("the guest agent answered a file write with frame 0x{:02x}", f->type);
  return {};
}

result<file_info> read_file(const std::filesystem::path& uds_path, const std::string& guest_path, int sink,
                            std::chrono::milliseconds connect_timeout) {
  auto c = channel::open(uds_path, connect_timeout);
  if (!c) return c.error();
  if (auto s = c->send(SMVM_AGENT_READ_FILE, records{{"path", guest_path}}); !s) return s.error();
  auto head = c->receive();
  if (!head) return head.error();
  if (head->type == SMVM_AGENT_ERROR) return make_error("{}", head->text());
  if (head->type != SMVM_AGENT_FILE) return make_error("the guest agent answered a file read with frame 0x{:02x}", head->type);
  auto info_records = decode_records(head->payload);
  if (!info_records) return make_error("the guest agent's file information: {}", info_records.error().message);
  auto mode = number(*info_records, "mode", 8);
  auto size = number(*info_records, "size", 10);
  if (!mode || !size) return make_error("the guest agent's file information lacks its mode or size");
  file_info info{static_cast<std::uint32_t>(*mode & 07777), *size};
  std::uint64_t got = 0;
  for (;;) {
    auto f = c->receive();
    if (!f) return f.error();
    if (f->type == SMVM_AGENT_ERROR) return make_error("{}", f->text());
    if (f->type == SMVM_AGENT_END) break;
    if (f->type != SMVM_AGENT_DATA) return make_error("the guest agent sent frame 0x{:02x} in a file", f->type);
    got += f->payload.size();
    if (got > info.size)  // a guest that sends on and on fills no disk
      return make_error("{} in the guest grew while it was copied (more than the {} bytes announced)", guest_path, info.size);
    if (auto w = write_all(sink, f->payload, "the copy"); !w) return w.error();
  }
  // A file that changed while it was read gives another length; say so
  // rather than pass a torn copy as whole.
  if (got != info.size)
    return make_error("{} in the guest changed while it was copied ({} bytes announced, {} sent)", guest_path, info.size, got);
  return info;
}

}  // namespace smvm::agent
