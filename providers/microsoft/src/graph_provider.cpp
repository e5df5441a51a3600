#include "calgate/providers/microsoft/graph_provider.hpp"

#include "graph_api.hpp"
#include "graph_push.hpp"

#include "calgate/model/zone_names.hpp"
#include "calgate/providers/json_fields.hpp"
#include "calgate/providers/microsoft/graph_recurrence.hpp"
#include "calgate/providers/microsoft/graph_wire.hpp"
#include "calgate/providers/microsoft/mapping.hpp"

#include <botan/hash.h>
#include <botan/hex.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

namespace calgate::providers::microsoft {
namespace {

using core::ErrorCode;
using core::fail;
using nlohmann::json;

// Every request asks for UTC times (an event in a custom zone reads fine) and immutable ids.
const Headers kReadPrefer = {{"Prefer", "outlook.timezone=\"UTC\""}, {"Prefer", "IdType=\"ImmutableId\""}};

std::string calendarPath(const std::string& calendarId) { return "me/calendars/" + encode(calendarId); }
std::string eventPath(const std::string& eventId) { return "me/events/" + encode(eventId); }

/// $expand of the origin marker (delta cannot expand; single reads and lookups do).
std::string expandOrigin() {
  return "$expand=" + encode("singleValueExtendedProperties($filter=id eq '" + std::string(kOriginPropertyId) + "')");
}

std::string odataQuoted(std::string_view s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out;
}

/// The transactionId of a copy: a retried POST of the same copy carries the same one.
std::string transactionIdFor(std::string_view uid) {
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  hash->update(reinterpret_cast<const std::uint8_t*>(uid.data()), uid.size());
  return "calgate-" + Botan::hex_encode(hash->final()).substr(0, 32);
}

/// The cursor: the delta link and the window it was made for, and which series masters seen so
/// far are calgate's own copies (`own`) or not (`others`), so each is read once, not every round.
struct Cursor {
  std::string link;
  long long from = 0;
  long long to = 0;
  std::set<std::string> own;
  std::set<std::string> others;
};

/// At most this many masters that are not calgate's are remembered (then forgotten and read again).
constexpr std::size_t kRememberedOthers = 500;

std::set<std::string> idSet(const json& j, const char* key) {
  std::set<std::string> out;
  for (const auto& v : arrayField(j, key)) {
    if (v.is_string() && !v.get<std::string>().empty()) out.insert(v.get<std::string>());
  }
  return out;
}

std::optional<Cursor> readCursor(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("from") || !j["from"].is_number_integer() || !j.contains("to") || !j["to"].is_number_integer()) {
    return std::nullopt;
  }
  Cursor c{stringField(j, "link"), j["from"].get<long long>(), j["to"].get<long long>(), idSet(j, "own"), idSet(j, "others")};
  if (c.link.empty()) return std::nullopt;
  return c;
}

std::string writeCursor(const std::string& link, const TimeWindow& w, const std::set<std::string>& own,
                        const std::set<std::string>& others) {
  json j{{"link", link}, {"from", w.from.time_since_epoch().count()}, {"to", w.to.time_since_epoch().count()}};
  if (!own.empty()) j["own"] = own;
  if (!others.empty()) j["others"] = others;
  return j.dump();
}

/// Graph's originalStart ("2026-03-02T09:00:00Z", perhaps with a fraction or "+00:00") as an
/// instant; nullopt for anything else.
std::optional<std::chrono::sys_seconds> instantOfOriginalStart(std::string text) {
  if (text.ends_with("Z")) text.pop_back();
  else if (text.ends_with("+00:00")) text.resize(text.size() - 6);
  auto t = readGraphTime(json{{"dateTime", text}, {"timeZone", "UTC"}}, false);
  if (!t || !std::holds_alternative<model::ZonedTime>(*t)) return std::nullopt;
  return std::get<model::ZonedTime>(*t).instant;
}

/// Graph wants a Windows name or one of its listed IANA names: a Windows name where ICU knows
/// one, else the same instant as a UTC wall time.
void windowsZones(json& body) {
  for (const char* field : {"start", "end"}) {
    if (!body.contains(field)) continue;
    json& t = body[field];
    const std::string zone = stringField(t, "timeZone");
    if (zone == "UTC") continue;
    if (auto windows = model::windowsFromIana(zone)) {
      t["timeZone"] = *windows;
      continue;
    }
    // no Windows zone corresponds (e.g. "CET"): the instant, in UTC
    const std::string wall = stringField(t, "dateTime").substr(0, 19);
    auto local = readGraphTime(json{{"dateTime", wall}, {"timeZone", zone}}, false);
    if (local && std::holds_alternative<model::ZonedTime>(*local)) {
      const auto instant = std::get<model::ZonedTime>(*local).instant;
      t = {{"dateTime", model::formatUtc(instant).substr(0, 19) + ".0000000"}, {"timeZone", "UTC"}};
    }
  }
}

}  // namespace

