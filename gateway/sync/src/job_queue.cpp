#include "calgate/sync/job_queue.hpp"

#include "calgate/audit/audit_log.hpp"
#include "calgate/core/ids.hpp"
#include "calgate/core/log.hpp"
#include "calgate/sync/job_signal.hpp"
#include "calgate/store/change_listener.hpp"
#include "calgate/store/row_values.hpp"
#include "calgate/store/statement_cache.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>

namespace calgate::sync {

using core::ErrorCode;

JobQueue::JobQueue(store::Database& db, const core::Clock& clock, QueueOptions options)
    : db_(db), clock_(clock), options_(options) {}

core::Result<bool> JobQueue::enqueue(const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                                     std::chrono::seconds delay) {
  return insert(kind, pairId, coalesceKey, delay, std::nullopt);
}

core::Result<bool> JobQueue::enqueueNotified(const std::string& kind, const std::string& pairId,
                                             const std::string& coalesceKey, long long notifiedAtMs) {
  return insert(kind, pairId, coalesceKey, std::chrono::seconds(0), notifiedAtMs);
}

namespace {

// A request joins the queued job of its key (its requested_at_ms moves on); false when none is queued.
bool joinQueued(soci::session& sql, const std::string& key, long long nowMs) {
  soci::statement st = (sql.prepare << "UPDATE jobs SET requested_at_ms = :r WHERE coalesce_key = :k AND state = 'queued'",
                        soci::use(nowMs), soci::use(key));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

}  // namespace

namespace {

// One request, inside the caller's session: a new queued job (true), or joined to the queued (or
// dead worker's) job of its key (false).
bool insertWithin(soci::session& sql, const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                  std::chrono::seconds delay, std::optional<long long> notifiedAtMs, int maxAttempts, long long now,
                  long long nowMs) {
  const long long runAt = now + delay.count();
  const std::string id = core::newId("job");
  soci::indicator pairInd = pairId.empty() ? soci::i_null : soci::i_ok;
  soci::indicator keyInd = coalesceKey.empty() ? soci::i_null : soci::i_ok;
  long long notified = notifiedAtMs.value_or(0);
  soci::indicator notifiedInd = notifiedAtMs ? soci::i_ok : soci::i_null;
  // the job this request joins (a dead worker's that runs again from the start, or the queued
  // one) serves this notification too; it keeps the earliest one's time
  const bool notifies = notifiedAtMs && !coalesceKey.empty();
  if (!coalesceKey.empty()) {
    // A job of the same key whose worker died (lease run out or reclaimed) runs again from the
    // start anyway: it is the request (a twin beside it would be a second run, or be left behind).
    long long orphans = 0;
    sql << "SELECT COUNT(*) FROM jobs WHERE coalesce_key = :k AND state = 'running' AND lease_expires_at < :n",
        soci::into(orphans), soci::use(coalesceKey), soci::use(now);
    if (orphans > 0) {
      sql << "UPDATE jobs SET requested_at_ms = :r WHERE coalesce_key = :k AND state = 'running' AND "
             "lease_expires_at < :n",
          soci::use(nowMs), soci::use(coalesceKey), soci::use(now);
      if (notifies) {
        sql << "UPDATE jobs SET notified_at = :t WHERE coalesce_key = :k AND notified_at IS NULL AND state = 'running' "
               "AND lease_expires_at < :n",
            soci::use(notified), soci::use(coalesceKey), soci::use(now);
      }
      return false;
    }
  }
  // the partial unique index on queued coalesce keys makes a duplicate request a no-op
  soci::statement st =
      (sql.prepare << "INSERT INTO jobs (id, kind, pair_id, coalesce_key, state, run_at, max_attempts, created_at, "
                      "updated_at, notified_at, requested_at_ms) VALUES (:i, :k, :p, :c, 'queued', :r, :m, :n, :u, :t, "
                      ":q) ON CONFLICT DO NOTHING",
       soci::use(id), soci::use(kind), soci::use(pairId, pairInd), soci::use(coalesceKey, keyInd), soci::use(runAt),
       soci::use(maxAttempts), soci::use(now), soci::use(now), soci::use(notified, notifiedInd),
       soci::use(nowMs));
  st.execute(true);
  bool added = st.get_affected_rows() > 0;
  // The queued job serves this request too: a pull it may share must have begun after it. A
  // worker may have taken that job between the two statements: then this request is queued anew.
  if (!added && !coalesceKey.empty() && !joinQueued(sql, coalesceKey, nowMs)) {
    st.execute(true);
    added = st.get_affected_rows() > 0;
  }
  if (!added && notifies) {
    sql << "UPDATE jobs SET notified_at = :t WHERE coalesce_key = :k AND notified_at IS NULL AND state = 'queued'",
        soci::use(notified), soci::use(coalesceKey);
  }
  return added;
}

}  // namespace

core::Result<bool> JobQueue::insert(const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                                    std::chrono::seconds delay, std::optional<long long> notifiedAtMs) {
  if (kind.empty() || kind.size() > 64) return core::fail(ErrorCode::Invalid, "job kind must be 1 to 64 bytes");
  if (options_.maxAttempts < 1) return core::fail(ErrorCode::Invalid, "a job needs at least one attempt");
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    const long long nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
    const bool added = insertWithin(sql, kind, pairId, coalesceKey, delay, notifiedAtMs, options_.maxAttempts,
                                    clock_.nowUnixSeconds(), nowMs);
    if (added && delay.count() == 0) wake(sql);
    return added;
  });
}

