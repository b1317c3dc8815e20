#include "actors/messages.hpp"

#include <thread>

namespace smvm::actors {

void configure(caf::actor_system_config& config) {
  config.add_message_types<caf::id_block::smvm>();
  // Polling less before sleeping costs a little CPU and takes a thread to
  // actor hop from about 90 to about 20 microseconds here.
  config.set("work-stealing.moderate-poll-attempts", 0);
  config.set("scheduler.max-threads", std::max(2u, std::thread::hardware_concurrency()));
}

std::string error_text(const caf::error& e) {
  const auto& context = e.context();
  if (context.match_elements<std::string>()) return context.get_as<std::string>(0);
  if (e == caf::sec::request_timeout) return "no answer in time";
  return caf::to_string(e);
}

}  // namespace smvm::actors

namespace smvm::actors {

bool frame_credit::take(std::size_t bytes) {
  const std::size_t cost = bytes + overhead;
  if (used_.fetch_add(cost) + cost > limit_) {
    used_.fetch_sub(cost);
    dropped_.fetch_add(1);
    return false;
  }
  return true;
}

}  // namespace smvm::actors