class GraphProvider::Impl {
 public:
  Impl(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GraphEndpoints endpoints, GraphOptions options)
      : api(http, tokens, clock, std::move(endpoints), std::move(options)) {}

  struct Round {
    std::map<std::string, json> last;           ///< id -> its last item in the round
    std::string deltaLink;
    std::string restartFrom;                    ///< set when the link expired: start over here
  };

  core::Result<Round> round(std::string url, std::size_t& items, std::size_t& bytes);
  core::Result<json> body(const policy::ApprovedWrite& write);
  /// The copy already in `calendarId` for `origin` (a crash between write and record), if any.
  core::Result<std::optional<WriteResult>> existingCopy(const std::string& calendarId, const model::Origin& origin);
  void remember(const std::string& calendarId, const model::Origin& origin, const WriteResult& written);
  /// Loads the pair's copy listing now (a batch of creates: one listing instead of a lookup each).
  core::Result<void> indexCopies(const std::string& calendarId, const std::string& pairId);

  /// Series: Graph lists a series by its occurrences, never its master, while the engine knows
  /// calgate's series copy by the master's id. Occurrences of calgate's own series are taken out of
  /// the round and their masters listed instead (read with the origin marker, which makes them
  /// copies to every pair); masters of others' series pass as their occurrences. Masters are read
  /// once and remembered in the cursor's `own` / `others`; a complete round, or one with removals,
  /// reads every own master again (a removed one is a removal of the copy).
  /// Each master read counts as an item of the pull's budget (`items`): a listing cannot make the
  /// adapter read more than a pull may.
  core::Result<void> foldSeries(Round& round, Cursor& memory, bool complete, ChangeSet& out, std::size_t& items);
  /// The series master `masterId` with its origin marker; nullopt when it is gone.
  core::Result<std::optional<json>> master(const std::string& masterId);
  /// The occurrence or exception of series `masterId` whose original start is `at`, looked for
  /// in the days around `at` and `near` (where a moved exception may be now); nullopt if the
  /// series has none there (cancelled).
  core::Result<std::optional<json>> instanceAt(const std::string& masterId, std::chrono::sys_seconds at,
                                               std::chrono::sys_seconds near, std::chrono::days around);
  /// Cancels the occurrences the series' EXDATEs name that the copy still shows. Whether any was.
  core::Result<bool> cancelOccurrences(const std::string& masterId, const model::Event& series);
  /// The master's ETag now: the series copy's ETag (any change to an occurrence changes it).
  core::Result<std::string> masterEtag(const std::string& masterId);

  Api api;

 private:
  /// Where a pair's copies in a calendar are: the first creates of an adapter look each one up
  /// (one request each); from then on one listing of the pair's copies answers them all, kept
  /// up to date with this adapter's own creates.
  struct CopyIndex {
    int lookups = 0;
    bool loaded = false;
    std::map<std::string, WriteResult> byMarker;  ///< origin marker -> the copy
  };
  static constexpr int kDirectLookups = 8;
  core::Result<std::optional<json>> findCopy(const std::string& calendarId, const model::Origin& origin);
  core::Result<void> loadCopies(const std::string& calendarId, const std::string& pairId, CopyIndex& index);

  std::mutex copiesMutex_;
  std::map<std::string, CopyIndex> copies_;  ///< by calendar id and pair id
};

core::Result<void> GraphProvider::Impl::loadCopies(const std::string& calendarId, const std::string& pairId, CopyIndex& index) {
  const std::string filter = "singleValueExtendedProperties/Any(ep: ep/id eq '" + std::string(kPairPropertyId) +
                             "' and ep/value eq '" + odataQuoted(pairId) + "')";
  std::string url = api.url(calendarPath(calendarId) + "/events?$filter=" + encode(filter) + "&" + expandOrigin() + "&$top=1000");
  for (int page = 0; page < api.options().maxPages && !url.empty(); ++page) {
    auto r = api.call("GET", url, nullptr, kReadPrefer);
    if (!r) return std::unexpected(r.error());
    for (const auto& item : arrayField(r->body, "value")) {
      auto e = readGraphEvent(item);
      if (!e || !e->origin) continue;
      index.byMarker[e->origin->pairId + " " + e->origin->sourceKey] = WriteResult{e->id, e->etag, true};
    }
    url = stringField(r->body, "@odata.nextLink");
    if (!url.empty() && !api.ours(url)) return fail(ErrorCode::Invalid, "Microsoft Graph gave a next link outside its API root");
  }
  index.loaded = true;
  return {};
}

