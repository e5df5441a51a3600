#include "calgate/sync/worker.hpp"

#include "calgate/core/log.hpp"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace calgate::sync {

core::Result<bool> Worker::runOnce() {
  auto claimed = queue_.claim(owner_);
  if (!claimed) return std::unexpected(claimed.error());
  if (!*claimed) return false;
  const Job& job = **claimed;
  auto handler = handlers_.find(job.kind);
  core::Result<void> outcome;
  {
    // Heartbeat: a run longer than the lease keeps it, so no other worker starts the same job.
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    std::thread heartbeat([&] {
      const auto every = std::max(std::chrono::seconds(1), queue_.lease() / 3);
      std::unique_lock lock(mutex);
      while (!done.wait_for(lock, every, [&] { return finished; })) {
        if (auto renewed = queue_.renew(job, owner_); !renewed) {
          core::log::warn("job.lease_lost", {{"job", job.id}, {"worker", owner_}, {"error", renewed.error().describe()}});
        }
      }
    });
    outcome = handler == handlers_.end() ? core::fail(core::ErrorCode::Invalid, "no handler for job kind " + job.kind)
                                         : handler->second(job);
    {
      std::lock_guard lock(mutex);
      finished = true;
    }
    done.notify_all();
    heartbeat.join();
  }
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

}  // namespace calgate::sync
