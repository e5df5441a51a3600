#include "calgate/providers/google/google_provider.hpp"

#include "api.hpp"
#include "push.hpp"
#include "calgate/core/log.hpp"
#include "calgate/model/recurrence.hpp"
#include "calgate/providers/google/mapping.hpp"
#include "calgate/providers/google/wire.hpp"

#include <botan/hash.h>
#include <botan/hex.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

namespace calgate::providers::google {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

constexpr std::string_view kCursorPrefix = "g1:";
const Query kWrite{{"sendUpdates", "none"}};

std::string eventsPath(const std::string& calendarId) { return "calendars/" + segment(calendarId) + "/events"; }
std::string eventPath(const std::string& calendarId, const std::string& eventId) {
  return eventsPath(calendarId) + "/" + segment(eventId);
}

/// What one pull may read (GoogleOptions::maxPullEvents, maxPullBytes), across all its requests.
struct PullBudget {
  std::size_t items = 0;
  std::size_t bytes = 0;
};

/// One listing round's items and its end (nextSyncToken), checked for shape.
struct Round {
  std::vector<json> items;
  std::string syncToken;
  std::string zone;  ///< the calendar's time zone as the listing states it
};

std::string originalStartParam(const model::EventTime& t) {
  if (const auto* d = std::get_if<model::Date>(&t)) return model::formatDate(d->day);
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) return rfc3339(z->instant);
  return model::formatLocal(std::get<model::FloatingTime>(t).local);
}

/// One ETag for a whole series, as the engine expects of a resource (CalDAV's one ETag per
/// resource): Google has one per master and per changed occurrence, so any change to any of them
/// changes this. "\"s-<hash>\"": never sent as If-Match (Google does not know it).
std::string seriesEtag(const json& master, const std::vector<json>& occurrences) {
  std::vector<std::string> parts;
  for (const auto& o : occurrences) parts.push_back(stringField(o, "id") + "=" + stringField(o, "etag"));
  std::sort(parts.begin(), parts.end());
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(stringField(master, "etag"));
  for (const auto& p : parts) hash->update("|" + p);
  return "\"s-" + Botan::hex_encode(hash->final(), false).substr(0, 32) + "\"";
}

bool isSeriesEtag(const std::string& etag) { return etag.starts_with("\"s-"); }

bool sameInstant(const model::EventTime& a, const model::EventTime& b) {
  const auto* za = std::get_if<model::ZonedTime>(&a);
  const auto* zb = std::get_if<model::ZonedTime>(&b);
  if (za && zb) return za->instant == zb->instant;
  return a == b;
}

}  // namespace

class GoogleProvider::Impl {
 public:
  Impl(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GoogleEndpoints endpoints, GoogleOptions options)
      : api(http, tokens, clock, std::move(endpoints), std::move(options)) {}

  Api api;
  std::mutex mutex;
  std::map<std::string, std::string> zones;  ///< calendar id -> its time zone (calendarList.get)
  std::map<std::string, bool> primaries;     ///< calendar id -> whether it is the account's primary
  /// Calendars where Google refused an out-of-office event (an administrator turned status events
  /// off): their copies are ordinary busy events from then on, for this adapter (a sync run).
  std::set<std::string> refusedStatusEvents;
  bool refusesStatusEvents(const std::string& calendarId) {
    std::lock_guard lock(mutex);
    return refusedStatusEvents.count(calendarId) > 0;
  }
  void refuseStatusEvents(const std::string& calendarId) {
    std::lock_guard lock(mutex);
    refusedStatusEvents.insert(calendarId);
  }

  /// The id of calgate's copy for `write` in `calendarId`: derived from its UID, with "oo" for an
  /// out-of-office copy (Google cannot change an event's type, so each type has its own id).
  std::string copyIdFor(const std::string& calendarId, const policy::ApprovedWrite& write);
  /// Whether the copy for `write` is written as an out-of-office event: the source shows as out of
  /// office, it is a timed single event, and the calendar takes status events (a Workspace
  /// account's primary calendar that has not refused one).
  bool outOfOffice(const std::string& calendarId, const policy::ApprovedWrite& write);

