// Two `calgate serve` processes share one PostgreSQL job queue and sync pairs between Radicale
// calendars: every job runs exactly once, and every event is written exactly once.
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/http/http_client.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/vault/vault.hpp"
#include "support/dav_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_database.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <csignal>
#include <map>
#include <regex>
#include <thread>
#include <unistd.h>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using namespace std::chrono;

namespace {

constexpr const char* kMasterKeyBase64 = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";  // 32 bytes of 0x07

/// Radicale, edited directly (calendars and events the gateway then syncs).
struct Radicale : test::DavClient {
  std::string base = s.base;
  Radicale() : DavClient(test::davServer("radicale")) {}
  std::string calendar(const std::string& name) { return makeCalendar(name); }
  void event(const std::string& calendar, const std::string& uid, int day) {
    const std::string d = (day < 10 ? "0" : "") + std::to_string(day);
    REQUIRE(send("PUT", calendar + uid + ".ics",
                 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:" + uid +
                     "\r\nDTSTAMP:20261121T000000Z\r\nDTSTART:202612" + d + "T090000Z\r\nDTEND:202612" + d +
                     "T100000Z\r\nSUMMARY:Event " + uid + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                 {{"Content-Type", "text/calendar"}})
                .status == 201);
  }
};

/// A migrated store with Alice, an open vault and her CalDAV accounts on the test Radicale.
struct Gateway {
  test::TestDatabase t;
  const core::Clock& clock = core::systemClock();
  std::string userId;
  std::unique_ptr<vault::Vault> vault;
  Radicale dav;
  std::unique_ptr<AccountStore> accounts;

  Gateway() {
    REQUIRE(Migrator(t.db(), builtinMigrations(t.dialect()), clock).migrate());
    auto user = UserStore(t.db(), clock).addUser("alice@work.example", "t");
    REQUIRE(user);
    userId = user->first.id;
    auto opened = vault::Vault::open(
        t.db(), vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw, vault::SecretBytes(vault::kKeyBytes, 7), "t"},
        clock);
    REQUIRE(opened);
    vault = std::move(*opened);
    accounts = std::make_unique<AccountStore>(t.db(), *vault, clock);
  }
  std::string account(const std::string& email) {
    const std::string json = R"({"username":"alice","password":"alice-app-password"})";
    auto a = accounts->create({userId, model::ProviderKind::CalDav, email, dav.base},
                              vault::SecretBytes(json.begin(), json.end()));
    REQUIRE(a);
    return a->id;
  }
  /// A pair between two new calendars of these accounts; returns the target calendar's id.
  std::string pair(const std::string& fromAccount, const std::string& src, const std::string& toAccount,
                   const std::string& dst) {
    sync::CalendarStore calendars(t.db(), clock);
    auto a = calendars.upsert(fromAccount, src, "Work", "UTC", true);
    auto b = calendars.upsert(toAccount, dst, "Home", "UTC", true);
    REQUIRE(a);
    REQUIRE(b);
    sync::NewPair np;
    np.userId = userId;
    np.sourceCalendarId = a->id;
    np.targetCalendarId = b->id;
    REQUIRE(sync::PairStore(t.db(), clock).create(np));
    return b->id;
  }
  /// What `calgate serve` runs with: this database, `workers` job threads, no scheduled polls.
  std::map<std::string, std::string> serveEnv(int workers) const {
    return {{"CALGATE_SERVER_PORT", "0"},
            {"CALGATE_DATABASE_URL", t.url()},
            {"CALGATE_MASTER_KEY", kMasterKeyBase64},
            {"CALGATE_SYNC_WORKERS", std::to_string(workers)},
            {"CALGATE_SYNC_POLL_INTERVAL_SECONDS", "3600"},
            {"CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS", "true"},
            {"CALGATE_DNS_SERVERS", "127.0.0.1:9"},
            {"CALGATE_DNS_TIMEOUT_MS", "100"}};
  }
};

