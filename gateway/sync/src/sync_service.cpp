#include "calgate/sync/sync_service.hpp"

#include "calgate/accounts/user_erasure.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/audit/checkpoints.hpp"

#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/provider_registry.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/core/log.hpp"
#include "calgate/store/change_listener.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/push_channels.hpp"
#include "calgate/sync/push_maintainer.hpp"
#include "calgate/sync/worker.hpp"
#include "pair_read.hpp"

#include <sstream>

namespace calgate::sync {

using core::ErrorCode;

namespace {

class VaultProviderFactory final : public ProviderFactory {
 public:
  VaultProviderFactory(accounts::AccountStore& accounts, const accounts::ProviderRegistry& registry,
                       accounts::ProviderEnvironment environment)
      : accounts_(accounts), registry_(registry), environment_(environment) {}

  core::Result<std::unique_ptr<providers::Provider>> open(const CalendarRef& calendar, Deadline deadline) override {
    // refused before the credential is opened
    if (auto ok = registry_.require(calendar.provider); !ok) return std::unexpected(ok.error());
    auto account = accounts_.get(calendar.accountId);
    if (!account) return std::unexpected(account.error());
    auto secret = accounts_.credential(calendar.accountId);
    if (!secret) return std::unexpected(secret.error());
    accounts::ProviderEnvironment environment = environment_;
    environment.deadline = deadline;
    return registry_.open(*account, *secret, environment);
  }