  core::Result<std::string> calendarZone(const std::string& calendarId);
  core::Result<Round> listRound(const std::string& calendarId, Query query, PullBudget& budget);
  core::Result<std::optional<std::vector<model::Event>>> readSeries(const std::string& calendarId,
                                                                    const std::string& seriesId, const std::string& zone,
                                                                    PullBudget& budget);
  core::Result<std::vector<model::Event>> buildSeries(const json& master, const std::vector<json>& occurrences,
                                                      const std::string& zone);
  core::Result<ChangeSet> assemble(const std::string& calendarId, Round round, bool complete, PullBudget& budget);
  core::Result<std::string> instanceId(const std::string& calendarId, const std::string& seriesId,
                                       const model::EventTime& recurrenceId);
  /// The series' ETag as a listing would show it now (after a write to it).
  core::Result<std::string> seriesEtagNow(const std::string& calendarId, const std::string& seriesId,
                                          const std::string& fallback);
  core::Result<json> body(const std::string& calendarId, const policy::ApprovedWrite& write, bool forPatch);
  core::Result<WriteResult> patch(const std::string& calendarId, const std::string& eventId, const std::string& resultId,
                                  const std::string& etag, const json& body);
};

core::Result<std::string> GoogleProvider::Impl::calendarZone(const std::string& calendarId) {
  {
    std::lock_guard lock(mutex);
    if (auto it = zones.find(calendarId); it != zones.end()) return it->second;
  }
  auto r = api.call("GET", "users/me/calendarList/" + segment(calendarId));
  if (!r) return std::unexpected(r.error());
  {
    std::lock_guard lock(mutex);
    primaries[calendarId] = r->body.is_object() && r->body.value("primary", false) == true;
  }
  std::string zone = stringField(r->body, "timeZone");
  if (zone.empty()) zone = "UTC";
  auto canonical = model::canonicalZone(zone);
  if (!canonical) return fail(ErrorCode::Invalid, "the calendar's time zone is not one calgate knows");
  std::lock_guard lock(mutex);
  zones[calendarId] = *canonical;
  return *canonical;
}

namespace {

constexpr std::string_view kOutOfOfficeSuffix = "oo";

}  // namespace

bool GoogleProvider::Impl::outOfOffice(const std::string& calendarId, const policy::ApprovedWrite& write) {
  const auto& e = write.event();
  if (!api.options().statusEvents || e.showAs != model::ShowAs::OutOfOffice || !e.recurrence.empty() || e.recurrenceId ||
      e.allDay() || refusesStatusEvents(calendarId)) {
    return false;
  }
  if (!calendarZone(calendarId)) return false;  // not known to be the primary: an ordinary copy
  std::lock_guard lock(mutex);
  const auto it = primaries.find(calendarId);
  return it != primaries.end() && it->second;
}

std::string GoogleProvider::Impl::copyIdFor(const std::string& calendarId, const policy::ApprovedWrite& write) {
  return eventIdFor(write.event().uid) + std::string(outOfOffice(calendarId, write) ? kOutOfOfficeSuffix : "");
}

