#include "calgate/audit/audit_log.hpp"
#include "calgate/core/clock.hpp"
#include "calgate/store/migrator.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/pair_store.hpp"
#include "calgate/sync/sync_service.hpp"
#include "context.hpp"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include <iostream>

namespace calgate::admin {


void addPairsCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* cmd = app.add_subcommand("pairs", "Sync pairs: list them, confirm deletions the mass-delete guard stopped, release quarantined ones");
  cmd->require_subcommand(1);

  auto* list = cmd->add_subcommand("list", "List every pair with its state (paused pairs say why)");
  list->add_flag("--json", ctx.json, "Print JSON");
  list->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    auto pairs = sync::PairStore(*ctx.db, core::systemClock()).listAll();
    if (!pairs) {
      exitCode = failWith(pairs.error());
      return;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : *pairs) {
      const std::string state = p.ownerSuspended       ? "suspended"
                                : !p.enabled           ? "disabled"
                                : p.quarantinedAt      ? "quarantined"
                                : p.needsConfirmation  ? "needs_confirmation"
                                                       : "active";
      if (ctx.json) {
        // the last error's kind, as the engine acts on it (null after a success)
        const nlohmann::json code =
            p.lastErrorCode ? nlohmann::json(std::string(core::errorCodeName(*p.lastErrorCode))) : nlohmann::json();
        const nlohmann::json cause = p.lastErrorCause == core::Cause::None
                                         ? nlohmann::json()
                                         : nlohmann::json(std::string(core::causeName(p.lastErrorCause)));
        out.push_back({{"id", p.id},
                       {"user_id", p.userId},
                       {"source_calendar_id", p.sourceCalendarId},
                       {"target_calendar_id", p.targetCalendarId},
                       {"direction", p.direction == sync::Direction::TwoWay ? "two_way" : "one_way"},
                       {"state", state},
                       {"reason", p.quarantinedAt ? p.quarantineReason : p.confirmationReason},
                       {"quarantined_at", p.quarantinedAt ? nlohmann::json(*p.quarantinedAt) : nlohmann::json()},
                       // what `pairs confirm --deletions` names (null unless paused)
                       {"held_deletions", p.needsConfirmation ? nlohmann::json(sync::deletionsDigest(p.guardDeletions))
                                                              : nlohmann::json()},
                       {"last_error", p.lastError},
                       {"last_error_code", code},
                       {"last_error_cause", cause}});
      } else {
        std::cout << p.id << "  " << (p.direction == sync::Direction::TwoWay ? "two-way" : "one-way") << "  "
                  << state;
        if (p.quarantinedAt) std::cout << "  (" << p.quarantineReason << ")";
        if (!p.confirmationReason.empty()) std::cout << "  (" << p.confirmationReason << ")";
        if (p.needsConfirmation) std::cout << "  held deletions " << sync::deletionsDigest(p.guardDeletions);
        if (!p.lastError.empty()) std::cout << "  last error: " << p.lastError;
        std::cout << "\n";
      }
    }
    if (ctx.json) std::cout << out.dump(2) << "\n";
    else if (pairs->empty()) std::cout << "no pairs\n";
    exitCode = app::kExitOk;
  });

  static std::string pairId;
  static std::string digest;
  auto* confirm = cmd->add_subcommand(
      "confirm", "Let a pair the mass-delete guard paused run again; its runs delete what was held, nothing else");
  confirm->add_option("pair", pairId, "The pair's id (see `pairs list`)")->required();
  confirm->add_option("--deletions", digest,
                      "The held deletions' digest as `pairs list` showed it: refused if the pair now holds others "
                      "(default: confirm what it holds now)");
  confirm->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    sync::PairStore pairs(*ctx.db, core::systemClock());
    auto pair = pairs.get(pairId);
    if (!pair) {
      exitCode = failWith(pair.error().code == core::ErrorCode::NotFound ? "no pair " + pairId : pair.error().message);
      return;
    }
    if (!pair->needsConfirmation) {
      exitCode = failWith("pair " + pairId + " is not waiting for a confirmation", app::kExitUsage);
      return;
    }
    if (auto ok = pairs.confirmDeletions(pairId, digest); !ok) {
      exitCode = ok.error().code == core::ErrorCode::Conflict ? failWith(ok.error().message, app::kExitUsage)
                                                              : failWith(ok.error());
      return;
    }
    audit::AuditEntry e;
    e.actor = "admin";
    e.userId = pair->userId;
    e.action = "sync.guard";
    e.objectRef = "pair/" + pairId;
    e.decision = "confirmed";
    e.reasons = {pair->confirmationReason};
    e.facts["deletions"] = sync::deletionsDigest(pair->guardDeletions);
    if (auto ok = audit::AuditLog(*ctx.db, core::systemClock()).append(e); !ok) {
      exitCode = failWith(ok.error());
      return;
    }
    std::cout << "pair " << pairId << " confirmed; its runs may delete the " << pair->guardDeletions.size()
              << " held deletions past the guard\n";
    exitCode = app::kExitOk;
  });

  static std::string releasedId;
  auto* release = cmd->add_subcommand(
      "release", "Lift a pair's quarantine (its job kept crashing or hanging the worker): it is scheduled again");
  release->add_option("pair", releasedId, "The pair's id (see `pairs list`)")->required();
  release->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    sync::PairStore pairs(*ctx.db, core::systemClock());
    auto pair = pairs.get(releasedId);
    if (!pair) {
      exitCode = failWith(pair.error().code == core::ErrorCode::NotFound ? "no pair " + releasedId : pair.error().message);
      return;
    }
    if (auto ok = pairs.release(releasedId); !ok) {
      exitCode = ok.error().code == core::ErrorCode::Conflict
                     ? failWith("pair " + releasedId + " is not quarantined", app::kExitUsage)
                     : failWith(ok.error());
      return;
    }
    audit::AuditEntry e;
    e.actor = "admin";
    e.userId = pair->userId;
    e.action = "pair.release";
    e.objectRef = "pair/" + releasedId;
    e.decision = "released";
    e.reasons = {pair->quarantineReason};
    if (auto ok = audit::AuditLog(*ctx.db, core::systemClock()).append(e); !ok) {
      exitCode = failWith(ok.error());
      return;
    }
    std::cout << "pair " << releasedId << " released; it syncs at the next poll (or at once with `sync now`)\n";
    exitCode = app::kExitOk;
  });

  static std::string source, target, label;
  static bool twoWay = false, privateMode = false;
  static int pastDays = 90, futureDays = 365;
  auto* add = cmd->add_subcommand("add", "Pair a source calendar with a target calendar (ids from `accounts add-caldav`)");
  add->add_option("SOURCE", source, "Source calendar id")->required();
  add->add_option("TARGET", target, "Target calendar id")->required();
  add->add_flag("--two-way", twoWay, "Mirror each side's own events into the other");
  add->add_flag("--private", privateMode, "Copy only busy time, titled with --label");
  add->add_option("--label", label, "Title of private copies (default Busy)");
  add->add_option("--past-days", pastDays, "Sync window into the past")->capture_default_str();
  add->add_option("--future-days", futureDays, "Sync window into the future")->capture_default_str();
  add->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    const auto& clock = core::systemClock();
    sync::CalendarStore calendars(*ctx.db, clock);
    auto a = calendars.get(source);
    auto b = calendars.get(target);
    if (!a || !b) {
      exitCode = failWith("no calendar " + (a ? target : source) + " (see `accounts add-caldav`)", app::kExitUsage);
      return;
    }
    std::string userId;
    if (auto r = ctx.db->withSession([&](soci::session& sql) -> core::Result<void> {
          std::string ua, ub;
          sql << "SELECT user_id FROM accounts WHERE id = :a", soci::into(ua), soci::use(a->accountId);
          sql << "SELECT user_id FROM accounts WHERE id = :b", soci::into(ub), soci::use(b->accountId);
          if (ua != ub) return core::fail(core::ErrorCode::Invalid, "both calendars must belong to one user");
          userId = ua;
          return {};
        });
        !r) {
      exitCode = failWith(r.error());
      return;
    }
    if (!b->writable || (twoWay && !a->writable)) {
      exitCode = failWith("the target calendar is read-only", app::kExitUsage);
      return;
    }
    sync::NewPair np;
    np.userId = userId;
    np.sourceCalendarId = source;
    np.targetCalendarId = target;
    np.direction = twoWay ? sync::Direction::TwoWay : sync::Direction::OneWay;
    if (privateMode) np.rules.mode = policy::PrivacyMode::Private;
    if (!label.empty()) np.rules.label = label;
    np.windowPastDays = pastDays;
    np.windowFutureDays = futureDays;
    auto created = sync::PairStore(*ctx.db, clock).create(np);
    if (!created) {
      exitCode = failWith(created.error());
      return;
    }
    std::cout << "pair " << created->id << " created; calgate serve syncs it within one poll interval\n";
    exitCode = app::kExitOk;
  });

  static std::string removeId;
  static bool deleteCopies = false;
  auto* remove = cmd->add_subcommand(
      "remove", "Stop a pair and forget its mappings; the copies stay (a pair made again for the same calendars "
                "takes them over) unless --delete-copies");
  remove->add_option("pair", removeId, "The pair's id")->required();
  remove->add_flag("--delete-copies", deleteCopies,
                   "Delete the pair's copies from the target calendar(s) too: calgate serve's workers remove "
                   "each one (approved and audited), then the pair");
  remove->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    if (deleteCopies) {
      if (auto ok = sync::scheduleRemovalWithCopies(*ctx.db, core::systemClock(), removeId, nullptr); !ok) {
        exitCode = failWith(ok.error().code == core::ErrorCode::NotFound ? "no pair " + removeId : ok.error().message);
        return;
      }
      std::cout << "pair " << removeId << " stopped; calgate serve deletes its copies, then the pair\n";
      exitCode = app::kExitOk;
      return;
    }
    auto removed = sync::PairStore(*ctx.db, core::systemClock()).remove(removeId);
    if (!removed) {
      exitCode = failWith(removed.error().code == core::ErrorCode::NotFound ? "no pair " + removeId
                                                                           : removed.error().message);
      return;
    }
    std::cout << "pair " << removeId << " removed; its copies stay in the target calendar\n";
    exitCode = app::kExitOk;
  });
}

}  // namespace calgate::admin