core::Result<std::optional<WriteResult>> GraphProvider::Impl::existingCopy(const std::string& calendarId, const model::Origin& origin) {
  const std::string marker = origin.pairId + " " + origin.sourceKey;
  std::unique_lock lock(copiesMutex_);
  CopyIndex& index = copies_[calendarId + "\n" + origin.pairId];
  if (!index.loaded && index.lookups < kDirectLookups) {
    ++index.lookups;
    lock.unlock();
    auto found = findCopy(calendarId, origin);
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::optional<WriteResult>();
    return std::optional<WriteResult>(WriteResult{stringField(**found, "id"), stringField(**found, "@odata.etag"), true});
  }
  if (!index.loaded) {
    if (auto loaded = loadCopies(calendarId, origin.pairId, index); !loaded) return std::unexpected(loaded.error());
  }
  const auto hit = index.byMarker.find(marker);
  if (hit == index.byMarker.end()) return std::optional<WriteResult>();
  const WriteResult known = hit->second;
  lock.unlock();
  // the index may be older than a user's deletion: make sure the copy is still there and ours
  auto fresh = api.call("GET", api.url(eventPath(known.id) + "?" + expandOrigin()), nullptr, kReadPrefer, {404});
  if (!fresh) return std::unexpected(fresh.error());
  auto e = fresh->status == 200 ? readGraphEvent(fresh->body) : core::Result<model::Event>(std::unexpected(core::Error{}));
  if (!e || !e->origin || e->origin->pairId + " " + e->origin->sourceKey != marker) {
    std::lock_guard again(copiesMutex_);
    copies_[calendarId + "\n" + origin.pairId].byMarker.erase(marker);
    return std::optional<WriteResult>();
  }
  return std::optional<WriteResult>(WriteResult{e->id, e->etag, true});
}

core::Result<void> GraphProvider::Impl::indexCopies(const std::string& calendarId, const std::string& pairId) {
  std::lock_guard lock(copiesMutex_);
  CopyIndex& index = copies_[calendarId + "\n" + pairId];
  if (index.loaded) return {};
  return loadCopies(calendarId, pairId, index);
}

void GraphProvider::Impl::remember(const std::string& calendarId, const model::Origin& origin, const WriteResult& written) {
  std::lock_guard lock(copiesMutex_);
  CopyIndex& index = copies_[calendarId + "\n" + origin.pairId];
  if (index.loaded) index.byMarker[origin.pairId + " " + origin.sourceKey] = WriteResult{written.id, written.etag, true};
}

core::Result<GraphProvider::Impl::Round> GraphProvider::Impl::round(std::string url, std::size_t& items, std::size_t& bytes) {
  Round out;
  const auto& o = api.options();
  Headers prefer = kReadPrefer;
  prefer.emplace_back("Prefer", "odata.maxpagesize=" + std::to_string(o.pageSize));
  for (int page = 0; page < o.maxPages; ++page) {
    auto r = api.call("GET", url, nullptr, prefer, {400, 404, 410});
    if (!r) return std::unexpected(r.error());
    if (r->status != 200) {
      const std::string code = errorCode(r->body);
      if (r->status == 410 || code == "syncStateNotFound" || code == "resyncRequired" || code == "SyncStateNotFound") {
        // the delta state is gone: a complete round again (from the Location Graph gives, if ours)
        out.restartFrom = api.ours(r->location) ? r->location : std::string("-");
        return out;
      }
      return fail(r->status == 404 ? ErrorCode::NotFound : ErrorCode::Invalid,
                  "Microsoft Graph refused the calendar listing (" + std::to_string(r->status) + (code.empty() ? "" : " " + code) + ")");
    }
    bytes += r->bytes;
    if (bytes > o.maxPullBytes) return fail(ErrorCode::Invalid, "the calendar listing is larger than calgate reads in one pull", core::Cause::BudgetExceeded);
    for (const auto& item : arrayField(r->body, "value")) {
      if (++items > o.maxPullEvents) return fail(ErrorCode::Invalid, "the calendar holds more events than calgate reads in one pull", core::Cause::BudgetExceeded);
      const std::string id = stringField(item, "id");
      if (id.empty()) continue;  // graphItemKind refuses it below as unreadable only when it has an id
      out.last[id] = item;  // replays and duplicates: the last version wins
    }
    const std::string next = stringField(r->body, "@odata.nextLink");
    const std::string delta = stringField(r->body, "@odata.deltaLink");
    if (!next.empty() && !delta.empty()) return fail(ErrorCode::Invalid, "Microsoft Graph gave both a nextLink and a deltaLink");
    if (!delta.empty()) {
      if (!api.ours(delta)) return fail(ErrorCode::Invalid, "Microsoft Graph gave a delta link outside its API root", core::Cause::UrlRejected);
      out.deltaLink = delta;
      return out;
    }
    if (next.empty()) return fail(ErrorCode::Invalid, "a delta page without a nextLink or deltaLink: the listing is incomplete");
    if (!api.ours(next)) return fail(ErrorCode::Invalid, "Microsoft Graph gave a next link outside its API root", core::Cause::UrlRejected);
    url = next;  // verbatim
  }
  return fail(ErrorCode::Invalid, "the calendar listing did not end within " + std::to_string(o.maxPages) + " pages", core::Cause::BudgetExceeded);
}