core::Result<Round> GoogleProvider::Impl::listRound(const std::string& calendarId, Query query, PullBudget& budget) {
  const auto& o = api.options();
  query.emplace_back("maxResults", std::to_string(o.pageSize));
  Round round;
  std::string pageToken;
  for (int page = 0; page < o.maxPages; ++page) {
    Query q = query;
    if (!pageToken.empty()) q.emplace_back("pageToken", pageToken);
    auto r = api.call("GET", eventsPath(calendarId), q, nullptr, {}, {400, 410});
    if (!r) return std::unexpected(r.error());
    budget.bytes += r->bytes;
    if (budget.bytes > o.maxPullBytes) {
      return fail(ErrorCode::Invalid, "the calendar's listing is larger than " + std::to_string(o.maxPullBytes) + " bytes",
                  core::Cause::BudgetExceeded);
    }
    if (r->status == 410) return fail(ErrorCode::Gone, "Google asked for a full listing (" + errorReason(r->body) + ")");
    if (r->status == 400) {
      const auto reason = errorReason(r->body);
      const bool aboutToken = r->body.dump().find("syncToken") != std::string::npos;
      return fail(aboutToken ? ErrorCode::Gone : ErrorCode::Invalid, "Google refused the listing (400 " + reason + ")");
    }
    const json& b = r->body;
    if (!b.is_object() || (b.contains("items") && !b["items"].is_array())) {
      return fail(ErrorCode::Invalid, "a listing page of Google Calendar is malformed");
    }
    if (b.contains("timeZone") && b["timeZone"].is_string()) round.zone = b["timeZone"].get<std::string>();
    for (const auto& item : arrayField(b, "items")) {
      if (++budget.items > o.maxPullEvents) {
        return fail(ErrorCode::Invalid, "the calendar lists more than " + std::to_string(o.maxPullEvents) + " events",
                    core::Cause::BudgetExceeded);
      }
      round.items.push_back(item);
    }
    const auto next = b.find("nextPageToken");
    const auto sync = b.find("nextSyncToken");
    if (next != b.end() && next->is_string() && !next->get_ref<const std::string&>().empty()) {
      if (next->get_ref<const std::string&>() == pageToken) {
        return fail(ErrorCode::Invalid, "Google Calendar repeated a page token: the listing would never end");
      }
      pageToken = next->get<std::string>();  // a short or even empty page: go on
      continue;
    }
    if (sync == b.end() || !sync->is_string() || sync->get_ref<const std::string&>().empty()) {
      return fail(ErrorCode::Invalid, "a listing of Google Calendar ended without a sync token");
    }
    round.syncToken = sync->get<std::string>();
    return round;
  }
  return fail(ErrorCode::Invalid, "a listing of Google Calendar did not end within " + std::to_string(o.maxPages) + " pages",
              core::Cause::BudgetExceeded);
}

core::Result<std::vector<model::Event>> GoogleProvider::Impl::buildSeries(const json& masterItem,
                                                                          const std::vector<json>& occurrences,
                                                                          const std::string& zone) {
  auto master = readEvent(masterItem, zone);
  if (!master) return std::unexpected(master.error());
  std::vector<model::Event> out{*master};
  for (const auto& item : occurrences) {
    auto kind = itemKind(item);
    if (!kind) return std::unexpected(kind.error());
    if (*kind == ItemKind::CancelledOccurrence) {
      auto original = readOriginalStart(item, zone);
      if (!original) return std::unexpected(original.error());
      const std::string line = model::exdateLineFor(*original);
      if (std::find(out[0].recurrence.begin(), out[0].recurrence.end(), line) == out[0].recurrence.end()) {
        out[0].recurrence.push_back(line);
      }
      continue;
    }
    if (*kind != ItemKind::Event) continue;
    auto occurrence = readEvent(item, zone);
    if (!occurrence) return std::unexpected(occurrence.error());
    occurrence->uid = master->uid;
    out.push_back(std::move(*occurrence));
  }
  const std::string tag = seriesEtag(masterItem, occurrences);
  for (auto& e : out) e.etag = tag;
  return out;
}

core::Result<std::optional<std::vector<model::Event>>> GoogleProvider::Impl::readSeries(const std::string& calendarId,
                                                                                       const std::string& seriesId,
                                                                                       const std::string& zone,
                                                                                       PullBudget& budget) {
  if (seriesId.empty() || seriesId == "." || seriesId == "..") return fail(ErrorCode::Invalid, "an occurrence names no series");
  auto got = api.call("GET", eventPath(calendarId, seriesId), {}, nullptr, {}, {404, 410});
  if (!got) return std::unexpected(got.error());
  if (got->status == 404 || got->status == 410) return std::optional<std::vector<model::Event>>();
  auto kind = itemKind(got->body);
  if (!kind) return std::unexpected(kind.error());
  if (*kind == ItemKind::Deleted || *kind == ItemKind::Ignored) return std::optional<std::vector<model::Event>>();
  if (!got->body.contains("recurrence")) {
    auto single = readEvent(got->body, zone);
    if (!single) return std::unexpected(single.error());
    return std::optional<std::vector<model::Event>>(std::vector<model::Event>{*single});
  }
  const std::string uid = stringField(got->body, "iCalUID");
  auto round = listRound(calendarId, {{"iCalUID", uid}, {"showDeleted", "true"}}, budget);
  if (!round) return std::unexpected(round.error());
  std::vector<json> occurrences;
  for (auto& item : round->items) {
    if (item.is_object() && stringField(item, "recurringEventId") == seriesId) occurrences.push_back(std::move(item));
  }
  auto series = buildSeries(got->body, occurrences, zone);
  if (!series) return std::unexpected(series.error());
  return std::optional<std::vector<model::Event>>(std::move(*series));
}

