// calgate-admin push: the push channels calgate keeps open at Google and Microsoft 365 and the
// calendars whose provider refused one (they are polled), and asking again at once after the
// operator fixed what made providers refuse (the public URL, the proxy, its certificate).

#include "calgate/core/clock.hpp"
#include "calgate/sync/calendar_store.hpp"
#include "calgate/sync/job_queue.hpp"
#include "calgate/sync/push_channels.hpp"
#include "context.hpp"

#include <nlohmann/json.hpp>

#include <iostream>

namespace calgate::admin {
namespace {

std::string calendarName(sync::CalendarStore& calendars, const std::string& id) {
  auto c = calendars.get(id);
  return c ? c->displayName : std::string();
}

nlohmann::json channelsJson(const std::vector<sync::PushChannel>& channels, sync::CalendarStore& calendars) {
  nlohmann::json out = nlohmann::json::array();
  const long long now = core::systemClock().nowUnixSeconds();
  for (const auto& c : channels) {
    const std::string state = !c.active ? "opening" : c.expiresAt <= now ? "expired" : "active";
    out.push_back({{"id", c.id},
                   {"provider", c.provider},
                   {"calendar_id", c.calendarId},
                   {"calendar", calendarName(calendars, c.calendarId)},
                   {"state", state},
                   {"resource_id", c.resourceId},
                   {"created_at", isoTime(c.createdAt)},
                   {"expires_at", isoTime(c.expiresAt)},
                   {"reauthorize", c.reauthorize}});
  }
  return out;
}

nlohmann::json refusalsJson(const std::vector<sync::PushRefusal>& refusals, sync::CalendarStore& calendars) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : refusals) {
    out.push_back({{"calendar_id", r.calendarId},
                   {"calendar", calendarName(calendars, r.calendarId)},
                   {"reason", r.reason},
                   {"attempts", r.attempts},
                   {"retry_at", isoTime(r.retryAt)}});
  }
  return out;
}

void printText(const nlohmann::json& channels, const nlohmann::json& refusals) {
  std::cout << (channels.empty() ? "no push channels\n" : "push channels:\n");
  for (const auto& c : channels) {
    std::cout << "  " << c["id"].get<std::string>() << "  " << c["provider"].get<std::string>() << "  "
              << c["state"].get<std::string>() << " until " << c["expires_at"].get<std::string>() << "  calendar "
              << c["calendar_id"].get<std::string>() << " (" << c["calendar"].get<std::string>() << ")"
              << (c["reauthorize"].get<bool>() ? "  reauthorization requested" : "") << "\n";
  }
  if (refusals.empty()) return;
  std::cout << "polled because the provider refused a channel:\n";
  for (const auto& r : refusals) {
    std::cout << "  calendar " << r["calendar_id"].get<std::string>() << " (" << r["calendar"].get<std::string>()
              << ")  " << r["attempts"].get<int>() << " attempt(s), next at " << r["retry_at"].get<std::string>()
              << ": " << r["reason"].get<std::string>() << "\n";
  }
}

}  // namespace

void addPushCommands(CLI::App& app, Context& ctx, int& exitCode) {
  auto* cmd = app.add_subcommand("push", "Push channels at Google and Microsoft 365: list them, ask refused calendars again");
  cmd->require_subcommand(1);

  auto* list = cmd->add_subcommand("list", "List every push channel (provider, calendar, state, expiry) and every calendar "
                                           "polled because its provider refused one (why, when it is asked again)");
  list->add_flag("--json", ctx.json, "Print JSON: {\"channels\": [...], \"refused\": [...]}");
  list->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    sync::PushChannelStore store(*ctx.db, core::systemClock());
    sync::CalendarStore calendars(*ctx.db, core::systemClock());
    auto channels = store.all();
    auto refusals = channels ? store.refusals() : core::Result<std::vector<sync::PushRefusal>>(std::unexpected(channels.error()));
    if (!refusals) {
      exitCode = failWith(refusals.error());
      return;
    }
    const nlohmann::json c = channelsJson(*channels, calendars), r = refusalsJson(*refusals, calendars);
    if (ctx.json) {
      std::cout << nlohmann::json{{"channels", c}, {"refused", r}}.dump(2) << "\n";
    } else {
      printText(c, r);
    }
    exitCode = app::kExitOk;
  });

  auto* retry = cmd->add_subcommand("retry", "Forget every provider refusal and queue the push upkeep: refused calendars "
                                             "are asked for a channel again now instead of after their backoff");
  retry->callback([&] {
    if (auto rc = ctx.openCurrent()) {
      exitCode = *rc;
      return;
    }
    auto cleared = sync::PushChannelStore(*ctx.db, core::systemClock()).clearRefusals();
    auto queued = cleared ? sync::JobQueue(*ctx.db, core::systemClock()).enqueue("push_maintain", "", "push")
                          : core::Result<bool>(std::unexpected(cleared.error()));
    if (!queued) {
      exitCode = failWith(queued.error());
      return;
    }
    std::cout << "forgot " << *cleared << " refusal(s); the push upkeep runs next (a running calgate serve with "
              << "server.public_url on https takes it)\n";
    exitCode = app::kExitOk;
  });
}

}  // namespace calgate::admin