core::Result<json> GraphProvider::Impl::body(const policy::ApprovedWrite& write) {
  const model::Event& e = write.event();
  // the body of one event: a series' first occurrence (its recurrence follows), or an occurrence
  model::Event one = e;
  one.recurrence.clear();
  one.recurrenceId.reset();
  auto text = eventBody(one, "UTC");
  if (!text) return std::unexpected(text.error());
  json b = json::parse(*text, nullptr, false);
  if (b.is_discarded()) return fail(ErrorCode::Invalid, "the event body could not be built");
  windowsZones(b);
  if (e.recurrenceId) {
    b.erase("singleValueExtendedProperties");  // an occurrence's marker would become the series'
  } else if (!e.recurrence.empty()) {
    auto recurrence = patternedRecurrenceFor(e, stringField(b["start"], "timeZone"));
    if (!recurrence) return std::unexpected(recurrence.error());
    b["recurrence"] = std::move(*recurrence);
  }
  return b;
}

core::Result<std::optional<json>> GraphProvider::Impl::master(const std::string& masterId) {
  auto r = api.call("GET", api.url(eventPath(masterId) + "?" + expandOrigin()), nullptr, kReadPrefer, {404});
  if (!r) return std::unexpected(r.error());
  if (r->status == 404) return std::optional<json>();
  return std::optional<json>(std::move(r->body));
}

core::Result<std::string> GraphProvider::Impl::masterEtag(const std::string& masterId) {
  auto m = master(masterId);
  if (!m) return std::unexpected(m.error());
  if (!*m) return fail(ErrorCode::NotFound, "the series copy is no longer in the calendar");
  return stringField(**m, "@odata.etag");
}

core::Result<void> GraphProvider::Impl::foldSeries(Round& round, Cursor& memory, bool complete, ChangeSet& out,
                                                   std::size_t& items) {
  std::set<std::string> ask;
  bool removals = false;
  for (const auto& [id, item] : round.last) {
    removals = removals || item.contains("@removed");
    const std::string m = stringField(item, "seriesMasterId");
    if (!m.empty() && !memory.others.count(m)) ask.insert(m);
  }
  if (complete || removals) ask.insert(memory.own.begin(), memory.own.end());
  if (memory.others.size() > kRememberedOthers) memory.others.clear();
  std::set<std::string> own;
  for (const auto& id : ask) {
    if (++items > api.options().maxPullEvents) {
      return fail(ErrorCode::Invalid, "the calendar holds more events than calgate reads in one pull", core::Cause::BudgetExceeded);
    }
    auto m = master(id);
    if (!m) return std::unexpected(m.error());
    if (!*m) {
      // gone: a removal of calgate's copy (a complete round says so by not listing it)
      if (memory.own.erase(id) && !complete) out.removed.push_back(id);
      continue;
    }
    auto e = readGraphEvent(**m);
    if (!e || !e->origin) {
      memory.others.insert(id);
      continue;
    }
    own.insert(id);
    memory.own.insert(id);
    out.changed.push_back(std::move(*e));
  }
  std::erase_if(round.last, [&](const auto& entry) { return own.count(stringField(entry.second, "seriesMasterId")) > 0; });
  return {};
}

core::Result<std::optional<json>> GraphProvider::Impl::instanceAt(const std::string& masterId, std::chrono::sys_seconds at,
                                                                   std::chrono::sys_seconds near, std::chrono::days around) {
  const auto from = std::min(at, near) - around - std::chrono::seconds(1);
  const auto to = std::max(at, near) + around + std::chrono::seconds(1);
  std::string url = api.url(eventPath(masterId) + "/instances?startDateTime=" + encode(model::formatUtc(from)) +
                            "&endDateTime=" + encode(model::formatUtc(to)) + "&$select=originalStart&$top=100");
  for (int page = 0; page < api.options().maxPages && !url.empty(); ++page) {
    auto r = api.call("GET", url, nullptr, kReadPrefer, {404});
    if (!r) return std::unexpected(r.error());
    if (r->status == 404) return fail(ErrorCode::NotFound, "the series copy is no longer in the calendar");
    for (const auto& item : arrayField(r->body, "value")) {
      if (instantOfOriginalStart(stringField(item, "originalStart")) == at && !stringField(item, "id").empty()) {
        return std::optional<json>(item);
      }
    }
    url = stringField(r->body, "@odata.nextLink");
    if (!url.empty() && !api.ours(url)) return fail(ErrorCode::Invalid, "Microsoft Graph gave a next link outside its API root");
  }
  return std::optional<json>();
}