core::Result<ChangeSet> GoogleProvider::Impl::assemble(const std::string& calendarId, Round round, bool complete,
                                                       PullBudget& budget) {
  ChangeSet out;
  out.complete = complete;
  out.cursor = std::string(kCursorPrefix) + round.syncToken;
  auto zone = round.zone.empty() ? calendarZone(calendarId) : model::canonicalZone(round.zone);
  if (!zone) return std::unexpected(zone.error());
  auto unreadable = [&](const std::string& id, const std::string& etag, const std::string& why) {
    out.unreadable.push_back(id);
    out.skipped.push_back({id, etag, why});
  };
  std::set<std::string> series;  // masters, and series with a changed or cancelled occurrence
  std::vector<json> singles;
  for (auto& item : round.items) {
    const std::string id = stringField(item, "id");
    if (id.empty()) return fail(ErrorCode::Invalid, "Google Calendar listed an item without an id");
    auto kind = itemKind(item);
    if (!kind) {
      unreadable(id, stringField(item, "etag"), kind.error().message);
      continue;
    }
    if (*kind == ItemKind::Deleted) out.removed.push_back(id);
    if (*kind == ItemKind::CancelledOccurrence || (*kind == ItemKind::Event && item.contains("recurringEventId"))) {
      const std::string of = stringField(item, "recurringEventId");
      if (of.empty()) unreadable(id, stringField(item, "etag"), "an occurrence that names no series");
      else series.insert(of);
    } else if (*kind == ItemKind::Event && item.contains("recurrence")) {
      series.insert(id);
    } else if (*kind == ItemKind::Event) {
      singles.push_back(std::move(item));
    }
  }
  for (const auto& item : singles) {
    auto e = readEvent(item, *zone);
    if (e) out.changed.push_back(std::move(*e));
    else unreadable(stringField(item, "id"), stringField(item, "etag"), e.error().message);
  }
  // A series is read whole, also in a complete listing: its occurrences moved out of the window
  // are not listed there, and its ETag must cover every part, as every later read's does.
  for (const auto& id : series) {
    auto parts = readSeries(calendarId, id, *zone, budget);
    if (!parts) {
      if (parts.error().code != ErrorCode::Invalid || parts.error().cause == core::Cause::BudgetExceeded) {
        return std::unexpected(parts.error());
      }
      unreadable(id, "", parts.error().message);
      continue;
    }
    if (!*parts) {
      if (!complete) out.removed.push_back(id);
      continue;
    }
    for (auto& e : **parts) out.changed.push_back(std::move(e));
  }
  return out;
}

core::Result<std::string> GoogleProvider::Impl::seriesEtagNow(const std::string& calendarId, const std::string& seriesId,
                                                              const std::string& fallback) {
  auto zone = calendarZone(calendarId);
  if (!zone) return std::unexpected(zone.error());
  PullBudget budget;
  auto series = readSeries(calendarId, seriesId, *zone, budget);
  if (!series) return std::unexpected(series.error());
  if (!*series || (*series)->empty()) return fallback;
  return (*series)->front().etag;
}

core::Result<std::string> GoogleProvider::Impl::instanceId(const std::string& calendarId, const std::string& seriesId,
                                                           const model::EventTime& recurrenceId) {
  auto zone = calendarZone(calendarId);
  if (!zone) return std::unexpected(zone.error());
  auto r = api.call("GET", eventPath(calendarId, seriesId) + "/instances",
                    {{"originalStart", originalStartParam(recurrenceId)}, {"showDeleted", "true"}}, nullptr, {}, {404, 410});
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return fail(ErrorCode::NotFound, "the series of this occurrence is not in the calendar");
  for (const auto& item : arrayField(r->body, "items")) {
    auto original = readOriginalStart(item, *zone);
    const std::string id = stringField(item, "id");
    if (original && sameInstant(*original, recurrenceId) && !id.empty() && id != "." && id != "..") return id;
  }
  return fail(ErrorCode::NotFound, "the series has no occurrence at this time");
}

