// Exclusive pair runs (issue 16): two claims of one pair meet and only one run writes; a run that
// loses its lease mid-run writes nothing more; a job that crashes its process again and again
// dies after its attempts and quarantines its pair; a restarted process takes back its dead
// predecessor's jobs at once; queued jobs wake workers, in this process and across processes.
#include "calgate/audit/audit_log.hpp"
#include "calgate/store/change_listener.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/job_signal.hpp"
#include "calgate/sync/process_identity.hpp"
#include "calgate/sync/worker.hpp"
#include "support/temp_dir.hpp"
#include "sync/sync_fixture.hpp"

#include <catch2/catch.hpp>
#include <soci/soci.h>

#include <atomic>
#include <barrier>
#include <fstream>
#include <sstream>
#include <csignal>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace calgate;
using namespace calgate::sync;
using namespace std::chrono;
using calgate::test::SyncFixture;
using calgate::test::timedEvent;

namespace {

const sys_seconds kMonday = sys_days{2026y / November / 23} + hours(9);

void putEvents(SyncFixture& f, int n) {
  for (int i = 0; i < n; ++i) {
    f.work.userPut(SyncFixture::kWork, {timedEvent("e" + std::to_string(i), "Event " + std::to_string(i),
                                                   kMonday + hours(24 * i))});
  }
}

long long scalar(store::Database& db, const std::string& query, const std::string& bind) {
  long long n = -1;
  REQUIRE(db.withSession([&](soci::session& sql) -> core::Result<void> {
    sql << query, soci::into(n), soci::use(bind);
    return {};
  }));
  return n;
}

}  // namespace

TEST_CASE("two workers claiming one pair at once (an expired run and a queued job): only one run writes",
          "[jobs][fencing]") {
  SyncFixture f;
  putEvents(f, 4);
  QueueOptions options;
  options.lease = seconds(60);
  JobQueue setup(f.t.db(), f.clock, options);
  REQUIRE(*setup.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  REQUIRE(*setup.claim("crashed-worker"));  // its process died: the job stays running...
  f.clock.advance(seconds(30));
  REQUIRE(*setup.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));  // a request while it ran
  f.clock.advance(seconds(31));  // ...until its lease expires

  // On PostgreSQL both claims choose their job (the expired one, the queued one) and only then
  // meet at a barrier, so both try to take the pair at the same moment. SQLite serialises write
  // transactions, so there the claims simply come one after the other.
  std::barrier meet(2);
  std::atomic<int> chosen{0};
  QueueOptions racing = options;
  if (test::usingPostgres()) {
    racing.afterChoosing = [&] {
      if (chosen.fetch_add(1) < 2) meet.arrive_and_wait();
    };
  }
  std::optional<Job> claimed[2];
  std::thread workers[2];
  std::atomic<int> errors{0};
  for (int w = 0; w < 2; ++w) {
    workers[w] = std::thread([&, w] {
      JobQueue q(f.t.db(), f.clock, racing);
      auto job = q.claim("worker-" + std::to_string(w));
      if (!job) ++errors;
      else claimed[w] = *job;
    });
  }
  for (auto& t : workers) t.join();
  REQUIRE(errors == 0);
  if (test::usingPostgres()) CHECK(chosen >= 2);  // both really chose a job of the pair
  const int winners = (claimed[0] ? 1 : 0) + (claimed[1] ? 1 : 0);
  REQUIRE(winners == 1);

  // each claimant runs what it got; the loser has nothing to run, the winner writes every copy
  JobQueue q(f.t.db(), f.clock, options);
  const Job& job = claimed[0] ? *claimed[0] : *claimed[1];
  auto report = f.engine->syncPair(f.pairId, f.work, f.home, [&] { return q.check(job); });
  REQUIRE(report);
  CHECK(report->created == 4);
  CHECK(f.home.creates == 4);
  REQUIRE(q.complete(job, claimed[0] ? "worker-0" : "worker-1"));
  // The other job of the pair: absorbed when the winner took the expired job (SQLite), or still
  // queued when the loser held it at that moment (PostgreSQL skips a locked row rather than wait
  // for it); then it runs after the first finished and finds nothing to do.
  auto next = q.claim("worker-2");
  REQUIRE(next);
  if (*next) {
    auto again = f.engine->syncPair(f.pairId, f.work, f.home, [&] { return q.check(**next); });
    REQUIRE(again);
    CHECK(again->writes() == 0);
  }
  CHECK(f.home.writes() == 4);
}

