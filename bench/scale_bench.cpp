// How the service's fixed costs grow with the number of pairs (issue 27): the scheduler's tick
// (SyncService::schedule queues a sync of every pair each poll interval; a second tick finds them
// all queued), a worker's claim with that many jobs queued, the database's size per pair, and the
// process's memory. Its own main: one line per size.
//   build/bench/bench/calgate_bench_scale [pairs...]          SQLite (a file in /tmp), default 1000 10000
//   CG_BENCH_POSTGRES_URL=postgresql://... calgate_bench_scale  ...on PostgreSQL (an empty database)
// Each pair has a source and a target calendar of its own; ten pairs per user.
#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_service.hpp"
#include "calgate/vault/vault.hpp"
#include "bench_database.hpp"
#include "bench_support.hpp"

#include <soci/soci.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace calgate;
using bench::die;
using bench::must;

namespace {

/// Never opens a provider: the benchmark runs no sync.
struct NoProviders final : sync::ProviderFactory {
  core::Result<std::unique_ptr<providers::Provider>> open(const sync::CalendarRef&, Deadline) override {
    return core::fail(core::ErrorCode::Unavailable, "no providers in this benchmark");
  }
};

double cpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

long rssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

template <class F>
std::pair<double, double> timed(F&& f) {
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpuSeconds();
  f();
  return {std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count(), cpuSeconds() - c0};
}

void run(int pairs, const std::string& postgresUrl) {
  const auto dir = std::filesystem::temp_directory_path() / ("calgate-scale-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto db = bench::freshDatabase(postgresUrl, dir, 4);
  const auto& clock = core::systemClock();
  auto vault = must(vault::Vault::open(*db, vault::MasterKeyMaterial{vault::MasterKeyMaterial::Kind::Raw,
                                                                      vault::SecretBytes(vault::kKeyBytes, 5), "scale"},
                                       clock),
                    "vault");
  accounts::AccountStore accounts(*db, *vault, clock);
  sync::CalendarStore calendars(*db, clock);
  sync::PairStore pairStore(*db, clock);
  const auto [setupWall, setupCpu] = timed([&] {
    std::string userId, workAccount, homeAccount;
    for (int i = 0; i < pairs; ++i) {
      if (i % 10 == 0) {
        const std::string n = std::to_string(i / 10);
        userId = must(accounts::UserStore(*db, clock).addUser("u" + n + "@work.example", "u" + n), "user").first.id;
        const vault::SecretBytes secret{'x'};
        workAccount = must(accounts.create({userId, model::ProviderKind::CalDav, "u" + n + "@work.example",
                                            "https://dav.work.example/"}, secret), "account").id;
        homeAccount = must(accounts.create({userId, model::ProviderKind::CalDav, "u" + n + "@home.example",
                                            "https://dav.home.example/"}, secret), "account").id;
      }
      const std::string k = std::to_string(i);
      auto a = must(calendars.upsert(workAccount, "https://dav.work.example/cal/" + k + "/", "Work", "UTC", true), "calendar");
      auto b = must(calendars.upsert(homeAccount, "https://dav.home.example/cal/" + k + "/", "Home", "UTC", true), "calendar");
      sync::NewPair np;
      np.userId = userId;
      np.sourceCalendarId = a.id;
      np.targetCalendarId = b.id;
      must(pairStore.create(np), "pair");
    }
  });
  NoProviders providers;
  bench::NoOrgPolicy orgs;
  sync::SyncConfig config;
  config.workers = 0;
  sync::SyncService service(*db, orgs, providers, clock, config, sync::ProcessIdentity::current(dir));
  std::size_t queued = 0;
  const auto [firstWall, firstCpu] = timed([&] { queued = must(service.schedule(), "first tick"); });
  std::size_t again = 0;
  const auto [tickWall, tickCpu] = timed([&] { again = must(service.schedule(), "second tick"); });
  if (queued != static_cast<std::size_t>(pairs) || again != 0) die("the ticks did not queue every pair once");
  sync::JobQueue queue(*db, clock);
  std::optional<sync::Job> job;
  const auto [claimWall, claimCpu] = timed([&] { job = must(queue.claim("bench-worker"), "claim"); });
  if (!job) die("nothing to claim");
  double bytes = 0;
  if (postgresUrl.empty()) {
    for (const auto& f : std::filesystem::directory_iterator(dir)) {
      if (f.path().string().find("calgate.db") != std::string::npos) bytes += static_cast<double>(f.file_size());
    }
  } else {
    long long size = 0;
    must(db->withSession([&](soci::session& sql) -> core::Result<bool> {
      sql << "SELECT pg_database_size(current_database())", soci::into(size);
      return true;
    }), "database size");
    bytes = static_cast<double>(size);
  }
  std::printf("%-10s %7d pairs | setup %6.1f s | first tick %7.3f s (%.3f CPU) | next tick %7.3f s (%.3f CPU), "
              "%5.1f us/pair | claim %6.1f ms | db %6.2f KiB/pair | RSS %ld MiB\n",
              postgresUrl.empty() ? "sqlite" : "postgresql", pairs, setupWall, firstWall, firstCpu, tickWall, tickCpu,
              tickWall * 1e6 / pairs, claimWall * 1e3, bytes / 1024.0 / pairs, rssKib() / 1024);
  (void)setupCpu;
  (void)claimCpu;
  std::fflush(stdout);
  db.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("CG_BENCH_POSTGRES_URL");
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("calgate_bench_scale [pairs...]  (default 1000 10000; CG_BENCH_POSTGRES_URL for PostgreSQL)\n");
      return 0;
    }
    sizes.push_back(std::atoi(argv[i]));
  }
  if (sizes.empty()) sizes = {1000, 10000};
  for (int n : sizes) {
    if (n <= 0) die("a size is a positive number of pairs");
    run(n, url ? url : "");
  }
  return 0;
}