core::Result<json> GoogleProvider::Impl::body(const std::string& calendarId, const policy::ApprovedWrite& write,
                                              bool forPatch) {
  auto zone = calendarZone(calendarId);
  if (!zone) return std::unexpected(zone.error());
  auto text = eventBody(write.event(), *zone);
  if (!text) return std::unexpected(text.error());
  json b = json::parse(*text);
  if (!forPatch && outOfOffice(calendarId, write)) {
    // an out-of-office copy: Google declines nothing for it (calgate never invites anyone)
    b["id"] = copyIdFor(calendarId, write);
    b["eventType"] = "outOfOffice";
    b["outOfOfficeProperties"] = {{"autoDeclineMode", "declineNone"}};
  }
  if (write.event().recurrenceId) {
    b.erase("id");
    b.erase("recurrence");
  }
  if (forPatch) {
    b.erase("id");
    // PATCH keeps what it is not told: fields the copy no longer has are cleared explicitly
    for (const char* field : {"description", "location"}) {
      if (!b.contains(field)) b[field] = nullptr;
    }
    if (!write.event().recurrenceId && !b.contains("recurrence")) b["recurrence"] = nullptr;
  }
  return b;
}

core::Result<WriteResult> GoogleProvider::Impl::patch(const std::string& calendarId, const std::string& eventId,
                                                      const std::string& resultId, const std::string& etag, const json& b) {
  std::string condition = isSeriesEtag(etag) ? std::string() : etag;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!condition.empty()) headers.emplace_back("If-Match", condition);
    auto r = api.call("PATCH", eventPath(calendarId, eventId), kWrite, &b, headers, {412});
    if (!r) return std::unexpected(r.error());
    if (r->status == 412 && attempt == 0) {
      // changed meanwhile (by the user): read the current version and write over it once
      auto fresh = api.call("GET", eventPath(calendarId, eventId));
      if (!fresh) return std::unexpected(fresh.error());
      condition = stringField(fresh->body, "etag");
      continue;
    }
    if (r->status == 412) break;
    return WriteResult{resultId, stringField(r->body, "etag")};
  }
  return fail(ErrorCode::PreconditionFailed, "the event kept changing on Google");
}

GoogleProvider::GoogleProvider(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GoogleEndpoints endpoints,
                               GoogleOptions options)
    : impl_(std::make_unique<Impl>(http, tokens, clock, std::move(endpoints), std::move(options))) {}

GoogleProvider::~GoogleProvider() = default;

std::size_t GoogleProvider::requestCount() const { return impl_->api.requests(); }

core::Result<std::vector<CalendarInfo>> GoogleProvider::listCalendars() {
  std::vector<CalendarInfo> out;
  std::string pageToken;
  for (int page = 0; page < impl_->api.options().maxPages; ++page) {
    Query q;
    if (!pageToken.empty()) q.emplace_back("pageToken", pageToken);
    auto r = impl_->api.call("GET", "users/me/calendarList", q);
    if (!r) return std::unexpected(r.error());
    if (!r->body.is_object()) return fail(ErrorCode::Invalid, "the calendar list of Google Calendar is malformed");
    for (const auto& c : arrayField(r->body, "items")) {
      if (!c.is_object() || !c.contains("id") || !c["id"].is_string()) continue;
      CalendarInfo info;
      info.id = c["id"].get<std::string>();
      info.displayName = stringField(c, "summaryOverride");
      if (info.displayName.empty()) info.displayName = stringField(c, "summary");
      if (info.displayName.empty()) info.displayName = info.id;
      info.timeZone = stringField(c, "timeZone");
      const std::string role = stringField(c, "accessRole");
      info.writable = role == "owner" || role == "writer";
      info.changeTag = stringField(c, "etag");
      out.push_back(std::move(info));
    }
    pageToken = stringField(r->body, "nextPageToken");
    if (pageToken.empty()) return out;
  }
  return fail(ErrorCode::Invalid, "the calendar list of Google Calendar did not end", core::Cause::BudgetExceeded);
}

