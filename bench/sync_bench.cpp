// Sync engine throughput and latency.
//   build/release/bench/calgate_bench_sync                      FakeProvider -> FakeProvider on SQLite
//   CG_BENCH_POSTGRES_URL=postgresql://... calgate_bench_sync   ...and on PostgreSQL (an empty database)
//   CG_BENCH_CALDAV_STATE=/tmp/calgate-caldav calgate_bench_sync   ...and Radicale -> Xandikos, 1,000 events
// (start the servers with tests/services/{postgres,caldav}.sh start <dir>).
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/policy/content_hash.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/providers/caldav/caldav_provider.hpp"
#include "calgate/providers/http/curl_http_client.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "calgate/vault/vault.hpp"
#include "bench_database.hpp"
#include "bench_support.hpp"
#include "fakes/fake_provider.hpp"

#include <benchmark/benchmark.h>
#include <soci/soci.h>

#include <cstdlib>
#include <filesystem>
#include <thread>
#include <fstream>
#include <unistd.h>

using namespace calgate;
using namespace calgate::accounts;
using namespace calgate::store;
using namespace std::chrono;

namespace {

using bench::NoOrgPolicy;
using bench::die;
using bench::must;

/// A store with one user, two accounts, a calendar on each and a pair between them.
struct Store {
  std::filesystem::path dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<vault::Vault> vault;
  std::string pairId;

