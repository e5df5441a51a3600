#include "calgate/gateway/jobs/worker.hpp"

#include "calgate/core/log.hpp"

namespace calgate::gateway::jobs {

core::Result<bool> Worker::runOnce() {
  auto claimed = queue_.claim(owner_);
  if (!claimed) return std::unexpected(claimed.error());
  if (!*claimed) return false;
  const Job& job = **claimed;
  auto handler = handlers_.find(job.kind);
  core::Result<void> outcome = handler == handlers_.end()
                                   ? core::fail(core::ErrorCode::Invalid, "no handler for job kind " + job.kind)
                                   : handler->second(job);
  if (outcome) {
    if (auto done = queue_.complete(job, owner_); !done) return std::unexpected(done.error());
    core::log::info("job.done", {{"job", job.id}, {"kind", job.kind}, {"worker", owner_}, {"attempt", job.attempts}});
    return true;
  }
  core::log::warn("job.failed", {{"job", job.id},
                                 {"kind", job.kind},
                                 {"worker", owner_},
                                 {"attempt", job.attempts},
                                 {"error", outcome.error().describe()}});
  if (auto failed = queue_.fail(job, owner_, outcome.error()); !failed) return std::unexpected(failed.error());
  return true;
}

}  // namespace calgate::gateway::jobs