std::string uniqueTag() {
  return std::to_string(::getpid()) + "-" + std::to_string(system_clock::now().time_since_epoch().count() % 100000);
}

}  // namespace

TEST_CASE("two calgate processes on one PostgreSQL never run the same job twice", "[e2e][jobs][caldav]") {
  Gateway g;
  REQUIRE(test::usingPostgres());
  auto& t = g.t;
  auto& dav = g.dav;
  const std::string work = g.account("alice@work.example");
  const std::string home = g.account("alice@home.example");

  constexpr int kPairs = 8, kEvents = 5;
  const std::string tag = uniqueTag();
  std::vector<std::string> targets;
  for (int p = 0; p < kPairs; ++p) {
    const auto src = dav.calendar("w" + tag + "-" + std::to_string(p));
    const auto dst = dav.calendar("h" + tag + "-" + std::to_string(p));
    for (int e = 0; e < kEvents; ++e) dav.event(src, "p" + std::to_string(p) + "e" + std::to_string(e), 1 + e);
    targets.push_back(g.pair(work, src, home, dst));
  }

  test::TempDir d1, d2;
  const auto env = g.serveEnv(3);
  test::Process first({CALGATE_BINARY, "serve"}, env, d1.path());
  test::Process second({CALGATE_BINARY, "serve"}, env, d2.path());

  // wait until the queue is drained and every pair has run
  long long remaining = -1, synced = 0;
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(milliseconds(200));
    REQUIRE(t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      sql << "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')", soci::into(remaining);
      sql << "SELECT COUNT(*) FROM pairs WHERE last_success_at IS NOT NULL", soci::into(synced);
      return {};
    }));
    if (remaining == 0 && synced == kPairs) break;
  }
  first.signal(SIGTERM);
  second.signal(SIGTERM);
  auto r1 = first.wait(seconds(30));
  auto r2 = second.wait(seconds(30));
  REQUIRE(r1);
  REQUIRE(r2);
  INFO("first:\n" << r1->err << "\nsecond:\n" << r2->err);
  CHECK(remaining == 0);
  CHECK(synced == kPairs);

  // every job ran once, on one of the six workers of the two processes
  std::map<std::string, int> runs;
  std::map<std::string, int> byProcess;
  const std::regex done(R"re("event":"job\.done".*"job":"(job_[a-z0-9]+)".*"kind":"sync_pair")re");
  for (const auto* log : {&r1->err, &r2->err}) {
    std::istringstream lines(*log);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (std::regex_search(line, m, done)) {
        ++runs[m[1]];
        ++byProcess[log == &r1->err ? "first" : "second"];
      }
    }
  }
  // both schedulers queue a sync of every pair at start; a request that arrives while that pair's
  // job runs queues a follow-up (coalescing only merges queued jobs), so there may be more jobs
  // than pairs - but no job id may appear twice
  CHECK(runs.size() >= kPairs);
  for (const auto& [job, n] : runs) {
    INFO(job);
    CHECK(n == 1);
  }
  // every event was written exactly once, and each target holds exactly its pair's events
  long long writes = 0, mapped = 0;
  REQUIRE(t.db().withSession([&](soci::session& sql) -> core::Result<void> {
    sql << "SELECT COUNT(*) FROM audit_log WHERE action = 'sync.write'", soci::into(writes);
    sql << "SELECT COUNT(*) FROM mappings WHERE state = 'synced'", soci::into(mapped);
    return {};
  }));
  CHECK(writes == kPairs * kEvents);
  CHECK(mapped == kPairs * kEvents);
  INFO("jobs by process: first " << byProcess["first"] << ", second " << byProcess["second"]);
  CHECK(byProcess["first"] + byProcess["second"] == static_cast<int>(runs.size()));
}