core::Result<std::size_t> JobQueue::enqueueAll(const std::string& kind, const std::vector<PairRequest>& requests) {
  if (kind.empty() || kind.size() > 64) return core::fail(ErrorCode::Invalid, "job kind must be 1 to 64 bytes");
  if (options_.maxAttempts < 1) return core::fail(ErrorCode::Invalid, "a job needs at least one attempt");
  constexpr std::size_t kPerCommit = 500;
  std::size_t added = 0;
  for (std::size_t from = 0; from < requests.size(); from += kPerCommit) {
    auto batch = db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
      store::WriteTransaction tx(sql, db_.dialect());
      long long now = clock_.nowUnixSeconds();
      long long nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch()).count();
      std::string id, pairId, key;
      int attempts = options_.maxAttempts;
      // Two statements prepared once per commit: a request joins the job of its key that is queued
      // or a dead worker's (its request time moves on), else it is queued (insert()'s rules).
      soci::statement join = (sql.prepare << "UPDATE jobs SET requested_at_ms = :r WHERE coalesce_key = :k AND "
                                             "(state = 'queued' OR (state = 'running' AND lease_expires_at < :n))",
                              soci::use(nowMs), soci::use(key), soci::use(now));
      soci::statement insert =
          (sql.prepare << "INSERT INTO jobs (id, kind, pair_id, coalesce_key, state, run_at, max_attempts, created_at, "
                          "updated_at, requested_at_ms) VALUES (:i, :k, :p, :c, 'queued', :r, :m, :n, :u, :q) "
                          "ON CONFLICT DO NOTHING",
           soci::use(id), soci::use(kind), soci::use(pairId), soci::use(key), soci::use(now), soci::use(attempts),
           soci::use(now), soci::use(now), soci::use(nowMs));
      std::size_t n = 0;
      for (std::size_t i = from; i < std::min(requests.size(), from + kPerCommit); ++i) {
        pairId = requests[i].pairId;
        key = requests[i].coalesceKey;
        join.execute(true);
        if (join.get_affected_rows() > 0) continue;
        id = core::newId("job");
        insert.execute(true);
        n += insert.get_affected_rows() > 0 ? 1 : 0;
      }
      if (n > 0) wake(sql);
      tx.commit();
      return n;
    });
    if (!batch) return std::unexpected(batch.error());
    added += *batch;
  }
  return added;
}

