// The job queue over a real store: coalescing, leases, backoff with Retry-After, dead jobs, one
// run per pair at a time, and concurrent workers that never run a job twice.
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/push_metrics.hpp"
#include "calgate/sync/sync_service.hpp"
#include "calgate/sync/worker.hpp"
#include "calgate/audit/audit_log.hpp"
#include "support/temp_dir.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::SyncFixture;

TEST_CASE("duplicate requests coalesce into one queued job", "[jobs]") {
  SyncFixture f;
  JobQueue q(f.t.db(), f.clock);
  CHECK(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK_FALSE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK(q.stats()->queued == 1);
  auto job = q.claim("w1");
  REQUIRE(job);
  REQUIRE(*job);
  CHECK((*job)->pairId == f.pairId);
  CHECK((*job)->attempts == 1);
  // while it runs, a new request queues a follow-up (changes may have arrived meanwhile)...
  CHECK(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  // ...which no other worker may start while the pair's run is going on
  CHECK_FALSE(*q.claim("w2"));
  REQUIRE(q.complete(**job, "w1"));
  auto next = q.claim("w2");
  REQUIRE(*next);
  REQUIRE(q.complete(**next, "w2"));
  CHECK(q.stats()->queued == 0);
  CHECK_FALSE(*q.claim("w1"));
}

TEST_CASE("a tick's requests (enqueueAll) coalesce like single ones and move the request time on", "[jobs]") {
  SyncFixture f;
  JobQueue q(f.t.db(), f.clock);
  const std::vector<JobQueue::PairRequest> tick{{f.pairId, "sync:" + f.pairId}};
  CHECK(*q.enqueueAll("sync_pair", tick) == 1);
  CHECK(*q.enqueueAll("sync_pair", tick) == 0);  // joins the queued job
  CHECK_FALSE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK(q.stats()->queued == 1);
  f.clock.advance(std::chrono::seconds(7));
  CHECK(*q.enqueueAll("sync_pair", tick) == 0);
  auto job = q.claim("w1");
  REQUIRE(job);
  REQUIRE(*job);
  // the run serves the latest request: a pull it shares must have begun after that one
  CHECK((*job)->requestedAtMs == std::chrono::duration_cast<std::chrono::milliseconds>(f.clock.now().time_since_epoch()).count());
  // while it runs, the next tick queues a follow-up
  CHECK(*q.enqueueAll("sync_pair", tick) == 1);
  REQUIRE(q.complete(**job, "w1"));
  CHECK(q.stats()->queued == 1);
}

TEST_CASE("failed jobs retry with exponential backoff, honour Retry-After, and die at last", "[jobs]") {
  SyncFixture f;
  QueueOptions options;
  options.firstRetry = seconds(10);
  JobQueue q(f.t.db(), f.clock, options);
  REQUIRE(*q.enqueue("purge", "", "purge"));
  auto job = **q.claim("w");
  REQUIRE(q.fail(job, "w", core::Error{core::ErrorCode::Unavailable, "server down", std::nullopt}));
  CHECK_FALSE(*q.claim("w"));
  f.clock.advance(seconds(9));
  CHECK_FALSE(*q.claim("w"));
  CHECK(q.stats()->oldestQueuedAgeSeconds == 0);
  f.clock.advance(seconds(1));
  job = **q.claim("w");
  CHECK(job.attempts == 2);
  // the provider asked for two minutes: more than the 20 s backoff
  REQUIRE(q.fail(job, "w", core::Error{core::ErrorCode::RateLimited, "slow down", seconds(120)}));
  f.clock.advance(seconds(60));
  CHECK_FALSE(*q.claim("w"));
  f.clock.advance(seconds(60));
  job = **q.claim("w");
  CHECK(job.attempts == 3);
  CHECK(q.backoff(3, core::Error{}) == seconds(40));
  CHECK(q.backoff(30, core::Error{}) == seconds(3600));

  // the last attempt fails: dead, not retried
  job.attempts = job.maxAttempts;
  REQUIRE(q.fail(job, "w", core::Error{core::ErrorCode::Unauthorized, "password revoked", std::nullopt}));
  f.clock.advance(hours(10));
  CHECK_FALSE(*q.claim("w"));
  CHECK(q.stats()->dead == 1);
}

TEST_CASE("a crashed worker's job runs again when its lease expires", "[jobs]") {
  SyncFixture f;
  QueueOptions options;
  options.lease = seconds(60);
  JobQueue q(f.t.db(), f.clock, options);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  auto first = **q.claim("crashed");
  f.clock.advance(seconds(30));
  CHECK_FALSE(*q.claim("w2"));
  f.clock.advance(seconds(31));
  auto again = q.claim("w2");
  REQUIRE(*again);
  CHECK((*again)->id == first.id);
  CHECK((*again)->attempts == 2);
  // the first worker comes back too late: its completion is refused
  auto late = q.complete(first, "crashed");
  REQUIRE_FALSE(late);
  CHECK(late.error().code == core::ErrorCode::Conflict);
  REQUIRE(q.complete(**again, "w2"));
}

TEST_CASE("a dead worker's job and a request for the same pair make one run, which counts the crash", "[jobs]") {
  SyncFixture f;
  QueueOptions options;
  options.lease = seconds(60);
  JobQueue q(f.t.db(), f.clock, options);
  const std::string key = "sync:" + f.pairId;
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key));
  const auto crashed = **q.claim("crashed");

  SECTION("a request after the lease ran out adds nothing: the orphan is the request") {
    f.clock.advance(seconds(61));
    CHECK_FALSE(*q.enqueue("sync_pair", f.pairId, key));
  }
  SECTION("a request queued while the run was going on is absorbed when the orphan is taken") {
    f.clock.advance(seconds(1));
    REQUIRE(*q.enqueue("sync_pair", f.pairId, key));  // newer than the orphan, so not first by age
    f.clock.advance(seconds(60));
  }
  auto again = q.claim("w2");
  REQUIRE(*again);
  CHECK((*again)->id == crashed.id);  // the orphan, with its attempt counted
  CHECK((*again)->attempts == 2);
  REQUIRE(q.complete(**again, "w2"));
  const auto stats = *q.stats();
  CHECK(stats.queued == 0);  // nothing left behind to run the pair a second time
  CHECK(stats.running == 0);
}