TEST_CASE("an operator connects a CalDAV account and pairs two calendars with calgate-admin; calgate serve syncs them",
          "[e2e][caldav][admin]") {
  test::TestDatabase t;
  Radicale dav;
  const std::string tag = uniqueTag();
  const auto src = dav.calendar("ops-src-" + tag);
  const auto dst = dav.calendar("ops-dst-" + tag);
  for (int e = 0; e < 3; ++e) dav.event(src, "ops" + tag + "-" + std::to_string(e), 2 + e);
  t.close();

  test::TempDir dir;
  const std::map<std::string, std::string> env = {{"CALGATE_DATABASE_URL", t.url()},
                                                  {"CALGATE_MASTER_KEY", kMasterKeyBase64},
                                                  {"CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS", "true"},
                                                  {"CALGATE_SERVER_PORT", "0"},
                                                  {"CALGATE_SYNC_POLL_INTERVAL_SECONDS", "3600"},
                                                  {"CALGATE_DNS_SERVERS", "127.0.0.1:9"},
                                                  {"CALGATE_DNS_TIMEOUT_MS", "100"}};
  auto admin = [&](std::vector<std::string> args) {
    args.insert(args.begin(), CALGATE_ADMIN_BINARY);
    auto r = test::run(args, env, dir.path());
    INFO(r.out << r.err);
    REQUIRE(r.exitCode == 0);
    return r.out;
  };
  admin({"db", "migrate"});
  admin({"users", "add", "alice@work.example"});
  // the password comes on stdin, never on the command line
  auto connected = test::run({"/bin/sh", "-c",
                              "printf 'alice-app-password\\n' | \"$0\" accounts add-caldav alice@work.example "
                              "alice@work.example \"$1\" --username alice --json",
                              CALGATE_ADMIN_BINARY, dav.base},
                             env, dir.path());
  INFO(connected.err);
  REQUIRE(connected.exitCode == 0);
  CHECK(connected.out.find("alice-app-password") == std::string::npos);
  const auto listing = nlohmann::json::parse(connected.out);
  std::string srcId, dstId;
  for (const auto& c : listing["calendars"]) {
    if (c["url"] == src) srcId = c["id"];
    if (c["url"] == dst) dstId = c["id"];
  }
  REQUIRE_FALSE(srcId.empty());
  REQUIRE_FALSE(dstId.empty());
  auto wrong = test::run({"/bin/sh", "-c",
                          "printf 'wrong\\n' | \"$0\" accounts add-caldav alice@work.example other@work.example \"$1\" "
                          "--username alice",
                          CALGATE_ADMIN_BINARY, dav.base},
                         env, dir.path());
  CHECK(wrong.exitCode != 0);
  CHECK_THAT(wrong.err, Catch::Contains("cannot list the account's calendars"));

  const auto added = admin({"pairs", "add", srcId, dstId, "--private", "--label", "Work"});
  CHECK_THAT(added, Catch::Contains("created"));

  test::Process serve({CALGATE_BINARY, "serve"}, env, dir.path());
  auto reopened = store::Database::open(*store::resolveDatabaseUrl(t.url(), dir.path()), 1);
  REQUIRE(reopened);
  long long synced = 0;
  for (int i = 0; i < 300 && synced == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(200));
    REQUIRE((*reopened)->withSession([&](soci::session& sql) -> core::Result<void> {
      sql << "SELECT COUNT(*) FROM pairs WHERE last_success_at IS NOT NULL", soci::into(synced);
      return {};
    }));
  }
  serve.signal(SIGTERM);
  auto result = serve.wait(seconds(30));
  REQUIRE(result);
  INFO(result->err);
  CHECK(synced == 1);
  // the copies are private: titled "Work", nothing else
  providers::caldav::CalDavProvider reader(dav.http, test::davAccount(dav.s), core::systemClock());
  auto copies = reader.pullChanges(dst, "", {sys_days{2026y / 1 / 1}, sys_days{2028y / 1 / 1}});
  REQUIRE(copies);
  REQUIRE(copies->changed.size() == 3);
  for (const auto& e : copies->changed) CHECK(e.title == "Work");
  CHECK_THAT(admin({"pairs", "list"}), Catch::Contains("active"));
  CHECK_THAT(admin({"audit", "verify"}), Catch::Contains("audit log intact"));
}