namespace {

// A job a worker may take now: due, or its worker died (lease expired); never one of a pair
// whose run holds its lease, or of a quarantined pair. Binds the current time three times.
constexpr const char* kRunnable =
    "((j.state = 'queued' AND j.run_at <= :n1) OR (j.state = 'running' AND j.lease_expires_at < :n2)) "
    "AND (j.pair_id IS NULL OR (NOT EXISTS (SELECT 1 FROM pair_leases l WHERE l.pair_id = j.pair_id AND "
    "l.expires_at >= :n3) AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.id = j.pair_id AND "
    "p.quarantined_at IS NOT NULL)))";

// Of a job: its pair (if any) is free and not quarantined. Binds the current time once.
constexpr const char* kPairFree =
    "(j.pair_id IS NULL OR (NOT EXISTS (SELECT 1 FROM pair_leases l WHERE l.pair_id = j.pair_id AND "
    "l.expires_at >= :n2) AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.id = j.pair_id AND "
    "p.quarantined_at IS NOT NULL)))";

// What claim() reads of the job it chooses.
constexpr const char* kClaimColumns =
    "SELECT j.id, j.kind, COALESCE(j.pair_id, ''), j.state, j.attempts, j.max_attempts, COALESCE(j.coalesce_key, ''), "
    "j.notified_at, j.requested_at_ms FROM jobs j WHERE ";

// A new run of a pair starts without its predecessor's progress.
constexpr const char* kNoProgress =
    "progress_step = NULL, progress_planned = NULL, progress_written = NULL, progress_at = NULL";

// Declared dead on re-taking: its runs kept stopping without reporting back.
struct DeadJob {
  std::string id, pairId, userId;
  int attempts = 0;
};

std::string deathReason(int attempts) {
  return "its run stopped without finishing " + std::to_string(attempts) +
         " times (the process crashed, was killed or hung while running it); the pair is quarantined until its "
         "user or the operator releases it";
}

void releasePair(soci::session& sql, const std::string& pairId, long long fence) {
  if (pairId.empty()) return;
  sql << "UPDATE pair_leases SET expires_at = 0, job_id = NULL, owner = NULL WHERE pair_id = :p AND generation = :g",
      soci::use(pairId), soci::use(fence);
}

// A job whose runs kept stopping without reporting back: dead, its pair quarantined and free.
DeadJob bury(soci::session& sql, const Job& job, long long now) {
  DeadJob dead{job.id, job.pairId, {}, job.attempts};
  const std::string reason = deathReason(job.attempts);
  sql << "UPDATE jobs SET state = 'dead', last_error = :e, lease_owner = NULL, lease_expires_at = NULL, "
         "updated_at = :n WHERE id = :i",
      soci::use(reason), soci::use(now), soci::use(job.id);
  if (job.pairId.empty()) return dead;
  sql << "UPDATE pairs SET quarantined_at = :n, quarantine_reason = :r WHERE id = :p AND quarantined_at IS NULL",
      soci::use(now), soci::use(reason), soci::use(job.pairId);
  sql << "SELECT user_id FROM pairs WHERE id = :p", soci::into(dead.userId), soci::use(job.pairId);
  sql << "UPDATE pair_leases SET expires_at = 0, job_id = NULL, owner = NULL WHERE pair_id = :p", soci::use(job.pairId);
  return dead;
}

// A dead worker's job runs again now: a request of its key queued meanwhile is served by it. A
// twin another claim holds right now is left alone (waiting for it could deadlock on the pair's
// lease row); it runs after this one and finds nothing to do.
void absorbTwins(soci::session& sql, store::Dialect dialect, const std::string& key) {
  std::string twins = "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE coalesce_key = :k AND state = 'queued'";
  twins += dialect == store::Dialect::Postgresql ? " FOR UPDATE SKIP LOCKED)" : ")";
  sql << twins, soci::use(key);
}

// A dead worker's job absorbs its queued twins (absorbTwins). They may have been asked for by
// notifications: the earliest one's time goes with the run that serves them.
void takeOverTwins(soci::session& sql, store::Dialect dialect, const std::string& key, Job& job) {
  long long latest = 0;
  soci::indicator latestInd = soci::i_null;
  sql << "SELECT MAX(requested_at_ms) FROM jobs WHERE coalesce_key = :k AND state = 'queued'",
      soci::into(latest, latestInd), soci::use(key);
  if (latestInd == soci::i_ok && (!job.requestedAtMs || latest > *job.requestedAtMs)) {
    job.requestedAtMs = latest;
    sql << "UPDATE jobs SET requested_at_ms = :t WHERE id = :i", soci::use(latest), soci::use(job.id);
  }
  long long twin = 0;
  soci::indicator twinInd = soci::i_null;
  sql << "SELECT MIN(notified_at) FROM jobs WHERE coalesce_key = :k AND state = 'queued'", soci::into(twin, twinInd),
      soci::use(key);
  if (twinInd == soci::i_ok && (!job.notifiedAtMs || twin < *job.notifiedAtMs)) {
    job.notifiedAtMs = twin;
    sql << "UPDATE jobs SET notified_at = :t WHERE id = :i", soci::use(twin), soci::use(job.id);
  }
  absorbTwins(sql, dialect, key);
}

void auditDeath(store::Database& db, const core::Clock& clock, const DeadJob& dead) {
  audit::AuditEntry e;
  e.userId = dead.userId;
  e.action = "pair.quarantine";
  e.objectRef = "pair/" + dead.pairId;
  e.decision = "quarantined";
  e.reasons = {deathReason(dead.attempts)};
  e.facts = {{"job", dead.id}, {"attempts", std::to_string(dead.attempts)}};
  if (auto ok = audit::AuditLog(db, clock).append(e); !ok) {
    core::log::warn("jobs.audit_failed", {{"job", dead.id}, {"error", ok.error().describe()}});
  }
  core::log::error("jobs.quarantined", {{"job", dead.id}, {"pair", dead.pairId}, {"attempts", dead.attempts}});
}

}  // namespace