core::Result<bool> GraphProvider::Impl::cancelOccurrences(const std::string& masterId, const model::Event& series) {
  auto starts = cancelledStarts(series);
  if (!starts) return std::unexpected(starts.error());
  bool any = false;
  for (const auto at : *starts) {
    // where the occurrence is unless someone moved it (a moved one is cancelled as an occurrence)
    auto instance = instanceAt(masterId, at, at, std::chrono::days(0));
    if (!instance) return std::unexpected(instance.error());
    if (!*instance) continue;  // cancelled already
    auto r = api.call("DELETE", api.url(eventPath(stringField(**instance, "id"))), nullptr, {}, {404});
    if (!r) return std::unexpected(r.error());
    any = true;
  }
  return any;
}

core::Result<std::optional<json>> GraphProvider::Impl::findCopy(const std::string& calendarId, const model::Origin& origin) {
  const std::string filter = "singleValueExtendedProperties/Any(ep: ep/id eq '" + std::string(kOriginPropertyId) +
                             "' and ep/value eq '" + odataQuoted(origin.pairId + " " + origin.sourceKey) + "')";
  auto r = api.call("GET", api.url(calendarPath(calendarId) + "/events?$filter=" + encode(filter) + "&" + expandOrigin()), nullptr,
                    kReadPrefer);
  if (!r) return std::unexpected(r.error());
  const auto& value = arrayField(r->body, "value");
  if (value.empty()) return std::optional<json>();
  return std::optional<json>(value[0]);
}

GraphProvider::GraphProvider(HttpClient& http, AccessTokens& tokens, const core::Clock& clock, GraphEndpoints endpoints,
                             GraphOptions options)
    : impl_(std::make_unique<Impl>(http, tokens, clock, std::move(endpoints), std::move(options))) {}

GraphProvider::~GraphProvider() = default;

std::size_t GraphProvider::requestCount() const { return impl_->api.requests(); }

core::Result<std::vector<CalendarInfo>> GraphProvider::listCalendars() {
  std::vector<CalendarInfo> out;
  std::string url = impl_->api.url("me/calendars?$top=100");
  for (int page = 0; page < 100 && !url.empty(); ++page) {
    auto r = impl_->api.call("GET", url);
    if (!r) return std::unexpected(r.error());
    for (const auto& c : arrayField(r->body, "value")) {
      const std::string id = stringField(c, "id");
      if (id.empty()) continue;
      out.push_back(CalendarInfo{id, stringField(c, "name"), "", boolField(c, "canEdit"), stringField(c, "changeKey")});
    }
    url = stringField(r->body, "@odata.nextLink");
    if (!url.empty() && !impl_->api.ours(url)) return fail(ErrorCode::Invalid, "Microsoft Graph gave a next link outside its API root");
  }
  return out;
}

core::Result<ChangeSet> GraphProvider::pullChanges(const std::string& calendarId, const std::string& cursor, const TimeWindow& window,
                                                   const KnownVersions& known) {
  const auto saved = readCursor(cursor);
  // a cursor made for another window (the days moved on) starts a new complete round
  const bool sameWindow = saved && saved->from == window.from.time_since_epoch().count() && saved->to == window.to.time_since_epoch().count();
  const std::string initial = impl_->api.url(calendarPath(calendarId) + "/calendarView/delta?startDateTime=" +
                                             encode(model::formatUtc(window.from)) + "&endDateTime=" + encode(model::formatUtc(window.to)));
  bool complete = !sameWindow || !impl_->api.ours(saved->link);
  std::string url = complete ? initial : saved->link;
  std::size_t items = 0;
  std::size_t bytes = 0;
  auto round = impl_->round(url, items, bytes);
  if (round && !round->restartFrom.empty()) {
    complete = true;
    round = impl_->round(round->restartFrom == "-" ? initial : round->restartFrom, items, bytes);
    if (round && !round->restartFrom.empty()) return fail(ErrorCode::Unavailable, "Microsoft Graph keeps refusing a new delta round");
  }
  if (!round) return std::unexpected(round.error());
  ChangeSet out;
  out.complete = complete;
  if (complete) out.completeWithin = window;  // an event outside the window is not listed, yet may exist
  Cursor memory = saved ? *saved : Cursor{};
  if (auto folded = impl_->foldSeries(*round, memory, complete, out, items); !folded) return std::unexpected(folded.error());
  // in id order: Graph's order is undefined, and the same calendar should read the same twice
  for (const auto& [id, item] : round->last) {
    auto kind = graphItemKind(item);
    if (!kind) continue;
    if (*kind == GraphItemKind::Removed) {
      if (!complete) out.removed.push_back(id);  // a complete round lists what exists; a removal there says nothing
      continue;
    }
    if (*kind == GraphItemKind::Ignored) continue;
    auto event = readGraphEvent(item);
    if (!event) {
      out.unreadable.push_back(id);
      out.skipped.push_back(SkippedResource{id, stringField(item, "@odata.etag"), event.error().message});
      continue;
    }
    out.changed.push_back(std::move(*event));
  }
  out.cursor = writeCursor(round->deltaLink, window, memory.own, memory.others);
  setAsideKnown(out, known);  // the delta carries every event whole: calgate's unchanged copies set aside
  return out;
}