core::Result<ChangeSet> GoogleProvider::pullChanges(const std::string& calendarId, const std::string& cursor,
                                                    const TimeWindow& window, const KnownVersions& known) {
  // The listing carries every event whole: nothing is read twice; calgate's own unchanged copies
  // are set aside so callers treat every adapter alike.
  auto setAside = [&known](core::Result<ChangeSet> changes) {
    if (changes) setAsideKnown(*changes, known);
    return changes;
  };
  PullBudget budget;
  if (cursor.starts_with(kCursorPrefix)) {
    auto round = impl_->listRound(calendarId, {{"showDeleted", "true"}, {"syncToken", cursor.substr(kCursorPrefix.size())}}, budget);
    if (round) return setAside(impl_->assemble(calendarId, std::move(*round), false, budget));
    if (round.error().code != ErrorCode::Gone) return std::unexpected(round.error());
    budget = {};  // the token expired: a complete listing instead
  }
  auto round = impl_->listRound(calendarId, {{"showDeleted", "true"}, {"timeMin", rfc3339(window.from)},
                                             {"timeMax", rfc3339(window.to)}}, budget);
  if (!round) return std::unexpected(round.error());
  auto changes = impl_->assemble(calendarId, std::move(*round), true, budget);
  if (changes) changes->completeWithin = window;
  return setAside(std::move(changes));
}

core::Result<std::vector<model::Event>> GoogleProvider::getEvent(const std::string& calendarId, const std::string& eventId) {
  auto zone = impl_->calendarZone(calendarId);
  if (!zone) return std::unexpected(zone.error());
  PullBudget budget;
  auto series = impl_->readSeries(calendarId, std::string(resourceIdOf(eventId)), *zone, budget);
  if (!series) return std::unexpected(series.error());
  if (!*series) return fail(ErrorCode::NotFound, "the event is not in the calendar");
  return std::move(**series);
}

namespace {

core::Result<void> checkWrite(const std::string& calendarId, const std::string& eventId, const policy::ApprovedWrite& write) {
  if (write.target() != model::ProviderKind::Google) return fail(ErrorCode::Invalid, "this write was approved for another provider");
  const std::string& bound = write.context().targetCalendar;
  if (!bound.empty() && bound != calendarId) {
    return fail(ErrorCode::Invalid, "refusing to write to " + calendarId + ": the write was approved for " + bound + " only",
                core::Cause::WrongResource);
  }
  const std::string approved = eventIdFor(write.event().uid);
  const std::string target(resourceIdOf(eventId));
  if (!eventId.empty() && target != approved && target != approved + std::string(kOutOfOfficeSuffix)) {
    // a corrupted or tampered mapping must never turn into a change of someone's own event
    return fail(ErrorCode::Invalid, "refusing to change " + eventId + ": the write was approved for calgate's copy " + approved + " only",
                core::Cause::WrongResource);
  }
  return {};
}

}  // namespace