  Store(const std::string& postgresUrl, const std::string& sourceCal, const std::string& targetCal) {
    if (postgresUrl.empty()) {
      dir = std::filesystem::temp_directory_path() / ("calgate-bench-" + std::to_string(::getpid()));
      std::filesystem::remove_all(dir);
    }
    db = bench::freshDatabase(postgresUrl, dir.empty() ? std::filesystem::path(".") : dir, 4);
    const auto& clock = core::systemClock();
    auto user = must(UserStore(*db, clock).addUser("bench@work.example", "bench"), "user");
    vault = must(vault::Vault::open(*db, vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw,
                                                                   vault::SecretBytes(vault::kKeyBytes, 3), "bench"},
                                    clock),
                 "vault");
    AccountStore accounts(*db, *vault, clock);
    const vault::SecretBytes secret{'x'};
    auto a = must(accounts.create({user.first.id, model::ProviderKind::CalDav, "bench@work.example", "https://w.example/"}, secret), "a");
    auto b = must(accounts.create({user.first.id, model::ProviderKind::CalDav, "bench@home.example", "https://h.example/"}, secret), "b");
    sync::CalendarStore calendars(*db, clock);
    auto ca = must(calendars.upsert(a.id, sourceCal, "Work", "Europe/Berlin", true), "calendar");
    auto cb = must(calendars.upsert(b.id, targetCal, "Home", "Europe/Berlin", true), "calendar");
    sync::NewPair np;
    np.userId = user.first.id;
    np.sourceCalendarId = ca.id;
    np.targetCalendarId = cb.id;
    pairId = must(sync::PairStore(*db, clock).create(np), "pair").id;
  }
  ~Store() {
    db.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
};

// The engine as the gateway runs it: copies' fingerprints keyed (gateway/app: the vault's
// keyed-hash key; never plain hashes).
sync::SyncOptions gatewayOptions() {
  sync::SyncOptions options;
  options.hasher = std::make_shared<const policy::ContentHasher>(std::string(32, 'k'));
  return options;
}

model::Event event(int i, const std::string& title) {
  model::Event e;
  e.uid = "bench-" + std::to_string(i);
  e.title = title;
  e.description = "agenda of " + title;
  const auto start = sys_days(2026y / December / 1) + hours(i % 2000);
  e.start = model::ZonedTime{start, "Europe/Berlin"};
  e.end = model::ZonedTime{start + minutes(30), "Europe/Berlin"};
  return e;
}

std::string postgresUrl() {
  const char* url = std::getenv("CG_BENCH_POSTGRES_URL");
  return url ? url : "";
}

// An initial sync of `kEvents` events; `writeWait`: how long the target takes to answer each write
// (a CalDAV server's PUT on loopback: 20-30 ms), spent asleep as a server's answer would be.
void initialSync(benchmark::State& state, const std::string& url, std::size_t events = 10000,
                 std::chrono::milliseconds writeWait = {}) {
  for (auto _ : state) {
    state.PauseTiming();
    {
      test::FakeProvider source, target;
      if (writeWait.count() > 0) {
        target.beforeWrite = [writeWait](const std::string&) -> core::Result<void> {
          std::this_thread::sleep_for(writeWait);
          return {};
        };
      }
      for (std::size_t i = 0; i < events; ++i) source.userPut("work", {event(static_cast<int>(i), "Event " + std::to_string(i))});
      Store store(url, "work", "home");
      NoOrgPolicy orgs;
      sync::SyncEngine engine(*store.db, orgs, core::systemClock(), gatewayOptions());
      state.ResumeTiming();
      auto report = engine.syncPair(store.pairId, source, target);
      state.PauseTiming();
      if (!report || report->created != events) die("initial sync did not create every event");
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<benchmark::IterationCount>(events));
}

void BM_InitialSync10k_Sqlite(benchmark::State& state) { initialSync(state, ""); }

/// The engine's CPU per event when, as on a CalDAV server, every write waits for its answer: the
/// same instructions run after each wait on a cold core (bench/README: CPU time against instructions).
void BM_InitialSync1k_Waiting25ms_Sqlite(benchmark::State& state) { initialSync(state, "", 1000, milliseconds(25)); }

void BM_InitialSync10k_Postgres(benchmark::State& state) {
  if (postgresUrl().empty()) {
    state.SkipWithError("set CG_BENCH_POSTGRES_URL");
    return;
  }
  initialSync(state, postgresUrl());
}

/// The run right after an initial sync of 10,000 events (nothing changed at the source; the target's
/// listing shows calgate's 10,000 copies, new since its cursor), and a true no-op run after that.
/// Reports the copies the target's pulls read back (`target_reads`).
void resync(benchmark::State& state, bool noop) {
  constexpr int kEvents = 10000;
  for (auto _ : state) {
    state.PauseTiming();
    {
      test::FakeProvider source, target;
      for (int i = 0; i < kEvents; ++i) source.userPut("work", {event(i, "Event " + std::to_string(i))});
      Store store("", "work", "home");
      NoOrgPolicy orgs;
      sync::SyncEngine engine(*store.db, orgs, core::systemClock(), gatewayOptions());
      if (!engine.syncPair(store.pairId, source, target)) die("initial sync");
      ::sleep(1);  // the copies are older than the next listing, as between real runs
      if (noop) {
        if (!engine.syncPair(store.pairId, source, target)) die("resync");
        ::sleep(1);
      }
      const auto reads = target.reads;
      state.ResumeTiming();
      auto report = engine.syncPair(store.pairId, source, target);
      state.PauseTiming();
      if (!report || report->writes() != 0) die("the run after the initial sync wrote something");
      state.counters["target_reads"] = static_cast<double>(target.reads - reads);
    }
    state.ResumeTiming();
  }
}

void BM_ResyncAfterInitial10k_Sqlite(benchmark::State& state) { resync(state, false); }
void BM_NoOp10k_Sqlite(benchmark::State& state) { resync(state, true); }

/// One source change, from the pull that sees it to the write of its copy, with 10,000 mapped events.
void oneChange(benchmark::State& state, const std::string& url) {
  test::FakeProvider source, target;
  for (int i = 0; i < 10000; ++i) source.userPut("work", {event(i, "Event " + std::to_string(i))});
  Store store(url, "work", "home");
  NoOrgPolicy orgs;
  sync::SyncEngine engine(*store.db, orgs, core::systemClock(), gatewayOptions());
  if (!engine.syncPair(store.pairId, source, target)) die("initial sync");
  engine.syncPair(store.pairId, source, target);  // the target's pull has seen its own copies
  int n = 0;
  for (auto _ : state) {
    source.userPut("work", {event(n % 10000, "Changed " + std::to_string(n))});
    ++n;
    auto report = engine.syncPair(store.pairId, source, target);
    if (!report || report->updated != 1) die("one change did not make one update");
    // the next run sees the copy it wrote: keep that out of the next measurement
    state.PauseTiming();
    engine.syncPair(store.pairId, source, target);
    state.ResumeTiming();
  }
}

void BM_OneChangeLatency_Sqlite(benchmark::State& state) { oneChange(state, ""); }
void BM_OneChangeLatency_Postgres(benchmark::State& state) {
  if (postgresUrl().empty()) {
    state.SkipWithError("set CG_BENCH_POSTGRES_URL");
    return;
  }
  oneChange(state, postgresUrl());
}

std::string readUrl(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

void BM_RadicaleToXandikos1k(benchmark::State& state) {
  const char* dir = std::getenv("CG_BENCH_CALDAV_STATE");
  if (!dir) {
    state.SkipWithError("set CG_BENCH_CALDAV_STATE");
    return;
  }
  const std::string radicale = readUrl(std::string(dir) + "/radicale.url");
  const std::string xandikos = readUrl(std::string(dir) + "/xandikos.url");
  providers::HttpClientOptions options;
  options.allowLoopback = true;
  options.allowPlainHttp = true;
  providers::CurlHttpClient http(options);
  auto send = [&](const std::string& method, const std::string& url, const std::string& body, bool auth) {
    providers::HttpRequest r;
    r.method = method;
    r.url = url;
    r.body = body;
    r.headers = {{"Content-Type", method == "PUT" ? "text/calendar" : "application/xml"}};
    if (auth) {
      r.username = "alice";
      const std::string pw = "alice-app-password";
      r.password.assign(pw.begin(), pw.end());
    }
    auto resp = http.send(r);
    if (!resp || resp->status >= 300) die(method + " " + url);
  };
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string tag = std::to_string(::getpid()) + "-" + std::to_string(round++);
    const std::string src = radicale + "alice/bench-src-" + tag + "/";
    const std::string dst = xandikos + "user/calendars/bench-dst-" + tag + "/";
    const std::string mk =
        "<?xml version=\"1.0\"?><c:mkcalendar xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">"
        "<d:set><d:prop><d:displayname>bench</d:displayname></d:prop></d:set></c:mkcalendar>";
    send("MKCALENDAR", src, mk, true);
    send("MKCALENDAR", dst, mk, false);
    for (int i = 0; i < 1000; ++i) {
      const auto day = 1 + i % 28;
      send("PUT", src + "e" + std::to_string(i) + ".ics",
           "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:e" + std::to_string(i) +
               "\r\nDTSTAMP:20261121T000000Z\r\nDTSTART;TZID=Europe/Berlin:202612" + (day < 10 ? "0" : "") +
               std::to_string(day) + "T090000\r\nDTEND;TZID=Europe/Berlin:202612" + (day < 10 ? "0" : "") +
               std::to_string(day) + "T100000\r\nSUMMARY:Event " + std::to_string(i) +
               "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
           true);
    }
    providers::caldav::CalDavAccount ra{radicale, "alice", {}};
    const std::string pw = "alice-app-password";
    ra.password.assign(pw.begin(), pw.end());
    providers::caldav::CalDavAccount xa{xandikos, "user", {}};
    providers::caldav::CalDavProvider source(http, ra, core::systemClock());
    providers::caldav::CalDavProvider target(http, xa, core::systemClock());
    Store store(postgresUrl(), src, dst);
    NoOrgPolicy orgs;
    sync::SyncEngine engine(*store.db, orgs, core::systemClock(), gatewayOptions());
    state.ResumeTiming();
    auto report = engine.syncPair(store.pairId, source, target);
    state.PauseTiming();
    if (!report || report->created != 1000) die("Radicale -> Xandikos did not create 1,000 copies");
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

}  // namespace

BENCHMARK(BM_InitialSync10k_Sqlite)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_InitialSync1k_Waiting25ms_Sqlite)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime()->MeasureProcessCPUTime();
BENCHMARK(BM_InitialSync10k_Postgres)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_ResyncAfterInitial10k_Sqlite)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_NoOp10k_Sqlite)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
BENCHMARK(BM_OneChangeLatency_Sqlite)->Unit(benchmark::kMillisecond)->Iterations(20)->UseRealTime();
BENCHMARK(BM_OneChangeLatency_Postgres)->Unit(benchmark::kMillisecond)->Iterations(20)->UseRealTime();
BENCHMARK(BM_RadicaleToXandikos1k)->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
