#pragma once
/// Runs jobs from the queue: claims one, hands it to the handler for its kind, and completes or
/// fails it (retry with backoff, honouring Retry-After). Many workers, in one or several
/// processes, may share a PostgreSQL queue.

#include "calgate/sync/job_queue.hpp"

#include <functional>
#include <map>
#include <string>

namespace calgate::sync {

class Worker {
 public:
  using Handler = std::function<core::Result<void>(const Job&)>;
  Worker(JobQueue& queue, std::string owner) : queue_(queue), owner_(std::move(owner)) {}
  void on(const std::string& kind, Handler handler) { handlers_[kind] = std::move(handler); }
  /// Claims and runs one due job. False when none was due.
  core::Result<bool> runOnce();
  const std::string& owner() const { return owner_; }

 private:
  JobQueue& queue_;
  std::string owner_;
  std::map<std::string, Handler> handlers_;
};

}  // namespace calgate::sync