TEST_CASE("a restarted gateway's reclaimed job goes before newer queued work, and absorbs its twin", "[jobs]") {
  SyncFixture f;
  QueueOptions options;
  options.lease = seconds(300);
  JobQueue q(f.t.db(), f.clock, options);
  const std::string key = "sync:" + f.pairId;
  f.clock.advance(seconds(5));
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key));
  const auto crashed = **q.claim("dead-process");
  // a twin that was queued before the reclaim (a "sync now" during the crashed run), with an
  // earlier due time than the orphan's: by age alone it would run first and leave the orphan
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key, seconds(0)));
  REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "UPDATE jobs SET run_at = 0 WHERE state = 'queued'";
    return {};
  }));
  REQUIRE(*q.reclaim([](const std::string& owner) { return owner == "dead-process"; }) == 1);
  CHECK_FALSE(*q.enqueue("sync_pair", f.pairId, key));  // the scheduler after the restart
  auto again = q.claim("restarted");
  REQUIRE(*again);
  CHECK((*again)->id == crashed.id);
  CHECK((*again)->attempts == 2);
  REQUIRE(q.complete(**again, "restarted"));
  CHECK(q.stats()->queued == 0);
  CHECK_FALSE(*q.claim("restarted"));
}

TEST_CASE("a worker that lost its lease is told so by cause, however it reports back", "[jobs]") {
  SyncFixture f;
  QueueOptions options;
  options.lease = seconds(60);
  JobQueue q(f.t.db(), f.clock, options);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  auto first = **q.claim("slow");
  f.clock.advance(seconds(61));
  auto taken = q.claim("w2");
  REQUIRE(*taken);
  for (auto outcome : {q.renew(first, "slow"), q.complete(first, "slow"),
                       q.fail(first, "slow", core::Error{core::ErrorCode::Unavailable, "down", std::nullopt})}) {
    REQUIRE_FALSE(outcome);
    CHECK(outcome.error().code == core::ErrorCode::Conflict);
    CHECK(outcome.error().cause == core::Cause::LeaseLost);
  }
  // the job is still w2's, untouched by the late reports
  CHECK(q.stats()->running == 1);
  REQUIRE(q.complete(**taken, "w2"));
  CHECK(q.stats()->running == 0);
}