 private:
  accounts::AccountStore& accounts_;
  const accounts::ProviderRegistry& registry_;
  accounts::ProviderEnvironment environment_;
};

}  // namespace

std::unique_ptr<ProviderFactory> makeVaultProviderFactory(accounts::AccountStore& accounts,
                                                          const accounts::ProviderRegistry& registry,
                                                          const accounts::ProviderEnvironment& environment) {
  return std::make_unique<VaultProviderFactory>(accounts, registry, environment);
}

core::Result<void> scheduleRemovalWithCopies(store::Database& db, const core::Clock& clock, const std::string& pairId,
                                             JobSignal* signal) {
  PairChange stop;
  stop.enabled = false;
  if (auto stopped = PairStore(db, clock).change(pairId, stop); !stopped) return std::unexpected(stopped.error());
  QueueOptions options;
  options.signal = signal;
  auto queued = JobQueue(db, clock, options).enqueue("remove_pair", pairId, "remove:" + pairId);
  if (!queued) return std::unexpected(queued.error());
  return {};
}

std::string SyncCounters::render(const sync::QueueStats& queue) {
  std::lock_guard lock(mutex);
  std::ostringstream out;
  out << "# HELP calgate_sync_writes_total Writes to providers by provider and action.\n"
         "# TYPE calgate_sync_writes_total counter\n";
  for (const auto& [key, n] : writes) {
    out << "calgate_sync_writes_total{provider=\"" << key.first << "\",action=\"" << key.second << "\"} " << n << "\n";
  }
  out << "# HELP calgate_sync_runs_total Pair sync runs (pull and writes) and how many failed.\n"
         "# TYPE calgate_sync_runs_total counter\n"
      << "calgate_sync_runs_total{outcome=\"ok\"} " << runs - failures << "\n"
      << "calgate_sync_runs_total{outcome=\"error\"} " << failures << "\n"
      << "# HELP calgate_sync_run_seconds_total Time spent in pair sync runs (pull to last write).\n"
         "# TYPE calgate_sync_run_seconds_total counter\n"
      << "calgate_sync_run_seconds_total " << runSecondsTotal << "\n"
      << "# HELP calgate_sync_pull_seconds Time spent pulling calendars (both sides of a pair per run).\n"
         "# TYPE calgate_sync_pull_seconds summary\n"
      << "calgate_sync_pull_seconds_sum " << pullSecondsTotal << "\n"
      << "calgate_sync_pull_seconds_count " << pulls << "\n"
      << "# HELP calgate_jobs Jobs in the queue by state.\n# TYPE calgate_jobs gauge\n"
      << "calgate_jobs{state=\"queued\"} " << queue.queued << "\n"
      << "calgate_jobs{state=\"running\"} " << queue.running << "\n"
      << "calgate_jobs{state=\"dead\"} " << queue.dead << "\n"
      << "# HELP calgate_jobs_oldest_age_seconds How long the oldest due job has waited.\n"
         "# TYPE calgate_jobs_oldest_age_seconds gauge\n"
      << "calgate_jobs_oldest_age_seconds " << queue.oldestQueuedAgeSeconds << "\n"
      << "# HELP calgate_pairs_quarantined Pairs set aside after their job kept stopping its worker.\n"
         "# TYPE calgate_pairs_quarantined gauge\n"
      << "calgate_pairs_quarantined " << queue.quarantinedPairs << "\n";
  return out.str();
}

namespace {

QueueOptions queueOptions(const SyncConfig& config, JobSignal& signal) {
  QueueOptions options;
  options.lease = config.lease;
  options.signal = &signal;
  return options;
}

}  // namespace

SyncService::SyncService(store::Database& db, policy::OrgPolicySource& orgs, ProviderFactory& providers, const core::Clock& clock,
                         SyncConfig config, ProcessIdentity identity)
    : db_(db),
      orgs_(orgs),
      providers_(providers),
      clock_(clock),
      config_(config),
      identity_(std::move(identity)),
      queue_(db, clock, queueOptions(config, signal_)) {}

SyncService::~SyncService() { stop(); }

void SyncService::start() {
  // A restart after a crash: the jobs the dead predecessor held run now, not when their lease ends.
  auto reclaimed = queue_.reclaim([this](const std::string& owner) { return identity_.isDeadPredecessor(owner); });
  if (!reclaimed) core::log::warn("jobs.reclaim_failed", {{"error", reclaimed.error().describe()}});
  else if (*reclaimed > 0) core::log::warn("jobs.reclaimed", {{"jobs", static_cast<long long>(*reclaimed)}});
  // The first round of jobs is queued before any worker runs: a reclaimed job then stands for its
  // pair's request (JobQueue::enqueue) instead of a twin that would run the pair a second time.
  if (auto added = schedule(); !added) core::log::warn("jobs.schedule_failed", {{"error", added.error().describe()}});
  threads_.emplace_back([this] { schedulerLoop(); });
  if (config_.workers == 0) return;
  threads_.emplace_back([this] { listenerLoop(); });
  for (unsigned i = 0; i < config_.workers; ++i) threads_.emplace_back([this, i] { workerLoop(i); });
}

void SyncService::stop() {
  stopping_ = true;
  wake_.notify_all();
  signal_.notify();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

core::Result<std::size_t> SyncService::schedule() {
  PairStore pairs(db_, clock_);
  auto runnable = pairs.listRunnable();
  if (!runnable) return std::unexpected(runnable.error());
  auto pushed = pushedCalendars();
  if (!pushed) return std::unexpected(pushed.error());
  const long long safetyCutoff = clock_.nowUnixSeconds() - config_.safetyPollInterval.count();
  std::vector<JobQueue::PairRequest> due;
  for (const auto& p : *runnable) {
    // calendars that notify their changes are polled only for safety
    const bool notified = pushed->count(p.sourceCalendarId) &&
                          (p.direction == Direction::OneWay || pushed->count(p.targetCalendarId));
    if (notified && p.lastSuccessAt && *p.lastSuccessAt > safetyCutoff) continue;
    due.push_back({p.id, "sync:" + p.id});
  }
  auto added = queue_.enqueueAll("sync_pair", due);
  if (!added) return std::unexpected(added.error());
  auto purge = queue_.enqueue("purge", "", "purge");
  if (!purge) return std::unexpected(purge.error());
  if (!config_.pushBaseUrl.empty()) {
    auto maintain = queue_.enqueue("push_maintain", "", "push");
    if (!maintain) return std::unexpected(maintain.error());
  }
  return *added;
}

// Calendars with an open push channel (none when push is off).
core::Result<std::set<std::string>> SyncService::pushedCalendars() {
  std::set<std::string> out;
  if (config_.pushBaseUrl.empty()) return out;
  auto channels = PushChannelStore(db_, clock_).all();
  if (!channels) return std::unexpected(channels.error());
  const long long now = clock_.nowUnixSeconds();
  for (const auto& c : *channels) {
    if (c.active && c.expiresAt > now) out.insert(c.calendarId);
  }
  return out;
}

core::Result<void> SyncService::maintainPush() {
  PushMaintainer maintainer(db_, clock_, providers_, {config_.pushBaseUrl});
  maintainer.setObserver([this](std::string_view provider, std::string_view action, bool ok) {
    push_.upkeep(provider, action, ok);
  });
  auto round = maintainer.maintain();
  if (!round) return std::unexpected(round.error());
  if (round->busy) {
    // another round runs (maybe in another process) and may have started before this was asked for
    auto again = queue_.enqueue("push_maintain", "", "push", std::chrono::seconds(5));
    if (!again) return std::unexpected(again.error());
    return {};
  }
  if (round->opened + round->renewed + round->reauthorized + round->stopped + round->forgotten + round->failed > 0) {
    core::log::info("push.maintained", {{"opened", round->opened},
                                        {"renewed", round->renewed},
                                        {"reauthorized", round->reauthorized},
                                        {"stopped", round->stopped},
                                        {"forgotten", round->forgotten},
                                        {"failed", round->failed}});
  }
  return {};
}

namespace {

// A run's progress in its lease row, for the pair's status: each step at once, writes at most once
// a second and the last one (a write is a provider round trip; the row must not cost another).
class ProgressReport {
 public:
  ProgressReport(JobQueue& queue, const Job& job) : queue_(queue), job_(job) {}
  void step(std::string_view step, std::size_t planned) {
    progress_.step = std::string(step);
    progress_.planned = static_cast<long long>(planned);
    progress_.written = 0;
    send();
  }
  void wrote() {
    ++progress_.written;
    if (progress_.written >= progress_.planned || std::chrono::steady_clock::now() - sent_ >= std::chrono::seconds(1)) send();
  }

 private:
  void send() {
    sent_ = std::chrono::steady_clock::now();
    if (auto ok = queue_.progress(job_, progress_); !ok) {
      core::log::warn("sync.progress_not_recorded", {{"pair", job_.pairId}, {"error", ok.error().describe()}});
    }
  }
  JobQueue& queue_;
  const Job& job_;
  RunProgress progress_;
  std::chrono::steady_clock::time_point sent_{};
};

}  // namespace

// Retention: soft-deleted mappings, erasure records and (with the audit key, after a checkpoint
// anchors what remains) audit entries past their periods; and the audit head signed hourly.
core::Result<void> SyncService::purge() {
  const long long now = clock_.nowUnixSeconds();
  auto mappings = MappingStore(db_, clock_).purgeDeletedBefore(now - static_cast<long long>(config_.mappingRetentionDays) * 86400);
  if (!mappings) return std::unexpected(mappings.error());
  auto records = accounts::purgeDeletionRecords(db_, now - static_cast<long long>(config_.deletionRecordsDays) * 86400);
  if (!records) return std::unexpected(records.error());
  auto tokens = accounts::UserStore(db_, clock_).purgeRevokedTokens(now - static_cast<long long>(config_.revokedDays) * 86400);
  if (!tokens) return std::unexpected(tokens.error());
  auto more = retention_ ? retention_(now) : core::Result<std::size_t>(0);
  if (!more) return std::unexpected(more.error());
  std::size_t entries = 0;
  if (auditKey_) {
    audit::AuditLog log(db_, clock_);
    auto purged = log.purgeBefore(now - static_cast<long long>(config_.auditRetentionDays) * 86400, *auditKey_);
    if (!purged) return std::unexpected(purged.error());
    entries = *purged;
    if (auto signedHead = audit::Checkpoints(db_, clock_, *auditKey_).signHead(3600); !signedHead) {
      return std::unexpected(signedHead.error());
    }
  }
  core::log::info("sync.purged", {{"mappings", *mappings},
                                  {"deletion_records", *records},
                                  {"revoked_tokens", *tokens},
                                  {"other_rows", *more},
                                  {"audit_entries", entries}});
  return {};
}

core::Result<void> SyncService::handle(const sync::Job& job) {
  if (job.kind == "purge") return purge();
  if (job.kind == "remove_pair") return removePair(job);
  if (job.kind == "push_maintain") return maintainPush();
  if (job.kind != "sync_pair") return core::fail(ErrorCode::Invalid, "unknown job kind " + job.kind);
  PairStore pairs(db_, clock_);
  auto opened = openPair(job);
  if (!opened) return opened.error().code == ErrorCode::NotFound ? core::Result<void>{} : std::unexpected(opened.error());
  auto& [pair, sp, tp, sourceCalendar, targetCalendar] = *opened;

  SyncEngine engine(db_, orgs_, clock_, engineOptions());
  engine.sharePulls(&pulls_, job.requestedAtMs);
  ProgressReport progress(queue_, job);
  engine.setProgressObserver([&progress](std::string_view step, std::size_t planned) { progress.step(step, planned); });
  engine.setWriteObserver([this, &progress](std::string_view provider, std::string_view action) {
    progress.wrote();
    std::lock_guard lock(counters_.mutex);
    ++counters_.writes[{std::string(provider), std::string(action)}];
  });
  const auto started = std::chrono::steady_clock::now();
  auto report = engine.syncPair(pair, sourceCalendar, targetCalendar, *sp, *tp, [this, &job] { return queue_.check(job); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  {
    std::lock_guard lock(counters_.mutex);
    ++counters_.runs;
    counters_.runSecondsTotal += seconds;
    if (report) {
      ++counters_.pulls;
      counters_.pullSecondsTotal += report->pullSeconds;
    }
    if (!report) ++counters_.failures;
  }
  if (!report) {
    // a run that lost its pair says nothing about the pair: the run that has it now does
    if (report.error().cause != core::Cause::LeaseLost) (void)pairs.recordFailure(pair.id, report.error());
    return std::unexpected(report.error());
  }
  core::log::info("sync.pair_done", {{"pair", pair.id},
                                     {"created", report->created},
                                     {"updated", report->updated},
                                     {"deleted", report->deleted},
                                     {"restored", report->restored},
                                     {"unchanged", report->unchanged},
                                     {"paused", report->paused},
                                     {"seconds", seconds}});
  if (job.notifiedAtMs && report->created + report->updated + report->deleted + report->restored > 0) {
    // the change a notification announced is written: how long since it arrived
    const long long now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
    push_.written(static_cast<double>(now - *job.notifiedAtMs) / 1000.0);
  }
  if (lacksPush(pair, *sp, *tp)) requestPushUpkeep();
  return {};
}

// Whether a calendar the pair reads could notify its changes but has no channel yet (a new pair,
// or an open that failed): then the channels' upkeep runs now, not at the next scheduler tick.
bool SyncService::lacksPush(const SyncPair& pair, const providers::Provider& source, const providers::Provider& target) {
  if (config_.pushBaseUrl.empty()) return false;
  PushChannelStore store(db_, clock_);
  auto lacks = [&](const providers::Provider& p, const std::string& calendarId) {
    if (p.kind() != model::ProviderKind::Google && p.kind() != model::ProviderKind::Microsoft) return false;
    auto push = store.ofCalendar(calendarId);
    // a calendar whose provider refused a channel waits for its retry time, not for every sync
    return push && !push->notifiedUntil && !(push->refusal && push->refusal->retryAt > clock_.nowUnixSeconds());
  };
  return lacks(source, pair.sourceCalendarId) || (pair.direction == Direction::TwoWay && lacks(target, pair.targetCalendarId));
}

void SyncService::requestPushUpkeep() {
  if (config_.pushBaseUrl.empty()) return;
  if (auto queued = queue_.enqueue("push_maintain", "", "push"); !queued) {
    core::log::warn("push.upkeep_not_queued", {{"error", queued.error().describe()}});
  }
}

core::Result<SyncService::OpenedPair> SyncService::openPair(const sync::Job& job) {
  auto read = detail::readPair(db_, clock_, job.pairId);
  if (!read) return std::unexpected(read.error());
  // the run's wall-time budget: every request of both adapters must be over by then
  const auto deadline = std::chrono::steady_clock::now() + config_.runBudget;
  auto sp = providers_.open(read->source, deadline);
  if (!sp) return std::unexpected(sp.error());
  auto tp = providers_.open(read->target, deadline);
  if (!tp) return std::unexpected(tp.error());
  return OpenedPair{std::move(read->pair), std::move(*sp), std::move(*tp), std::move(read->source),
                    std::move(read->target)};
}

// A pair deleted with its copies: the copies first (each approved and audited), then the pair.
core::Result<void> SyncService::removePair(const sync::Job& job) {
  PairStore pairs(db_, clock_);
  auto opened = openPair(job);
  if (!opened) return opened.error().code == ErrorCode::NotFound ? core::Result<void>{} : std::unexpected(opened.error());
  auto& [pair, sp, tp, sourceCalendar, targetCalendar] = *opened;
  SyncEngine engine(db_, orgs_, clock_, engineOptions());
  auto removed = engine.removeCopies(pair.id, *sp, *tp, [this, &job] { return queue_.check(job); });
  if (!removed) return std::unexpected(removed.error());
  if (auto ok = pairs.remove(pair.id); !ok) return ok;  // its jobs (this one too) go with it
  audit::AuditEntry e;
  e.userId = pair.userId;
  e.action = "pair.delete";
  e.objectRef = "pair/" + pair.id;
  e.decision = "deleted";
  e.facts = {{"copies_deleted", std::to_string(removed->removed)}, {"copies_failed", std::to_string(removed->failed)}};
  if (auto ok = audit::AuditLog(db_, clock_).append(e); !ok) return ok;
  requestPushUpkeep();  // channels no pair needs any more are stopped now
  return {};
}

std::string SyncService::renderMetrics() {
  auto stats = queue_.stats();
  std::string out = counters_.render(stats ? *stats : sync::QueueStats{});
  out += "# HELP calgate_sync_calendar_pulls_total Calendar pulls runs sent, and those served by another pair's pull "
         "of the same calendar.\n# TYPE calgate_sync_calendar_pulls_total counter\n"
         "calgate_sync_calendar_pulls_total{served=\"sent\"} " + std::to_string(pulls_.sent()) + "\n"
         "calgate_sync_calendar_pulls_total{served=\"shared\"} " + std::to_string(pulls_.shared()) + "\n";
  out += push_.render();
  out += "# HELP calgate_push_channels Live push channels (all processes), by provider.\n";
  out += "# TYPE calgate_push_channels gauge\n";
  if (auto live = PushChannelStore(db_, clock_).liveByProvider()) {
    for (const auto& [provider, n] : *live) {
      out += "calgate_push_channels{provider=\"" + provider + "\"} " + std::to_string(n) + "\n";
    }
  }
  return out;
}

void SyncService::workerLoop(unsigned index) {
  sync::Worker worker(queue_, identity_.owner() + "#" + std::to_string(index));
  worker.on("sync_pair", [this](const sync::Job& j) { return handle(j); });
  worker.on("purge", [this](const sync::Job& j) { return handle(j); });
  worker.on("remove_pair", [this](const sync::Job& j) { return handle(j); });
  worker.on("push_maintain", [this](const sync::Job& j) { return handle(j); });
  while (!stopping_) {
    const auto seen = signal_.seen();  // before looking: a job queued after the look still wakes us
    auto ran = worker.runOnce();
    if (!ran) core::log::warn("jobs.worker_error", {{"worker", worker.owner()}, {"error", ran.error().describe()}});
    if (ran && *ran) continue;
    signal_.waitPast(seen, std::chrono::seconds(1));
  }
}

// Jobs queued by other processes (another `calgate serve` on the same PostgreSQL, an admin
// command): the listener's announcement wakes this process's workers.
void SyncService::listenerLoop() {
  std::unique_ptr<store::ChangeListener> listener;
  while (!stopping_) {
    if (!listener) {
      auto opened = store::ChangeListener::open(db_, kJobsChannel);
      if (!opened) {
        // in-memory SQLite has nobody else to hear; a broken server: try again later
        if (opened.error().code == ErrorCode::Invalid) return;
        core::log::warn("jobs.listener_failed", {{"error", opened.error().describe()}});
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_.load(); });
        continue;
      }
      listener = std::move(*opened);
    }
    auto heard = listener->wait(std::chrono::milliseconds(250));
    if (!heard) {
      listener.reset();
      continue;
    }
    // SQLite announces every commit of another connection: wake the workers only for a job
    if (*heard && (db_.dialect() == store::Dialect::Postgresql || queue_.hasRunnable().value_or(true))) {
      signal_.notify();
    }
  }
}

void SyncService::schedulerLoop() {
  // start() queued the first round
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, config_.pollInterval, [this] { return stopping_.load(); });
    }
    if (stopping_) return;
    if (auto added = schedule(); !added) {
      core::log::warn("jobs.schedule_failed", {{"error", added.error().describe()}});
    }
  }
}

}  // namespace calgate::sync
