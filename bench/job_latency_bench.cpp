// "Sync now" -> job start latency: from the request's enqueue (what POST /v1/pairs/{id}/sync
// does) to the moment a SyncService worker starts the job (its handler opens the pair's source
// calendar), with a worker free. Not a Google Benchmark: it reports a latency distribution.
//   build/release/bench/calgate_bench_job_latency [samples]                 SQLite
//   CG_BENCH_POSTGRES_URL=postgresql://... calgate_bench_job_latency        ...and PostgreSQL
// Each database is measured with the workers in the enqueuing process (the in-process signal
// wakes them) and in a second process (woken through the database: LISTEN/NOTIFY on PostgreSQL,
// PRAGMA data_version on SQLite). The 1 s poll is the fallback either way.
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/core/log.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_service.hpp"
#include "calgate/vault/vault.hpp"
#include "bench_database.hpp"
#include "bench_support.hpp"
#include "fakes/fake_provider.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace calgate;
using namespace std::chrono;

namespace {

constexpr int kPairs = 8;

using bench::NoOrgPolicy;
using bench::die;
using bench::must;

long long monotonicNanos() { return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count(); }

/// Opens empty fake calendars; reports on `fd` when a run opens a pair's source ("w<n>").
class TimingFactory final : public sync::ProviderFactory {
 public:
  explicit TimingFactory(int fd) : fd_(fd) {}
  core::Result<std::unique_ptr<providers::Provider>> open(const sync::CalendarRef& calendar, Deadline) override {
    if (calendar.providerCalendarId.starts_with("w")) {
      const long long message[2] = {std::stoll(calendar.providerCalendarId.substr(1)), monotonicNanos()};
      if (::write(fd_, message, sizeof(message)) != sizeof(message)) die("pipe");
    }
    return std::make_unique<test::FakeProvider>();
  }

 private:
  int fd_;
};

struct Setup {
  store::DatabaseTarget target;
  std::vector<std::string> pairIds;
};

Setup prepare(const std::string& postgresUrl, const std::filesystem::path& dir) {
  Setup s;
  s.target = must(store::resolveDatabaseUrl(postgresUrl, dir), "database url");
  auto db = bench::freshDatabase(postgresUrl, dir, 2);
  const auto& clock = core::systemClock();
  auto user = must(accounts::UserStore(*db, clock).addUser("bench@work.example", "bench"), "user");
  auto vault = must(vault::Vault::open(*db, vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw,
                                                                      vault::SecretBytes(vault::kKeyBytes, 3), "bench"},
                                       clock),
                    "vault");
  accounts::AccountStore accounts(*db, *vault, clock);
  const vault::SecretBytes secret{'x'};
  auto account =
      must(accounts.create({user.first.id, model::ProviderKind::CalDav, "bench@work.example", "https://w.example/"}, secret),
           "account");
  sync::CalendarStore calendars(*db, clock);
  for (int i = 0; i < kPairs; ++i) {
    auto a = must(calendars.upsert(account.id, "w" + std::to_string(i), "Work", "UTC", true), "calendar");
    auto b = must(calendars.upsert(account.id, "h" + std::to_string(i), "Home", "UTC", true), "calendar");
    sync::NewPair np;
    np.userId = user.first.id;
    np.sourceCalendarId = a.id;
    np.targetCalendarId = b.id;
    s.pairIds.push_back(must(sync::PairStore(*db, clock).create(np), "pair").id);
  }
  return s;
}

sync::SyncConfig serviceConfig() {
  sync::SyncConfig config;
  config.workers = 2;
  config.pollInterval = seconds(3600);  // no scheduled runs while measuring
  return config;
}

/// Runs a SyncService until killed (the second process).
[[noreturn]] void serveWorkers(const store::DatabaseTarget& target, const std::filesystem::path& dir, int fd) {
  auto db = must(store::Database::open(target, 4), "open database (workers)");
  NoOrgPolicy orgs;
  TimingFactory factory(fd);
  sync::SyncService service(*db, orgs, factory, core::systemClock(), serviceConfig(),
                            sync::ProcessIdentity::current(dir / "workers"));
  service.start();
  for (;;) ::pause();
}

/// The next run start: (pair index, when).
std::pair<long long, long long> nextStart(int fd) {
  long long message[2];
  if (::read(fd, message, sizeof(message)) != sizeof(message)) die("pipe closed");
  return {message[0], message[1]};
}

void waitIdle(sync::JobQueue& queue) {
  for (int i = 0; i < 20000; ++i) {
    auto stats = must(queue.stats(), "stats");
    if (stats.queued == 0 && stats.running == 0) return;
    std::this_thread::sleep_for(microseconds(500));
  }
  die("the queue never drained");
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void measure(const std::string& name, const std::string& postgresUrl, bool twoProcesses, int samples) {
  const auto dir = std::filesystem::temp_directory_path() / ("calgate-latency-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const Setup setup = prepare(postgresUrl, dir);
  int fds[2];
  if (::pipe(fds) != 0) die("pipe");
  auto db = must(store::Database::open(setup.target, 4), "open database");
  NoOrgPolicy orgs;
  TimingFactory factory(fds[1]);
  std::unique_ptr<sync::SyncService> local;
  pid_t child = -1;
  sync::QueueOptions options;
  if (twoProcesses) {
    child = ::fork();
    if (child == 0) serveWorkers(setup.target, dir, fds[1]);
  } else {
    local = std::make_unique<sync::SyncService>(*db, orgs, factory, core::systemClock(), serviceConfig(),
                                                sync::ProcessIdentity::current(dir));
    options.signal = &local->signal();
    local->start();
  }
  sync::JobQueue queue(*db, core::systemClock(), options);
  std::set<long long> first;  // the scheduler's first runs, in any order
  while (first.size() < kPairs) first.insert(nextStart(fds[0]).first);
  waitIdle(queue);
  std::vector<double> ms;
  for (int s = 0; s < samples; ++s) {
    const int pair = s % kPairs;
    const long long before = monotonicNanos();
    must(queue.enqueue("sync_pair", setup.pairIds[pair], "sync:" + setup.pairIds[pair]), "enqueue");
    const auto [started, at] = nextStart(fds[0]);
    if (started != pair) die("another pair's run started");
    ms.push_back(static_cast<double>(at - before) / 1e6);
    waitIdle(queue);
  }
  if (child > 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  local.reset();
  db.reset();
  std::filesystem::remove_all(dir);
  ::close(fds[0]);
  ::close(fds[1]);
  std::printf("| %-10s | %-13s | %7.2f ms | %7.2f ms | %7.2f ms | %7.2f ms |\n", name.c_str(),
              twoProcesses ? "two processes" : "one process", percentile(ms, 0.5), percentile(ms, 0.9),
              percentile(ms, 0.99), percentile(ms, 1.0));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int samples = argc > 1 ? std::max(10, std::atoi(argv[1])) : 300;
  core::log::setLevel(core::log::Level::Error);
  const char* pg = std::getenv("CG_BENCH_POSTGRES_URL");
  std::printf("\"sync now\" -> job start, %d samples each, a worker free\n\n", samples);
  std::printf("| database   | workers in    | p50        | p90        | p99        | max        |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (bool two : {false, true}) measure("SQLite", "", two, samples);
  if (pg && *pg) {
    for (bool two : {false, true}) measure("PostgreSQL", pg, two, samples);
  } else {
    std::printf("\n(set CG_BENCH_POSTGRES_URL for PostgreSQL)\n");
  }
  return 0;
}