TEST_CASE("concurrent workers never run the same job twice", "[jobs][concurrency]") {
  SyncFixture f;
  JobQueue q(f.t.db(), f.clock);
  constexpr int kJobs = 120;
  for (int i = 0; i < kJobs; ++i) REQUIRE(*q.enqueue("work", "", "job-" + std::to_string(i)));
  std::mutex mutex;
  std::map<std::string, int> runs;
  std::map<std::string, int> byWorker;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      Worker worker(q, "worker-" + std::to_string(w));
      worker.on("work", [&](const Job& job) -> core::Result<void> {
        std::lock_guard lock(mutex);
        ++runs[job.id];
        ++byWorker[worker.owner()];
        return {};
      });
      for (;;) {
        auto ran = worker.runOnce();
        if (!ran) {
          ++errors;
          continue;  // a busy database: try again
        }
        if (!*ran) break;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(runs.size() == kJobs);
  for (const auto& [id, n] : runs) {
    INFO(id);
    CHECK(n == 1);
  }
  CHECK(q.stats()->queued == 0);
  INFO("workers used: " << byWorker.size() << ", transient errors: " << errors.load());
  CHECK(byWorker.size() >= 1);
}

TEST_CASE("sync metrics name writes by provider and action, pulls, and the queue", "[jobs][metrics]") {
  sync::SyncCounters counters;
  counters.writes[{"caldav", "create"}] = 3;
  counters.runs = 2;
  counters.failures = 1;
  counters.pulls = 1;
  counters.pullSecondsTotal = 0.25;
  sync::QueueStats stats;
  stats.queued = 4;
  stats.oldestQueuedAgeSeconds = 12;
  const auto text = counters.render(stats);
  CHECK_THAT(text, Catch::Contains("calgate_sync_writes_total{provider=\"caldav\",action=\"create\"} 3"));
  CHECK_THAT(text, Catch::Contains("calgate_sync_runs_total{outcome=\"error\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_sync_pull_seconds_sum 0.25"));
  CHECK_THAT(text, Catch::Contains("calgate_jobs{state=\"queued\"} 4"));
  CHECK_THAT(text, Catch::Contains("calgate_jobs_oldest_age_seconds 12"));
}

TEST_CASE("a job a push notification asked for carries when the earliest one arrived, to its run and to its twin",
          "[jobs][push]") {
  SyncFixture f;
  JobQueue q(f.t.db(), f.clock);
  const std::string key = "sync:" + f.pairId;
  constexpr long long T0 = 1'796'000'000'123;  // unix milliseconds: far past 32 bits
  // a poll queued the pair; notifications coalesce with it and it keeps the first one's time
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key));
  CHECK_FALSE(*q.enqueueNotified("sync_pair", f.pairId, key, T0));
  CHECK_FALSE(*q.enqueueNotified("sync_pair", f.pairId, key, T0 + 500));
  CHECK(q.stats()->queued == 1);
  auto job = **q.claim("w1");
  REQUIRE(job.notifiedAtMs);
  CHECK(*job.notifiedAtMs == T0);
  // a notification during the run asks for a follow-up of its own
  CHECK(*q.enqueueNotified("sync_pair", f.pairId, key, T0 + 2'000));
  // the run fails: its twin serves its request too, and the latency counts from the earlier one
  REQUIRE(q.fail(job, "w1", core::Error{core::ErrorCode::Unavailable, "server down", std::nullopt}));
  CHECK(q.stats()->queued == 1);
  auto twin = **q.claim("w2");
  REQUIRE(twin.notifiedAtMs);
  CHECK(*twin.notifiedAtMs == T0);
  REQUIRE(q.complete(twin, "w2"));
  // a poll nobody notified about carries nothing
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key));
  auto polled = **q.claim("w1");
  CHECK_FALSE(polled.notifiedAtMs);
  REQUIRE(q.complete(polled, "w1"));
  // a dead worker's job runs again from the start: it serves a notification that came meanwhile
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key));
  auto crashed = **q.claim("w1");
  f.clock.advance(q.lease() + seconds(1));
  CHECK_FALSE(*q.enqueueNotified("sync_pair", f.pairId, key, T0 + 90'000));
  auto again = **q.claim("w2");
  CHECK(again.id == crashed.id);
  REQUIRE(again.notifiedAtMs);
  CHECK(*again.notifiedAtMs == T0 + 90'000);
  REQUIRE(q.complete(again, "w2"));
  // a notification while a run goes on queues a twin; the worker dies; the run that takes its job
  // again absorbs the twin and keeps the twin's time
  REQUIRE(*q.enqueue("sync_pair", f.pairId, key));
  auto dying = **q.claim("w1");
  CHECK_FALSE(dying.notifiedAtMs);
  CHECK(*q.enqueueNotified("sync_pair", f.pairId, key, T0 + 200'000));
  f.clock.advance(q.lease() + seconds(1));
  auto taken = **q.claim("w2");
  CHECK(taken.id == dying.id);
  REQUIRE(taken.notifiedAtMs);
  CHECK(*taken.notifiedAtMs == T0 + 200'000);
  CHECK(q.stats()->queued == 0);
}

TEST_CASE("push metrics count notifications by outcome, channel upkeep by result, and push-to-write latency",
          "[jobs][metrics][push]") {
  PushMetrics m;
  m.notification("google", PushOutcome::Queued);
  m.notification("google", PushOutcome::NoWork);
  m.notification("google", PushOutcome::Rejected);
  m.notification("microsoft", PushOutcome::Unknown);
  m.validation();
  m.upkeep("microsoft", "renew", true);
  m.upkeep("microsoft", "renew", false);
  m.upkeep("google", "open", true);
  m.written(0.08);
  m.written(0.7);
  const auto text = m.render();
  CHECK_THAT(text, Catch::Contains("calgate_push_notifications_received_total{provider=\"google\"} 3"));
  CHECK_THAT(text, Catch::Contains("calgate_push_notifications_verified_total{provider=\"google\"} 2"));
  CHECK_THAT(text, Catch::Contains("calgate_push_notifications_rejected_total{provider=\"google\",reason=\"forged\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_notifications_received_total{provider=\"microsoft\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_notifications_rejected_total{provider=\"microsoft\",reason=\"unknown_channel\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_validations_total 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_upkeep_total{provider=\"microsoft\",action=\"renew\",result=\"ok\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_upkeep_total{provider=\"microsoft\",action=\"renew\",result=\"failed\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_upkeep_total{provider=\"google\",action=\"open\",result=\"ok\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_to_write_seconds_bucket{le=\"0.05\"} 0"));
  CHECK_THAT(text, Catch::Contains("calgate_push_to_write_seconds_bucket{le=\"0.1\"} 1"));
  CHECK_THAT(text, Catch::Contains("calgate_push_to_write_seconds_bucket{le=\"1\"} 2"));
  CHECK_THAT(text, Catch::Contains("calgate_push_to_write_seconds_bucket{le=\"+Inf\"} 2"));
  CHECK_THAT(text, Catch::Contains("calgate_push_to_write_seconds_count 2"));
}

namespace {

struct NoProviders final : ProviderFactory {
  core::Result<std::unique_ptr<providers::Provider>> open(const CalendarRef&, Deadline) override {
    return core::fail(core::ErrorCode::Unavailable, "no providers in this test");
  }
};

}  // namespace

TEST_CASE("the purge job signs the audit head hourly and applies retention to audit entries and erasure records",
          "[jobs][audit]") {
  SyncFixture f;
  NoProviders none;
  SyncConfig config;
  config.workers = 0;
  config.auditRetentionDays = 30;
  config.deletionRecordsDays = 60;
  test::TempDir data;
  SyncService service(f.t.db(), f.orgs, none, f.clock, config, ProcessIdentity::current(data.path()));
  auto key = std::make_shared<const core::SigningKey>(*core::SigningKey::fromSeed(std::string(32, 'a')));
  service.setAuditKey(key);
  auto count = [&](const char* table) {
    long long n = 0;
    REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      sql << std::string("SELECT COUNT(*) FROM ") + table, soci::into(n);
      return {};
    }));
    return n;
  };
  audit::AuditLog log(f.t.db(), f.clock);
  audit::AuditEntry e;
  e.action = "test.entry";
  REQUIRE(log.append(e));
  REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    const long long old = f.clock.nowUnixSeconds() - 90 * 86400;
    sql << "INSERT INTO deletion_audit (email_sha256, deleted_at, requested_by) VALUES ('x', :t, 'user')", soci::use(old);
    return {};
  }));
  Job purge;
  purge.kind = "purge";
  REQUIRE(service.handle(purge));
  CHECK(count("audit_checkpoints") == 1);   // the head signed
  CHECK(count("deletion_audit") == 0);      // 90 days old, kept 60
  // within the hour nothing is signed again; after it, the new head is
  REQUIRE(log.append(e));
  REQUIRE(service.handle(purge));
  CHECK(count("audit_checkpoints") == 1);
  f.clock.advance(std::chrono::hours(2));
  REQUIRE(service.handle(purge));
  CHECK(count("audit_checkpoints") == 2);
  // 40 days on, the entries are past retention: purged after a checkpoint; what remains verifies
  const long long before = count("audit_log");
  f.clock.advance(std::chrono::hours(24 * 40));
  REQUIRE(log.append(e));
  REQUIRE(service.handle(purge));
  CHECK(count("audit_log") < before + 1);
  auto verified = log.verify(key->publicKey());
  INFO((verified ? "" : verified.error().message));
  CHECK(verified);
}