TEST_CASE("a run that loses its lease mid-run stops at once: no write after the loss, no cursor saved",
          "[jobs][fencing]") {
  SyncFixture f;
  putEvents(f, 5);
  QueueOptions options;
  options.lease = seconds(60);
  JobQueue q(f.t.db(), f.clock, options);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  const Job slow = **q.claim("slow-worker");

  // After its first write the slow worker stalls past its lease (a GC pause, a frozen VM) and
  // another worker takes the job over.
  std::optional<Job> thief;
  SyncOptions stalling = f.options;
  stalling.failpoint = [&](std::string_view point) -> core::Result<void> {
    if (point == "after_write" && !thief) {
      f.clock.advance(seconds(61));
      auto taken = q.claim("other-worker");
      REQUIRE(taken);
      REQUIRE(*taken);
      thief = **taken;
    }
    return {};
  };
  SyncEngine slowEngine(f.t.db(), f.orgs, f.clock, stalling);
  auto report = slowEngine.syncPair(f.pairId, f.work, f.home, [&] { return q.check(slow); });
  REQUIRE_FALSE(report);
  CHECK(report.error().cause == core::Cause::LeaseLost);
  CHECK(f.home.creates == 1);  // the write before the loss, nothing after it
  CHECK(f.home.resources(SyncFixture::kHome).size() == 1);
  CHECK(MappingStore(f.t.db(), f.clock).cursor(f.pairId, f.workCal.id).value_or("?").empty());
  REQUIRE(thief);
  CHECK(thief->id == slow.id);
  CHECK(thief->fence > slow.fence);
  // the slow worker cannot report back either: the job is the other worker's
  CHECK(q.complete(slow, "slow-worker").error().cause == core::Cause::LeaseLost);

  // the worker that has it now finishes the pair: every event copied once
  auto finished = f.engine->syncPair(f.pairId, f.work, f.home, [&] { return q.check(*thief); });
  REQUIRE(finished);
  CHECK(f.home.resources(SyncFixture::kHome).size() == 5);
  CHECK(f.home.creates == 5);
  REQUIRE(q.complete(*thief, "other-worker"));
  // released: the pair's next job may start at once
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK(*q.claim("w3"));
}

TEST_CASE("a heartbeat renews the pair's lease with the job's; a stale fence cannot renew", "[jobs][fencing]") {
  SyncFixture f;
  QueueOptions options;
  options.lease = seconds(60);
  JobQueue q(f.t.db(), f.clock, options);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  const Job job = **q.claim("w1");
  for (int i = 0; i < 4; ++i) {
    f.clock.advance(seconds(45));
    REQUIRE(q.renew(job, "w1"));
    REQUIRE(q.check(job));  // still the pair's run, long past the first lease
  }
  Job stale = job;
  --stale.fence;
  CHECK(q.check(stale).error().cause == core::Cause::LeaseLost);
  CHECK(q.renew(stale, "w1").error().cause == core::Cause::LeaseLost);
  REQUIRE(q.complete(job, "w1"));
  CHECK(q.check(job).error().cause == core::Cause::LeaseLost);  // released
}