core::Result<std::vector<model::Event>> GraphProvider::getEvent(const std::string& calendarId, const std::string& eventId) {
  (void)calendarId;  // Graph addresses events by id alone
  auto r = impl_->api.call("GET", impl_->api.url(eventPath(eventId) + "?" + expandOrigin()), nullptr, kReadPrefer);
  if (!r) return std::unexpected(r.error());
  auto event = readGraphEvent(r->body);
  if (!event) return std::unexpected(event.error());
  return std::vector<model::Event>{std::move(*event)};
}

namespace {

core::Result<void> checkWrite(const std::string& calendarId, const policy::ApprovedWrite& write) {
  if (write.target() != model::ProviderKind::Microsoft) return fail(ErrorCode::Invalid, "this write was approved for another provider");
  const std::string& bound = write.context().targetCalendar;
  if (!bound.empty() && bound != calendarId) {
    return fail(ErrorCode::Invalid, "refusing to write to " + calendarId + ": the write was approved for " + bound + " only",
                core::Cause::WrongResource);
  }
  return {};
}

/// Whether `item` is calgate's copy for `write` (its origin marker is the write's).
bool isCopyOf(const json& item, const policy::ApprovedWrite& write) {
  auto e = readGraphEvent(item);
  return e && e->origin && write.event().origin && *e->origin == *write.event().origin;
}

}  // namespace