TEST_CASE("calgate serve killed with SIGKILL mid-run: restarted, it takes its job back at once and finishes the pair",
          "[e2e][restart][caldav]") {
  Gateway g;
  auto& t = g.t;
  auto& dav = g.dav;
  const std::string account = g.account("alice@work.example");
  // enough events that the first run is still writing copies when it is killed
  constexpr int kEvents = 120;
  const std::string tag = uniqueTag();
  const auto src = dav.calendar("kill-src-" + tag);
  const auto dst = dav.calendar("kill-dst-" + tag);
  for (int e = 0; e < kEvents; ++e) dav.event(src, "k" + tag + "-" + std::to_string(e), 1 + e % 28);
  g.pair(account, src, account, dst);

  test::TempDir dataDir;
  const auto env = g.serveEnv(1);
  auto count = [&](const std::string& query) {
    long long n = 0;
    REQUIRE(t.db().withSession([&](soci::session& sql) -> core::Result<void> {
      sql << query, soci::into(n);
      return {};
    }));
    return n;
  };
  {
    test::Process first({CALGATE_BINARY, "serve"}, env, dataDir.path());
    for (int i = 0; i < 600 && count("SELECT COUNT(*) FROM mappings") < 10; ++i) std::this_thread::sleep_for(milliseconds(50));
    first.signal(SIGKILL);
    auto killed = first.wait(seconds(30));
    REQUIRE(killed);
    CHECK(killed->signal == SIGKILL);
  }
  const long long before = count("SELECT COUNT(*) FROM mappings");
  INFO("copies recorded before the kill: " << before);
  REQUIRE(before >= 10);
  REQUIRE(before < kEvents);  // killed mid-run
  REQUIRE(count("SELECT COUNT(*) FROM jobs WHERE state = 'running'") == 1);  // its lease has ~300 s to go

  // the restart on the same data directory: the pair syncs again long before the lease would end
  test::Process second({CALGATE_BINARY, "serve"}, env, dataDir.path());
  long long synced = 0;
  for (int i = 0; i < 1200 && synced == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
    synced = count("SELECT COUNT(*) FROM pairs WHERE last_success_at IS NOT NULL");
  }
  second.signal(SIGTERM);
  auto stopped = second.wait(seconds(30));
  REQUIRE(stopped);
  INFO(stopped->err);
  CHECK(synced == 1);
  CHECK_THAT(stopped->err, Catch::Contains("jobs.reclaimed"));
  CHECK(count("SELECT COUNT(*) FROM mappings WHERE state = 'synced'") == kEvents);
  // the pair's one job finished, and no twin was queued beside it to run the pair again
  CHECK(count("SELECT COUNT(*) FROM jobs WHERE kind = 'sync_pair'") == 0);
  // the dead run's own job ran again (its crash counted), not a fresh twin beside it
  std::size_t pairRuns = 0;
  for (auto at = stopped->err.find("\"kind\":\"sync_pair\""); at != std::string::npos;
       at = stopped->err.find("\"kind\":\"sync_pair\"", at + 1)) {
    ++pairRuns;
  }
  CHECK(pairRuns == 1);
  CHECK_THAT(stopped->err, Catch::Contains("\"attempt\":2"));
  // every event copied exactly once: the killed run's copies were found again, not duplicated
  providers::caldav::CalDavProvider reader(dav.http, test::davAccount(dav.s), core::systemClock());
  auto copies = reader.pullChanges(dst, "", {sys_days{2026y / 1 / 1}, sys_days{2028y / 1 / 1}});
  REQUIRE(copies);
  CHECK(copies->changed.size() == static_cast<std::size_t>(kEvents));
}