core::Result<bool> JobQueue::hasRunnable() {
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    const long long now = clock_.nowUnixSeconds();
    long long n = 0;
    sql << std::string("SELECT COUNT(*) FROM (SELECT 1 FROM jobs j WHERE ") + kRunnable + " LIMIT 1) r",
        soci::into(n), soci::use(now), soci::use(now), soci::use(now);
    return n > 0;
  });
}

void JobQueue::wake(soci::session& sql) {
  store::notify(sql, db_.dialect(), kJobsChannel);
  if (options_.signal) options_.signal->notify();
}

core::Result<std::optional<Job>> JobQueue::claim(const std::string& owner) {
  // A lost race for a pair, or a job found dead, tries the next candidate; a few tries are
  // plenty (each one has removed its candidate from the next try's choice).
  for (int tries = 0; tries < 8; ++tries) {
    Job job;
    auto claimed = claimOnce(owner, job);
    if (!claimed) return std::unexpected(claimed.error());
    if (*claimed == Claimed::Job) return std::optional<Job>(std::move(job));
    if (*claimed == Claimed::None) break;
  }
  return std::optional<Job>{};
}

namespace {

// The job claim() takes next, read into `job`: a dead worker's job first (it carries the attempts
// that tell a crash loop, and taking it absorbs its queued twin), then the queued one due first.
// Each is one ordered index scan that stops at the first job whose pair is free (jobs_lease,
// jobs_due), not a sort of every due job: a tick queues one job per pair. Both scans are kept
// prepared per session: every idle worker claims at each wake-up, and parsing these queries cost
// more than running them (callgrind: 0.3 M instructions a claim on SQLite).
struct ClaimRow {
  long long now = 0;
  std::string id, kind, pairId, state, key;
  long long attempts = 0, maxAttempts = 0, notifiedAtMs = 0, requestedAtMs = 0;
  soci::indicator notifiedSet = soci::i_null, requestedSet = soci::i_null;
};

const std::string& claimQuery(store::Dialect dialect, bool dead) {
  auto build = [](bool pg, bool deadPass) {
    std::string q = std::string(kClaimColumns) +
                    (deadPass ? "j.state = 'running' AND j.lease_expires_at < :n1 AND "
                              : "j.state = 'queued' AND j.run_at <= :n1 AND ") +
                    kPairFree + (deadPass ? " ORDER BY j.lease_expires_at, j.id" : " ORDER BY j.run_at, j.id") +
                    " LIMIT 1";
    return pg ? q + " FOR UPDATE OF j SKIP LOCKED" : q;
  };
  static const std::string queries[2][2] = {{build(false, false), build(false, true)},
                                            {build(true, false), build(true, true)}};
  return queries[dialect == store::Dialect::Postgresql ? 1 : 0][dead ? 1 : 0];
}

bool chooseJob(store::Database& db, soci::session& sql, long long now, Job& job, std::string& state,
               std::string& key) {
  for (const bool dead : {true, false}) {
    auto& claim = store::cachedStatement<ClaimRow>(
        db, sql, claimQuery(db.dialect(), dead), [](soci::statement& st, ClaimRow& row) {
          for (auto* text : {&row.id, &row.kind, &row.pairId, &row.state}) st.exchange(soci::into(*text));
          st.exchange(soci::into(row.attempts));
          st.exchange(soci::into(row.maxAttempts));
          st.exchange(soci::into(row.key));
          st.exchange(soci::into(row.notifiedAtMs, row.notifiedSet));
          st.exchange(soci::into(row.requestedAtMs, row.requestedSet));
          st.exchange(soci::use(row.now));
          st.exchange(soci::use(row.now));
        });
    claim.row.now = now;
    if (!claim.fetchOne()) continue;
    const ClaimRow& r = claim.row;
    job.id = r.id;
    job.kind = r.kind;
    job.pairId = r.pairId;
    state = r.state;
    job.attempts = static_cast<int>(r.attempts);
    job.maxAttempts = static_cast<int>(r.maxAttempts);
    key = r.key;
    job.notifiedAtMs = r.notifiedSet == soci::i_ok ? std::optional<long long>(r.notifiedAtMs) : std::nullopt;
    job.requestedAtMs = r.requestedSet == soci::i_ok ? std::optional<long long>(r.requestedAtMs) : std::nullopt;
    return true;
  }
  return false;
}

}  // namespace