core::Result<WriteResult> GraphProvider::create(const std::string& calendarId, const policy::ApprovedWrite& write) {
  if (auto ok = checkWrite(calendarId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Upsert) return fail(ErrorCode::Invalid, "not an upsert");
  if (write.event().recurrenceId) return fail(ErrorCode::Invalid, "an occurrence is written into its series copy (update)");
  auto b = impl_->body(write);
  if (!b) return std::unexpected(b.error());
  if (write.event().origin) {
    // already there: an earlier attempt succeeded (a crash between write and record)
    auto existing = impl_->existingCopy(calendarId, *write.event().origin);
    if (!existing) return std::unexpected(existing.error());
    if (*existing) return **existing;
  }
  (*b)["transactionId"] = transactionIdFor(write.event().uid);
  auto r = impl_->api.call("POST", impl_->api.url(calendarPath(calendarId) + "/events"), &*b, kReadPrefer);
  if (!r) return std::unexpected(r.error());
  const std::string id = stringField(r->body, "id");
  if (id.empty()) return fail(ErrorCode::Invalid, "Microsoft Graph answered a create without an id");
  WriteResult written{id, stringField(r->body, "@odata.etag")};
  if (write.event().origin) impl_->remember(calendarId, *write.event().origin, written);
  if (!write.event().recurrence.empty()) {
    // a series: its cancelled occurrences go one by one (a crash before the end: the engine's
    // update of the copy found again cancels the rest)
    auto cancelled = impl_->cancelOccurrences(id, write.event());
    if (!cancelled) return std::unexpected(cancelled.error());
    if (*cancelled) {
      auto tag = impl_->masterEtag(id);
      if (!tag) return std::unexpected(tag.error());
      written.etag = *tag;
    }
  }
  return written;
}

namespace {

/// A write's start as an instant (where a moved occurrence of calgate's copy is to go).
std::chrono::sys_seconds startOf(const model::Event& e) { return originalStartOf(e.start); }

}  // namespace

core::Result<WriteResult> GraphProvider::update(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                                const policy::ApprovedWrite& write) {
  if (auto ok = checkWrite(calendarId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Upsert) return fail(ErrorCode::Invalid, "not an upsert");
  auto b = impl_->body(write);
  if (!b) return std::unexpected(b.error());
  std::string target = eventId;
  std::string condition = etag;
  if (const auto& rid = write.event().recurrenceId) {
    // an occurrence of calgate's series copy: its instance becomes an exception (PATCH)
    auto instance = impl_->instanceAt(eventId, originalStartOf(*rid), startOf(write.event()), std::chrono::days(31));
    if (!instance) return std::unexpected(instance.error());
    if (!*instance) return fail(ErrorCode::NotFound, "the series copy has no occurrence at this time");
    target = stringField(**instance, "id");
    condition = stringField(**instance, "@odata.etag");
  }
  core::Result<WriteResult> written =
      std::unexpected(core::Error{ErrorCode::PreconditionFailed, "the event kept changing on Microsoft 365", std::nullopt, core::Cause::None});
  for (int attempt = 0; attempt < 2; ++attempt) {
    Headers headers = kReadPrefer;
    if (!condition.empty()) headers.emplace_back("If-Match", condition);
    auto r = impl_->api.call("PATCH", impl_->api.url(eventPath(target)), &*b, headers, {412});
    if (!r) return std::unexpected(r.error());
    if (r->status != 412) {
      written = WriteResult{stringField(r->body, "id"), stringField(r->body, "@odata.etag")};
      break;
    }
    if (attempt == 1) break;
    // changed since we recorded it: re-read, make sure it is still our copy, retry once
    auto fresh = impl_->api.call("GET", impl_->api.url(eventPath(eventId) + "?" + expandOrigin()), nullptr, kReadPrefer);
    if (!fresh) return std::unexpected(fresh.error());
    if (!write.event().recurrenceId && !isCopyOf(fresh->body, write)) {
      return fail(ErrorCode::Invalid, "refusing to change " + eventId + ": it is not calgate's copy of this event", core::Cause::WrongResource);
    }
    if (target == eventId) condition = stringField(fresh->body, "@odata.etag");
    else condition.clear();  // the occurrence changed under us: the source's version wins, as for a whole copy
  }
  if (!written || (write.event().recurrence.empty() && !write.event().recurrenceId)) return written;
  // a series copy is one resource to the engine: the master's id and ETag
  if (!write.event().recurrenceId) {
    auto cancelled = impl_->cancelOccurrences(eventId, write.event());
    if (!cancelled) return std::unexpected(cancelled.error());
  }
  auto tag = impl_->masterEtag(eventId);
  if (!tag) return std::unexpected(tag.error());
  return WriteResult{eventId, *tag};
}

core::Result<void> GraphProvider::remove(const std::string& calendarId, const std::string& eventId, const std::string& etag,
                                         const policy::ApprovedWrite& write) {
  if (auto ok = checkWrite(calendarId, write); !ok) return std::unexpected(ok.error());
  if (write.action() != policy::ApprovedWrite::Action::Delete) return fail(ErrorCode::Invalid, "not a delete");
  std::string target = eventId;
  std::string condition = etag;
  if (const auto& rid = write.event().recurrenceId) {
    // one occurrence of calgate's series copy: cancelled (DELETE of its instance), whatever it is now
    auto instance = impl_->instanceAt(eventId, originalStartOf(*rid), startOf(write.event()), std::chrono::days(31));
    if (!instance) return instance.error().code == ErrorCode::NotFound ? core::Result<void>() : std::unexpected(instance.error());
    if (!*instance) return {};  // cancelled already
    target = stringField(**instance, "id");
    condition.clear();
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    Headers headers;
    if (!condition.empty()) headers.emplace_back("If-Match", condition);
    auto r = impl_->api.call("DELETE", impl_->api.url(eventPath(target)), nullptr, headers, {404, 412});
    if (!r) return std::unexpected(r.error());
    if (r->status != 412) return {};  // 204, or already gone
    if (attempt == 1) break;
    auto fresh = impl_->api.call("GET", impl_->api.url(eventPath(eventId) + "?" + expandOrigin()), nullptr, kReadPrefer, {404});
    if (!fresh) return std::unexpected(fresh.error());
    if (fresh->status == 404) return {};
    if (!isCopyOf(fresh->body, write)) {
      return fail(ErrorCode::Invalid, "refusing to delete " + eventId + ": it is not calgate's copy of this event", core::Cause::WrongResource);
    }
    condition = stringField(fresh->body, "@odata.etag");
  }
  return fail(ErrorCode::PreconditionFailed, "the event kept changing on Microsoft 365");
}

core::Result<Watch> GraphProvider::watch(const std::string& calendarId, const WatchRequest& request) {
  return createSubscription(impl_->api, calendarId, request);
}
core::Result<Watch> GraphProvider::renewWatch(const Watch& w, std::chrono::sys_seconds expiresAt) {
  return renewSubscription(impl_->api, w, expiresAt);
}
core::Result<void> GraphProvider::reauthorizeWatch(const Watch& w) { return reauthorizeSubscription(impl_->api, w); }
core::Result<void> GraphProvider::unwatch(const Watch& w) { return deleteSubscription(impl_->api, w); }

bool GraphProvider::holdsSeries(const std::string& calendarId, const policy::ApprovedWrite& write) {
  (void)calendarId;
  const model::Event& e = write.event();
  if (e.recurrence.empty() || e.recurrenceId) return true;
  // the body a create would send: refused exactly when no patternedRecurrence has its occurrences
  auto b = impl_->body(write);
  return b || b.error().cause != core::Cause::WriteRefused;
}

std::size_t GraphProvider::batchLimit() const { return std::clamp<std::size_t>(impl_->api.options().batchSize, 1, 20); }

core::Result<BatchResults> GraphProvider::writeBatch(const std::string& calendarId, const std::vector<BatchedWrite>& writes) {
  using Op = BatchedWrite::Op;
  BatchResults out(writes.size(), std::unexpected(core::Error{ErrorCode::Internal, "not written", std::nullopt, core::Cause::None}));
  std::vector<bool> done(writes.size(), false);
  auto settle = [&](std::size_t i, core::Result<WriteResult> r) {
    out[i] = std::move(r);
    done[i] = true;
  };
  std::vector<json> bodies(writes.size());
  std::vector<std::size_t> sent;
  std::vector<Api::BatchItem> items;
  for (std::size_t i = 0; i < writes.size(); ++i) {
    const auto& w = writes[i];
    const auto& write = *w.write;
    if (auto ok = checkWrite(calendarId, write); !ok) {
      settle(i, std::unexpected(ok.error()));
      continue;
    }
    if (write.action() != (w.op == Op::Remove ? policy::ApprovedWrite::Action::Delete : policy::ApprovedWrite::Action::Upsert)) continue;
    // a series writes its cancelled occurrences after it, an occurrence needs its instance: on their own
    if (!write.event().recurrence.empty() || write.event().recurrenceId) continue;
    if (w.op != Op::Remove) {
      auto b = impl_->body(write);
      if (!b) {
        settle(i, std::unexpected(b.error()));
        continue;
      }
      bodies[i] = std::move(*b);
    }
    if (w.op == Op::Create) {
      if (!write.event().origin) continue;  // no marker to find an earlier attempt's copy by: on its own
      if (auto indexed = impl_->indexCopies(calendarId, write.event().origin->pairId); !indexed) return std::unexpected(indexed.error());
      auto existing = impl_->existingCopy(calendarId, *write.event().origin);
      if (!existing) return std::unexpected(existing.error());
      if (*existing) {
        settle(i, **existing);  // an earlier attempt's copy: the engine brings it up to date
        continue;
      }
      bodies[i]["transactionId"] = transactionIdFor(write.event().uid);
    }
    Headers headers = w.op == Op::Remove ? Headers{} : kReadPrefer;
    if (w.op != Op::Create && !w.etag.empty()) headers.emplace_back("If-Match", w.etag);
    const std::string path = w.op == Op::Create ? calendarPath(calendarId) + "/events" : eventPath(w.eventId);
    items.push_back({w.op == Op::Create ? "POST" : w.op == Op::Update ? "PATCH" : "DELETE", path, std::move(headers),
                     w.op == Op::Remove ? nullptr : &bodies[i]});
    sent.push_back(i);
  }
  if (items.size() > 1) {
    auto answers = impl_->api.batch(items);
    if (!answers) return std::unexpected(answers.error());
    for (std::size_t j = 0; j < sent.size(); ++j) {
      const std::size_t i = sent[j];
      const auto& a = (*answers)[j];
      const auto& w = writes[i];
      if (w.op == Op::Remove) {
        if (a.status == 204 || a.status == 200 || a.status == 404) settle(i, WriteResult{w.eventId, "", false});
        continue;
      }
      const std::string id = stringField(a.body, "id");
      if ((a.status == 201 || a.status == 200) && !id.empty()) {
        WriteResult written{id, stringField(a.body, "@odata.etag")};
        if (w.op == Op::Create) impl_->remember(calendarId, *w.write->event().origin, written);
        settle(i, written);
      }
    }
  }
  // the rest one at a time: 412 (re-read), 429 and 5xx (waits), 424, or a batch too small to send
  if (auto rest = writeRemaining(calendarId, writes, done, out); !rest) return std::unexpected(rest.error());
  return out;
}

}  // namespace calgate::providers::microsoft
