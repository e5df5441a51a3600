#pragma once
// A sync pair over a real store (SQLite, or PostgreSQL when CG_TEST_POSTGRES_URL_FILE is set)
// between two in-memory FakeProviders, with a fake clock and a fixed organisation policy.

#include "calgate/accounts/account_store.hpp"
#include "calgate/accounts/user_store.hpp"
#include "calgate/audit/audit_log.hpp"
#include "calgate/policy/org_policy_source.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/mapping_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_engine.hpp"
#include "calgate/vault/vault.hpp"
#include "fakes/fake_clock.hpp"
#include "fakes/fake_provider.hpp"
#include "support/test_database.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace calgate::test {

/// Organisation policies by domain; "no policy" for any other.
class StaticOrgPolicies final : public policy::OrgPolicySource {
 public:
  std::map<std::string, policy::OrgPolicy> byDomain;
  policy::OrgPolicy policyFor(const std::string& domain) override {
    auto it = byDomain.find(domain);
    return it == byDomain.end() ? policy::OrgPolicy::none(domain) : it->second;
  }
};

/// Builders for source events. Times are UTC unless a zone is given.
model::Event timedEvent(const std::string& uid, const std::string& title, std::chrono::sys_seconds start,
                            std::chrono::minutes length = std::chrono::minutes(60), const std::string& zone = "UTC");
model::Event allDayEvent(const std::string& uid, const std::string& title, std::chrono::year_month_day first,
                             int days);

struct SyncFixture {
  explicit SyncFixture(sync::Direction direction = sync::Direction::OneWay,
                       sync::SyncOptions options = {});

  TestDatabase t;
  FakeClock clock = FakeClock::at(std::chrono::year{2026} / std::chrono::November / 21, std::chrono::hours(9));
  std::unique_ptr<vault::Vault> vault;
  StaticOrgPolicies orgs;
  FakeProvider work;  // source side
  FakeProvider home;  // target side
  std::string userId;
  sync::CalendarRef workCal, homeCal;
  std::string pairId;
  sync::SyncOptions options;
  std::unique_ptr<sync::SyncEngine> engine;

  static constexpr const char* kWork = "work";  // provider calendar ids
  static constexpr const char* kHome = "home";

  /// Previews the pair's plan, runs the pair once and checks the run applied exactly the
  /// previewed steps (one provider write per writing step); fails the test on an error.
  sync::SyncReport sync();
  std::size_t previewsChecked = 0;  ///< runs whose preview was compared
  core::Result<sync::SyncReport> trySync();
  /// Recreates the engine (a restart), e.g. with other options.
  void restart(sync::SyncOptions next);
  std::size_t writesToHome() const { return home.writes(); }
  /// Resources of a calendar keyed by the master's title (or the first event's title).
  std::map<std::string, std::vector<model::Event>> byTitle(const FakeProvider& p, const std::string& cal) const;
  std::vector<audit::StoredEntry> auditEntries();
};

}  // namespace calgate::test