core::Result<JobQueue::Claimed> JobQueue::claimOnce(const std::string& owner, Job& job) {
  std::optional<DeadJob> dead;
  auto claimed = db_.withSession([&](soci::session& sql) -> core::Result<Claimed> {
    dead.reset();
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    const long long until = now + options_.lease.count();
    std::string state, key;
    if (!chooseJob(db_, sql, now, job, state, key)) return Claimed::None;
    if (options_.afterChoosing) options_.afterChoosing();
    if (state == "running" && job.attempts >= job.maxAttempts) {
      dead = bury(sql, job, now);
      tx.commit();
      return Claimed::Again;
    }
    if (!job.pairId.empty()) {
      sql << "INSERT INTO pair_leases (pair_id) VALUES (:p) ON CONFLICT DO NOTHING", soci::use(job.pairId);
      // The guard: of two claims of one pair only one passes this update (the second waits for
      // the first's row lock, then sees the lease taken).
      soci::statement take = (sql.prepare << std::string("UPDATE pair_leases SET generation = generation + 1, "
                                                         "job_id = :j, owner = :o, expires_at = :e, ") + kNoProgress +
                                                 " WHERE pair_id = :p AND expires_at < :n",
                              soci::use(job.id), soci::use(owner), soci::use(until), soci::use(job.pairId),
                              soci::use(now));
      take.execute(true);
      if (take.get_affected_rows() == 0) return Claimed::Again;  // rolled back: another run has the pair
      sql << "SELECT generation FROM pair_leases WHERE pair_id = :p", soci::into(job.fence), soci::use(job.pairId);
    }
    if (state == "running" && !key.empty()) takeOverTwins(sql, db_.dialect(), key, job);
    sql << "UPDATE jobs SET state = 'running', lease_owner = :o, lease_expires_at = :e, attempts = attempts + 1, "
           "updated_at = :n WHERE id = :i",
        soci::use(owner), soci::use(until), soci::use(now), soci::use(job.id);
    ++job.attempts;
    tx.commit();
    return Claimed::Job;
  });
  if (dead) auditDeath(db_, clock_, *dead);
  return claimed;
}

core::Result<void> JobQueue::renew(const Job& job, const std::string& owner) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    const long long until = now + options_.lease.count();
    soci::statement st =
        (sql.prepare << "UPDATE jobs SET lease_expires_at = :e, updated_at = :n WHERE id = :i AND lease_owner = :o "
                        "AND state = 'running' AND lease_expires_at >= :now",
         soci::use(until), soci::use(now), soci::use(job.id), soci::use(owner), soci::use(now));
    st.execute(true);
    bool held = st.get_affected_rows() > 0;
    if (held && !job.pairId.empty()) {
      soci::statement pair = (sql.prepare << "UPDATE pair_leases SET expires_at = :e WHERE pair_id = :p AND "
                                             "generation = :g AND expires_at >= :now",
                              soci::use(until), soci::use(job.pairId), soci::use(job.fence), soci::use(now));
      pair.execute(true);
      held = pair.get_affected_rows() > 0;
    }
    if (!held) {
      return core::fail(ErrorCode::Conflict, "job " + job.id + ": the lease was lost", core::Cause::LeaseLost);
    }
    tx.commit();
    return {};
  });
}