TEST_CASE("a running sync reports its progress to the pair's status: steps, planned and written writes", "[jobs][progress]") {
  SyncFixture f;
  // the engine says where it is
  std::vector<std::pair<std::string, std::size_t>> said;
  f.engine->setProgressObserver([&](std::string_view step, std::size_t planned) { said.emplace_back(step, planned); });
  f.work.userPut(SyncFixture::kWork, {test::timedEvent("a", "A", sys_days(2026y / November / 23) + hours(9))});
  f.work.userPut(SyncFixture::kWork, {test::timedEvent("b", "B", sys_days(2026y / November / 24) + hours(9))});
  REQUIRE(f.sync().created == 2);
  CHECK(said == std::vector<std::pair<std::string, std::size_t>>{{"pulling", 0}, {"writing", 2}});

  // the run holding the pair's lease records it; the status shows it while the run holds the pair
  JobQueue q(f.t.db(), f.clock);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  auto job = **q.claim("w1");
  CHECK_FALSE(q.pairJob(f.pairId)->progress);
  REQUIRE(q.progress(job, {"writing", 40, 12, 0}));
  auto state = q.pairJob(f.pairId);
  REQUIRE(state->progress);
  CHECK(state->progress->step == "writing");
  CHECK(state->progress->planned == 40);
  CHECK(state->progress->written == 12);
  CHECK(state->progress->updatedAt == f.clock.nowUnixSeconds());
  // done: no progress any more; the next run starts from nothing
  REQUIRE(q.complete(job, "w1"));
  CHECK_FALSE(q.pairJob(f.pairId)->progress);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  auto next = **q.claim("w1");
  CHECK_FALSE(q.pairJob(f.pairId)->progress);
  // a run that lost its pair reports nothing over the one that has it now
  REQUIRE(q.progress(job, {"pulling", 0, 0, 0}));
  CHECK_FALSE(q.pairJob(f.pairId)->progress);
  REQUIRE(q.complete(next, "w1"));
}
