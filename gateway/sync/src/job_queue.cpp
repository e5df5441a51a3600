#include "calgate/sync/job_queue.hpp"

#include "calgate/core/ids.hpp"
#include "calgate/store/row_values.hpp"
#include "calgate/store/transaction.hpp"

#include <soci/soci.h>

#include <algorithm>

namespace calgate::sync {

using core::ErrorCode;

JobQueue::JobQueue(store::Database& db, const core::Clock& clock, QueueOptions options)
    : db_(db), clock_(clock), options_(options) {}

core::Result<bool> JobQueue::enqueue(const std::string& kind, const std::string& pairId, const std::string& coalesceKey,
                                     std::chrono::seconds delay) {
  if (kind.empty() || kind.size() > 64) return core::fail(ErrorCode::Invalid, "job kind must be 1 to 64 bytes");
  return db_.withSession([&](soci::session& sql) -> core::Result<bool> {
    const long long now = clock_.nowUnixSeconds();
    const long long runAt = now + delay.count();
    const std::string id = core::newId("job");
    soci::indicator pairInd = pairId.empty() ? soci::i_null : soci::i_ok;
    soci::indicator keyInd = coalesceKey.empty() ? soci::i_null : soci::i_ok;
    // the partial unique index on queued coalesce keys makes a duplicate request a no-op
    soci::statement st =
        (sql.prepare << "INSERT INTO jobs (id, kind, pair_id, coalesce_key, state, run_at, created_at, updated_at) "
                        "VALUES (:i, :k, :p, :c, 'queued', :r, :n, :u) ON CONFLICT DO NOTHING",
         soci::use(id), soci::use(kind), soci::use(pairId, pairInd), soci::use(coalesceKey, keyInd), soci::use(runAt),
         soci::use(now), soci::use(now));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

core::Result<std::optional<Job>> JobQueue::claim(const std::string& owner) {
  return db_.withSession([&](soci::session& sql) -> core::Result<std::optional<Job>> {
    store::WriteTransaction tx(sql, db_.dialect());
    const long long now = clock_.nowUnixSeconds();
    const long long until = now + options_.lease.count();
    // Due jobs, and jobs whose worker died (lease expired); never a second job of a pair whose
    // sync is running, so runs of one pair never overlap.
    std::string query =
        "SELECT id FROM jobs j WHERE ((j.state = 'queued' AND j.run_at <= :n1) OR "
        "(j.state = 'running' AND j.lease_expires_at < :n2)) AND (j.pair_id IS NULL OR NOT EXISTS ("
        "SELECT 1 FROM jobs r WHERE r.pair_id = j.pair_id AND r.id <> j.id AND r.state = 'running' AND "
        "r.lease_expires_at >= :n3)) ORDER BY j.priority DESC, j.run_at, j.id LIMIT 1";
    if (db_.dialect() == store::Dialect::Postgresql) query += " FOR UPDATE SKIP LOCKED";
    std::string id;
    soci::indicator ind = soci::i_null;
    sql << query, soci::into(id, ind), soci::use(now), soci::use(now), soci::use(now);
    if (!sql.got_data() || ind == soci::i_null) return std::optional<Job>{};
    sql << "UPDATE jobs SET state = 'running', lease_owner = :o, lease_expires_at = :e, attempts = attempts + 1, "
           "updated_at = :n WHERE id = :i",
        soci::use(owner), soci::use(until), soci::use(now), soci::use(id);
    Job job;
    soci::rowset<soci::row> rows =
        (sql.prepare << "SELECT id, kind, COALESCE(pair_id, ''), attempts, max_attempts FROM jobs WHERE id = :i",
         soci::use(id));
    for (const auto& r : rows) {
      job.id = store::textAt(r, 0);
      job.kind = store::textAt(r, 1);
      job.pairId = store::textAt(r, 2);
      job.attempts = static_cast<int>(store::integerAt(r, 3));
      job.maxAttempts = static_cast<int>(store::integerAt(r, 4));
    }
    tx.commit();
    return std::optional<Job>(job);
  });
}

core::Result<void> JobQueue::renew(const Job& job, const std::string& owner) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    const long long now = clock_.nowUnixSeconds();
    const long long until = now + options_.lease.count();
    soci::statement st =
        (sql.prepare << "UPDATE jobs SET lease_expires_at = :e, updated_at = :n WHERE id = :i AND lease_owner = :o "
                        "AND state = 'running' AND lease_expires_at >= :now",
         soci::use(until), soci::use(now), soci::use(job.id), soci::use(owner), soci::use(now));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      return core::fail(ErrorCode::Conflict, "job " + job.id + ": the lease was lost", core::Cause::LeaseLost);
    }
    return {};
  });
}

core::Result<void> JobQueue::complete(const Job& job, const std::string& owner) {
  return db_.withSession([&](soci::session& sql) -> core::Result<void> {
    soci::statement st = (sql.prepare << "DELETE FROM jobs WHERE id = :i AND lease_owner = :o AND state = 'running'",
                          soci::use(job.id), soci::use(owner));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      return core::fail(ErrorCode::Conflict, "job " + job.id + ": the lease expired and another worker took it",
                        core::Cause::LeaseLost);
    }
    return {};
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
    if (job.attempts >= job.maxAttempts) {
      sql << "UPDATE jobs SET state = 'dead', last_error = :e, lease_owner = NULL, lease_expires_at = NULL, "
             "updated_at = :n WHERE id = :i",
          soci::use(message), soci::use(now), soci::use(job.id);
    } else if (twins > 0) {
      sql << "DELETE FROM jobs WHERE id = :i", soci::use(job.id);  // the queued twin will do the work
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
    return job;
  });
}

}  // namespace calgate::sync