core::Result<void> JobQueue::check(const Job& job) {
  if (job.pairId.empty()) return {};
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    // before every write: kept prepared (its parse cost more than the copy's own engine work)
    struct Lease {
      std::string pairId;
      long long generation = 0, expires = 0;
    };
    auto& lease = store::cachedStatement<Lease>(
        db_, sql, "SELECT generation, expires_at FROM pair_leases WHERE pair_id = :p",
        [](soci::statement& st, Lease& row) {
          st.exchange(soci::into(row.generation));
          st.exchange(soci::into(row.expires));
          st.exchange(soci::use(row.pairId));
        });
    lease.row.pairId = job.pairId;
    const bool held = lease.fetchOne();
    if (!held || lease.row.generation != job.fence || lease.row.expires < clock_.nowUnixSeconds()) {
      return core::fail(ErrorCode::Conflict,
                        "job " + job.id + ": the run no longer holds its pair (its lease ran out or passed on)",
                        core::Cause::LeaseLost);
    }
    return {};
  });
}

core::Result<void> JobQueue::complete(const Job& job, const std::string& owner) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    soci::statement st = (sql.prepare << "DELETE FROM jobs WHERE id = :i AND lease_owner = :o AND state = 'running'",
                          soci::use(job.id), soci::use(owner));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      long long exists = 0;
      sql << "SELECT COUNT(*) FROM jobs WHERE id = :i", soci::into(exists), soci::use(job.id);
      if (exists == 0) return {};  // gone with its pair (a pair removal job deletes its own pair)
      return core::fail(ErrorCode::Conflict, "job " + job.id + ": the lease expired and another worker took it",
                        core::Cause::LeaseLost);
    }
    releasePair(sql, job.pairId, job.fence);
    tx.commit();
    wake(sql);  // a follow-up of the same pair may be waiting for it
    return {};
  });
}

core::Result<std::size_t> JobQueue::reclaim(const std::function<bool(const std::string& owner)>& isDead) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::size_t> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long past = clock_.nowUnixSeconds() - 1;
    std::vector<std::pair<std::string, std::string>> orphans;  // (job, pair)
    {
      soci::rowset<soci::row> rows =
          (sql.prepare << "SELECT id, COALESCE(pair_id, ''), COALESCE(lease_owner, '') FROM jobs WHERE state = 'running'");
      for (const auto& r : rows) {
        if (isDead(store::textAt(r, 2))) orphans.emplace_back(store::textAt(r, 0), store::textAt(r, 1));
      }
    }
    for (const auto& [id, pairId] : orphans) {
      sql << "UPDATE jobs SET lease_expires_at = :e WHERE id = :i AND state = 'running'", soci::use(past),
          soci::use(id);
      if (!pairId.empty()) {
        sql << "UPDATE pair_leases SET expires_at = :e WHERE pair_id = :p AND job_id = :i", soci::use(past),
            soci::use(pairId), soci::use(id);
      }
    }
    tx.commit();
    if (!orphans.empty()) wake(sql);
    return orphans.size();
  });
}

std::chrono::seconds JobQueue::backoff(int attempts, const core::Error& error) const {
  auto delay = options_.firstRetry;
  for (int i = 1; i < attempts && delay < options_.maxRetry; ++i) delay *= 2;
  delay = std::min(delay, options_.maxRetry);
  if (error.retryAfter) delay = std::max(delay, std::min(*error.retryAfter, std::chrono::seconds(86400)));
  return delay;
}

core::Result<void> JobQueue::fail(const Job& job, const std::string& owner, const core::Error& error) {
  // A queued twin inserted between our check and our update violates the coalescing index: the
  // second attempt sees the twin and removes this job instead.
  auto once = failOnce(job, owner, error);
  if (!once && once.error().code == ErrorCode::Conflict && once.error().cause != core::Cause::LeaseLost) {
    return failOnce(job, owner, error);
  }
  return once;
}