TEST_CASE("a job that crashes its process every time dies after its attempts and quarantines its pair",
          "[jobs][crash]") {
  SyncFixture f;
  test::TempDir dataDir;
  const auto& clock = core::systemClock();  // the children live in real time
  QueueOptions options;
  options.maxAttempts = 3;
  JobQueue q(f.t.db(), clock, options);
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  const auto target = store::resolveDatabaseUrl(f.t.url(), dataDir.path());
  REQUIRE(target);

  // Each child is one start of `calgate serve` after the previous one crashed: it takes back what
  // its dead predecessor held (no waiting for the 300 s lease) and runs a handler that aborts.
  auto start = [&]() -> int {
    const pid_t child = ::fork();
    if (child == 0) {
      std::signal(SIGABRT, SIG_DFL);  // no test-framework handler in the child
      const rlimit noCore{0, 0};
      ::setrlimit(RLIMIT_CORE, &noCore);
      auto db = store::Database::open(*target, 1);
      if (!db) ::_exit(10);
      JobQueue queue(**db, clock, options);
      const auto me = ProcessIdentity::current(dataDir.path());
      if (!queue.reclaim([&](const std::string& owner) { return me.isDeadPredecessor(owner); })) ::_exit(11);
      Worker worker(queue, me.owner() + "#0");
      worker.on("sync_pair", [](const Job&) -> core::Result<void> { std::abort(); });
      auto ran = worker.runOnce();
      ::_exit(!ran ? 12 : *ran ? 13 : 0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  };
  for (int attempt = 1; attempt <= 3; ++attempt) {
    INFO("start " << attempt);
    REQUIRE(start() == -SIGABRT);
    CHECK(scalar(f.t.db(), "SELECT attempts FROM jobs WHERE pair_id = :p", f.pairId) == attempt);
  }
  // the fourth start finds the job out of attempts: dead, the pair quarantined, nothing run
  REQUIRE(start() == 0);
  CHECK(scalar(f.t.db(), "SELECT COUNT(*) FROM jobs WHERE state = 'dead' AND pair_id = :p", f.pairId) == 1);
  auto pair = PairStore(f.t.db(), f.clock).get(f.pairId);
  REQUIRE(pair->quarantinedAt);
  CHECK_THAT(pair->quarantineReason, Catch::Contains("stopped without finishing 3 times"));
  CHECK(PairStore(f.t.db(), f.clock).listRunnable()->empty());
  CHECK(q.stats()->quarantinedPairs == 1);
  bool audited = false;
  for (const auto& e : f.auditEntries()) audited = audited || e.entry.action == "pair.quarantine";
  CHECK(audited);
  // quarantined: a job queued anyway (an old request) is not taken
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK_FALSE(*q.claim("w"));
  // released (by its user or the operator): scheduled again, the dead job gone
  REQUIRE(PairStore(f.t.db(), f.clock).release(f.pairId));
  CHECK(PairStore(f.t.db(), f.clock).release(f.pairId).error().code == core::ErrorCode::Conflict);
  CHECK(PairStore(f.t.db(), f.clock).listRunnable()->size() == 1);
  CHECK(q.stats()->dead == 0);
  CHECK(*q.claim("w"));
}

TEST_CASE("a process recognises its own dead predecessor's leases, and only those", "[jobs][identity]") {
  test::TempDir dir, otherDir;
  const auto me = ProcessIdentity::current(dir.path());
  REQUIRE(ProcessIdentity::parse(me.owner() + "#3"));
  CHECK(ProcessIdentity::parse(me.owner())->pid == me.pid);
  CHECK_FALSE(me.isDeadPredecessor(me.owner() + "#0"));  // this process
  // a process that is gone (a child that exited), on this host and data directory
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  ProcessIdentity gone = me;
  gone.pid = child;
  gone.startTicks = me.startTicks + 1;
  CHECK(me.isDeadPredecessor(gone.owner() + "#1"));
  // the parent of this test still runs: its leases stay
  ProcessIdentity parent = me;
  parent.pid = ::getppid();
  const auto parentNow = ProcessIdentity::current(dir.path());
  std::ifstream stat("/proc/" + std::to_string(parent.pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;
  parent.startTicks = std::stoll(field);
  CHECK_FALSE(me.isDeadPredecessor(parent.owner()));
  // ...but a recycled pid is another process: the old one is gone
  parent.startTicks += 1;
  CHECK(me.isDeadPredecessor(parent.owner()));
  // the machine rebooted since the lease was taken
  ProcessIdentity beforeReboot = me;
  beforeReboot.boot = "00000000-0000-0000-0000-000000000000";
  CHECK(me.isDeadPredecessor(beforeReboot.owner()));
  // another data directory, another host, an owner this version cannot read: never
  CHECK_FALSE(me.isDeadPredecessor(ProcessIdentity{gone.host, gone.boot, ProcessIdentity::current(otherDir.path()).dataDir,
                                                   gone.pid, gone.startTicks}
                                       .owner()));
  ProcessIdentity elsewhere = gone;
  elsewhere.host = "another-host";
  CHECK_FALSE(me.isDeadPredecessor(elsewhere.owner()));
  CHECK_FALSE(me.isDeadPredecessor("myhost:1234/0"));
  CHECK_FALSE(me.isDeadPredecessor("calgate/1 host=x pid=1"));
  CHECK_FALSE(me.isDeadPredecessor(""));
  CHECK(parentNow.owner() == me.owner());
}

TEST_CASE("a restarted process takes back its dead predecessor's jobs at once; other processes' keep theirs",
          "[jobs][identity]") {
  SyncFixture f;
  test::TempDir dir;
  JobQueue q(f.t.db(), f.clock);
  const auto me = ProcessIdentity::current(dir.path());
  ProcessIdentity dead = me;
  dead.pid = 999999999;  // no such process
  ProcessIdentity alive = me;
  alive.host = "other-host";
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  REQUIRE(*q.enqueue("purge", "", "purge"));
  const Job mine = **q.claim(dead.owner() + "#0");
  const Job theirs = **q.claim(alive.owner() + "#0");
  CHECK_FALSE(*q.claim(me.owner() + "#0"));
  auto reclaimed = q.reclaim([&](const std::string& owner) { return me.isDeadPredecessor(owner); });
  REQUIRE(reclaimed);
  CHECK(*reclaimed == 1);
  auto again = q.claim(me.owner() + "#0");  // without waiting for the lease
  REQUIRE(*again);
  CHECK((*again)->id == mine.id);
  CHECK((*again)->attempts == 2);  // the crashed attempt counts
  CHECK_FALSE(*q.claim(me.owner() + "#1"));  // the other host's job keeps its lease
  CHECK(q.check(**again));
  REQUIRE(q.complete(theirs, alive.owner() + "#0"));
}

TEST_CASE("queued jobs wake workers: in this process through the signal, across processes through the database",
          "[jobs][wakeup]") {
  SyncFixture f;
  JobSignal signal;
  QueueOptions options;
  options.signal = &signal;
  JobQueue q(f.t.db(), f.clock, options);
  auto listener = store::ChangeListener::open(f.t.db(), kJobsChannel);
  REQUIRE(listener);
  CHECK_FALSE(*(*listener)->wait(milliseconds(30)));  // nothing happened yet

  auto seen = signal.seen();
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK(signal.waitPast(seen, milliseconds(0)));  // already signalled: no wait at all
  CHECK(*(*listener)->wait(seconds(10)));         // another connection (process) hears of it
  // a coalesced duplicate queues nothing and wakes nobody in this process
  seen = signal.seen();
  REQUIRE_FALSE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK_FALSE(signal.waitPast(seen, milliseconds(0)));
  // a finished job wakes too: a follow-up of its pair may be waiting for it
  const Job job = **q.claim("w");
  REQUIRE(*q.enqueue("sync_pair", f.pairId, "sync:" + f.pairId));
  CHECK_FALSE(*q.hasRunnable());  // the follow-up waits for the running job's pair
  seen = signal.seen();
  REQUIRE(q.complete(job, "w"));
  CHECK(signal.waitPast(seen, milliseconds(0)));
  CHECK(*q.hasRunnable());
  CHECK(store::ChangeListener::open(f.t.db(), "no spaces; DROP").error().code == core::ErrorCode::Invalid);
}

TEST_CASE("the SQLite change listener's kept statement holds no read transaction between polls", "[jobs][signal]") {
  SyncFixture f;
  if (f.t.dialect() != store::Dialect::Sqlite) return;  // PostgreSQL listens with LISTEN, not by polling
  auto listener = store::ChangeListener::open(f.t.db(), kJobsChannel);
  REQUIRE(listener);
  JobQueue q(f.t.db(), f.clock);
  for (int i = 0; i < 3; ++i) {
    REQUIRE(*q.enqueue("purge", "", "purge-" + std::to_string(i)));
    CHECK(*(*listener)->wait(seconds(10)));  // it sees each new commit...
    // ...and is not left inside a read transaction: the whole WAL can be checkpointed
    int busy = -1, logFrames = -1, done = -1;
    REQUIRE(f.t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      sql << "PRAGMA wal_checkpoint(TRUNCATE)", soci::into(busy), soci::into(logFrames), soci::into(done);
      return {};
    }));
    CHECK(busy == 0);
  }
}