core::Result<WriteResult> GoogleProvider::create(const std::string& calendarId, const policy::ApprovedWrite& write) {
  if (auto ok = checkWrite(calendarId, "", write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Upsert) return fail(ErrorCode::Invalid, "not an upsert");
  if (write.event().recurrenceId) return update(calendarId, eventIdFor(write.event().uid), "", write);  // an occurrence joins its series
  const bool outOfOffice = impl_->outOfOffice(calendarId, write);
  const std::string id = impl_->copyIdFor(calendarId, write);
  auto b = impl_->body(calendarId, write, false);
  if (!b) return std::unexpected(b.error());
  auto r = impl_->api.call("POST", eventsPath(calendarId), kWrite, &*b, {}, {409, 400});
  if (!r) return std::unexpected(r.error());
  if (r->status == 400 && outOfOffice) {
    // the calendar takes no status events after all (turned off for the domain): an ordinary copy
    core::log::warn("google.status_events_refused", {{"error", errorReason(r->body)}});
    impl_->refuseStatusEvents(calendarId);
    return create(calendarId, write);
  }
  if (r->status == 400) return std::unexpected(impl_->api.errorOf(*r, true));
  if (r->status == 409) {
    // already there: an earlier attempt succeeded (a crash between write and record)
    auto existing = impl_->api.call("GET", eventPath(calendarId, id));
    if (!existing) return std::unexpected(existing.error());
    auto tag = write.event().recurrence.empty() ? core::Result<std::string>(stringField(existing->body, "etag"))
                                                : impl_->seriesEtagNow(calendarId, id, stringField(existing->body, "etag"));
    if (!tag) return std::unexpected(tag.error());
    return WriteResult{id, *tag, true};
  }
  if (write.event().recurrence.empty()) return WriteResult{id, stringField(r->body, "etag")};
  auto tag = impl_->seriesEtagNow(calendarId, id, stringField(r->body, "etag"));
  if (!tag) return std::unexpected(tag.error());
  return WriteResult{id, *tag};
}

core::Result<WriteResult> GoogleProvider::update(const std::string& calendarId, const std::string& eventId,
                                                 const std::string& etag, const policy::ApprovedWrite& write) {
  if (auto ok = checkWrite(calendarId, eventId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Upsert) return fail(ErrorCode::Invalid, "not an upsert");
  const std::string id(resourceIdOf(eventId));
  auto b = impl_->body(calendarId, write, true);
  if (!b) return std::unexpected(b.error());
  core::Result<WriteResult> written = std::unexpected(core::Error{});
  if (const auto& rid = write.event().recurrenceId) {
    auto instance = impl_->instanceId(calendarId, id, *rid);
    if (!instance) return std::unexpected(instance.error());
    written = impl_->patch(calendarId, *instance, id, etag, *b);
  } else {
    written = impl_->patch(calendarId, id, id, etag, *b);
  }
  if (!written || (write.event().recurrence.empty() && !write.event().recurrenceId)) return written;
  // a part of a series: the engine records the series' ETag (seriesEtag), not the part's
  auto tag = impl_->seriesEtagNow(calendarId, id, written->etag);
  if (!tag) return std::unexpected(tag.error());
  written->etag = *tag;
  return written;
}

core::Result<void> GoogleProvider::remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                          const policy::ApprovedWrite& write) {
  if (auto ok = checkWrite(calendarId, eventId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Delete) return fail(ErrorCode::Invalid, "not a delete");
  std::string target(resourceIdOf(eventId));
  std::string condition = isSeriesEtag(etag) ? std::string() : etag;
  if (const auto& rid = write.event().recurrenceId) {
    auto instance = impl_->instanceId(calendarId, target, *rid);
    if (!instance) return instance.error().code == ErrorCode::NotFound ? core::Result<void>() : std::unexpected(instance.error());
    target = *instance;
    condition.clear();  // the recorded etag is the occurrence's as it was copied; cancel it whatever it is now
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!condition.empty()) headers.emplace_back("If-Match", condition);
    auto r = impl_->api.call("DELETE", eventPath(calendarId, target), kWrite, nullptr, headers, {404, 410, 412});
    if (!r) return std::unexpected(r.error());
    if (r->status != 412) return {};  // 204, or already gone (404, 410 deleted)
    if (attempt == 1) break;
    auto fresh = impl_->api.call("GET", eventPath(calendarId, target), {}, nullptr, {}, {404, 410});
    if (!fresh) return std::unexpected(fresh.error());
    if (fresh->status != 200) return {};
    condition = stringField(fresh->body, "etag");
  }
  return fail(ErrorCode::PreconditionFailed, "the event kept changing on Google");
}

bool GoogleProvider::replacesOnUpdate(const std::string& calendarId, const std::string& copyId, const policy::ApprovedWrite& write) {
  const std::string base = eventIdFor(write.event().uid);
  const std::string current(resourceIdOf(copyId));
  if (current != base && current != base + std::string(kOutOfOfficeSuffix)) return false;  // not calgate's: refused on writing
  if (!impl_->calendarZone(calendarId)) return false;  // cannot tell whether it is the primary: keep the copy
  return current != impl_->copyIdFor(calendarId, write);
}

core::Result<Watch> GoogleProvider::watch(const std::string& calendarId, const WatchRequest& request) {
  return openChannel(impl_->api, calendarId, request);
}

core::Result<void> GoogleProvider::unwatch(const Watch& w) { return stopChannel(impl_->api, w); }

std::size_t GoogleProvider::batchLimit() const { return std::max<std::size_t>(impl_->api.options().batchSize, 1); }

namespace {

/// A write a batch part can make whole: a plain event (no series, no occurrence) whose answer
/// needs nothing more (a series' ETag is read after its write).
bool plainWrite(const BatchedWrite& w) {
  const auto& e = w.write->event();
  return e.recurrence.empty() && !e.recurrenceId && !isSeriesEtag(w.etag);
}

}  // namespace

core::Result<BatchResults> GoogleProvider::writeBatch(const std::string& calendarId, const std::vector<BatchedWrite>& writes) {
  BatchResults out(writes.size(), std::unexpected(core::Error{ErrorCode::Internal, "not written", std::nullopt, core::Cause::None}));
  std::vector<bool> done(writes.size(), false);
  std::vector<std::size_t> sent;  // the writes of `parts`, in order
  std::vector<BatchPart> parts;
  const std::string prefix = impl_->api.rootPath() + "calendar/v3/";
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const auto& w = writes[i];
    if (!plainWrite(w)) continue;
    const bool remove = w.op == BatchedWrite::Op::Remove;
    if (auto ok = checkWrite(calendarId, w.op == BatchedWrite::Op::Create ? "" : w.eventId, *w.write); !ok) {
      out[i] = std::unexpected(ok.error());
      done[i] = true;
      continue;
    }
    if (w.write->action() != (remove ? policy::ApprovedWrite::Action::Delete : policy::ApprovedWrite::Action::Upsert)) continue;
    BatchPart part;
    if (!remove) {
      auto b = impl_->body(calendarId, *w.write, w.op == BatchedWrite::Op::Update);
      if (!b) {
        out[i] = std::unexpected(b.error());
        done[i] = true;
        continue;
      }
      part.body = b->dump(-1, ' ', false, json::error_handler_t::replace);
    }
    const std::string id = w.op == BatchedWrite::Op::Create ? impl_->copyIdFor(calendarId, *w.write) : std::string(resourceIdOf(w.eventId));
    part.method = w.op == BatchedWrite::Op::Create ? "POST" : remove ? "DELETE" : "PATCH";
    part.target = prefix + (w.op == BatchedWrite::Op::Create ? eventsPath(calendarId) : eventPath(calendarId, id)) + queryString(kWrite);
    if (w.op != BatchedWrite::Op::Create && !w.etag.empty()) part.headers.emplace_back("If-Match", w.etag);
    parts.push_back(std::move(part));
    sent.push_back(i);
  }
  if (parts.size() > 1) {
    auto answers = impl_->api.batch(parts);
    if (!answers) return std::unexpected(answers.error());
    for (std::size_t j = 0; j < sent.size(); ++j) {
      const std::size_t i = sent[j];
      const auto& a = (*answers)[j];
      const auto& w = writes[i];
      if (w.op == BatchedWrite::Op::Remove) {
        // gone now or already (404, 410 deleted); a 412 or any failure is done on its own below
        if (a.status == 200 || a.status == 204 || a.status == 404 || a.status == 410) {
          out[i] = WriteResult{w.eventId, "", false};
          done[i] = true;
        }
        continue;
      }
      const std::string etag = stringField(a.body, "etag");
      if (a.status == 200 && !etag.empty()) {
        const std::string id =
            w.op == BatchedWrite::Op::Create ? impl_->copyIdFor(calendarId, *w.write) : std::string(resourceIdOf(w.eventId));
        out[i] = WriteResult{id, etag, false};
        done[i] = true;
      }
    }
  }
  // the rest one at a time: series and occurrences, and parts that met 409, 412, a limit or an error
  if (auto rest = writeRemaining(calendarId, writes, done, out); !rest) return std::unexpected(rest.error());
  return out;
}

}  // namespace calgate::providers::google