core::Result<void> JobQueue::failOnce(const Job& job, const std::string& owner, const core::Error& error) {
  const std::string message = error.describe().substr(0, 500);
  const long long delay = backoff(job.attempts, error).count();
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    std::string key;
    soci::indicator keyInd = soci::i_null;
    sql << "SELECT coalesce_key FROM jobs WHERE id = :i AND lease_owner = :o AND state = 'running'",
        soci::into(key, keyInd), soci::use(job.id), soci::use(owner);
    if (!sql.got_data()) {
      return core::fail(ErrorCode::Conflict, "job " + job.id + ": the lease expired", core::Cause::LeaseLost);
    }
    long long twins = 0;
    if (keyInd == soci::i_ok) {
      sql << "SELECT COUNT(*) FROM jobs WHERE coalesce_key = :k AND state = 'queued'", soci::into(twins),
          soci::use(key);
    }
    releasePair(sql, job.pairId, job.fence);
    if (job.attempts >= job.maxAttempts) {
      sql << "UPDATE jobs SET state = 'dead', last_error = :e, lease_owner = NULL, lease_expires_at = NULL, "
             "updated_at = :n WHERE id = :i",
          soci::use(message), soci::use(now), soci::use(job.id);
    } else if (twins > 0) {
      sql << "DELETE FROM jobs WHERE id = :i", soci::use(job.id);  // the queued twin will do the work
      if (job.notifiedAtMs) {
        // ...and serves the notification this run was for: the latency counts from it
        sql << "UPDATE jobs SET notified_at = :t WHERE coalesce_key = :k AND state = 'queued' AND "
               "(notified_at IS NULL OR notified_at > :t2)",
            soci::use(*job.notifiedAtMs), soci::use(key), soci::use(*job.notifiedAtMs);
      }
    } else {
      const long long runAt = now + delay;
      sql << "UPDATE jobs SET state = 'queued', run_at = :r, last_error = :e, lease_owner = NULL, "
             "lease_expires_at = NULL, updated_at = :n WHERE id = :i",
          soci::use(runAt), soci::use(message), soci::use(now), soci::use(job.id);
    }
    tx.commit();
    return {};
  });
}

core::Result<QueueStats> JobQueue::stats() {
  return db_.withSession([&](soci::session& sql) -> core::Result<QueueStats> {
    QueueStats s;
    const long long now = clock_.nowUnixSeconds();
    soci::rowset<soci::row> rows = (sql.prepare << "SELECT state, COUNT(*) FROM jobs GROUP BY state");
    for (const auto& r : rows) {
      const std::string state = store::textAt(r, 0);
      const long long n = store::integerAt(r, 1);
      if (state == "queued") s.queued = n;
      else if (state == "running") s.running = n;
      else if (state == "dead") s.dead = n;
    }
    long long oldest = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= :n", soci::into(oldest, ind),
        soci::use(now);
    if (ind == soci::i_ok) s.oldestQueuedAgeSeconds = std::max(0LL, now - oldest);
    sql << "SELECT COUNT(*) FROM pairs WHERE quarantined_at IS NOT NULL", soci::into(s.quarantinedPairs);
    return s;
  });
}

core::Result<PairJobState> JobQueue::pairJob(const std::string& pairId) {
  return db_.withSession([&](soci::session& sql) -> core::Result<PairJobState> {
    PairJobState job;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT state, attempts, run_at FROM jobs WHERE pair_id = :p AND kind = 'sync_pair' "
                        "AND state IN ('queued', 'running') ORDER BY run_at",
         soci::use(pairId));
    for (const auto& r : rows) {
      const std::string state = store::textAt(r, 0);
      if (state == "running") job.running = true;
      if (state == "queued" && !job.queued) {
        job.queued = true;
        job.nextRunAt = store::integerAt(r, 2);
      }
      job.attempts = std::max(job.attempts, static_cast<int>(store::integerAt(r, 1)));
    }
    const long long now = clock_.nowUnixSeconds();
    soci::rowset<soci::row> lease =
        (sql.prepare << "SELECT progress_step, progress_planned, progress_written, progress_at FROM pair_leases "
                        "WHERE pair_id = :p AND expires_at >= :n AND progress_step IS NOT NULL",
         soci::use(pairId), soci::use(now));
    for (const auto& r : lease) {
      job.progress = RunProgress{store::textAt(r, 0), store::integerAt(r, 1), store::integerAt(r, 2), store::integerAt(r, 3)};
    }
    return job;
  });
}

core::Result<void> JobQueue::progress(const Job& job, const RunProgress& p) {
  if (job.pairId.empty()) return {};
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    sql << "UPDATE pair_leases SET progress_step = :s, progress_planned = :p, progress_written = :w, progress_at = :n "
           "WHERE pair_id = :i AND generation = :g",
        soci::use(p.step), soci::use(p.planned), soci::use(p.written), soci::use(now), soci::use(job.pairId),
        soci::use(job.fence);
    return {};
  });
}

}  // namespace calgate::sync
