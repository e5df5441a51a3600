#include "fakes/fake_provider.hpp"

#include <algorithm>

namespace calgate::test {

using model::Event;

namespace {

// Puts `e` into a series: replaces the part with the same RECURRENCE-ID, or adds it.
void mergeInto(std::vector<Event>& events, const Event& e) {
  auto same = std::find_if(events.begin(), events.end(), [&](const Event& x) { return x.recurrenceId == e.recurrenceId; });
  if (same != events.end()) *same = e;
  else if (!e.recurrenceId) events.insert(events.begin(), e);
  else events.push_back(e);
}

}  // namespace

std::unexpected<core::Error> FakeProvider::refused() {
  core::Error e{core::ErrorCode::Unauthorized, "PUT event: HTTP 403", std::nullopt};
  e.cause = core::Cause::WriteRefused;
  return std::unexpected(e);
}

void FakeProvider::touch(Calendar& cal, const std::string& id) { cal.log.emplace_back(++counter_, id); }

providers::WriteResult FakeProvider::store(Calendar& cal, const std::string& id, std::vector<Event> events) {
  if (!cal.resources.count(id)) cal.created[id] = counter_ + 1;  // the sequence number of its creation
  Resource& r = cal.resources[id];
  r.events = std::move(events);
  r.etag = "\"e" + std::to_string(++counter_) + "\"";
  for (auto& e : r.events) {
    e.id = id;
    e.etag = r.etag;
    if (e.recurrenceId) e.seriesId = id;
  }
  touch(cal, id);
  return {id, weakWriteEtags ? "W/" + r.etag : r.etag};
}

std::string FakeProvider::userPut(const std::string& calendar, std::vector<Event> events) {
  std::lock_guard lock(mutex_);
  const std::string id = calendar + "/" + events.front().uid;
  store(calendars_[calendar], id, std::move(events));
  return id;
}

void FakeProvider::userCreateCalendar(const std::string& calendar) {
  std::lock_guard lock(mutex_);
  calendars_[calendar];
}

void FakeProvider::userDelete(const std::string& calendar, const std::string& id) {
  std::lock_guard lock(mutex_);
  Calendar& cal = calendars_[calendar];
  cal.resources.erase(id);
  touch(cal, id);
}

void FakeProvider::expireCursors() {
  std::lock_guard lock(mutex_);
  for (auto& [name, cal] : calendars_) ++cal.epoch;
}

std::vector<std::vector<Event>> FakeProvider::resources(const std::string& calendar) const {
  std::lock_guard lock(mutex_);
  std::vector<std::vector<Event>> out;
  auto it = calendars_.find(calendar);
  if (it == calendars_.end()) return out;
  for (const auto& [id, r] : it->second.resources) out.push_back(r.events);
  return out;
}

core::Result<std::vector<providers::CalendarInfo>> FakeProvider::listCalendars() {
  std::lock_guard lock(mutex_);
  std::vector<providers::CalendarInfo> out;
  for (const auto& [name, cal] : calendars_) out.push_back({name, name, "UTC", true, ""});
  return out;
}

core::Result<providers::ChangeSet> FakeProvider::pullChanges(const std::string& calendarId, const std::string& cursor,
                                                             const providers::TimeWindow&,
                                                             const providers::KnownVersions& known) {
  std::lock_guard lock(mutex_);
  ++pulls;
  if (failCursorPulls && !cursor.empty()) return core::fail(core::ErrorCode::Unavailable, "HTTP 500 from the server");
  Calendar& cal = calendars_[calendarId];
  providers::ChangeSet out;
  if (emptyListings) {
    out.complete = true;
    out.cursor = cursor;
    return out;
  }
  // cursor: "<epoch>:<last sequence seen>"
  long epoch = -1, seen = 0;
  if (const auto colon = cursor.find(':'); colon != std::string::npos) {
    epoch = std::stol(cursor.substr(0, colon));
    seen = std::stol(cursor.substr(colon + 1));
  }
  if (cursor.empty() || epoch != cal.epoch) {
    out.complete = true;  // a complete listing
    ++completeListings;
    for (const auto& [id, r] : cal.resources) {
      if (unreadable.count(id)) {
        out.unreadable.push_back(id);
        out.skipped.push_back({id, r.etag, kUnreadableReason});
        continue;
      }
      listResource(out, id, r, known);
    }
  } else {
    std::vector<std::string> ids;
    for (const auto& [seq, id] : cal.log) {
      if (seq > seen && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    for (const auto& id : ids) {
      auto it = cal.resources.find(id);
      if (it == cal.resources.end()) {
        // created and deleted after the cursor: some servers say nothing of it (RFC 6578 §3.5)
        if (omitShortLived && cal.created[id] > seen) continue;
        out.removed.push_back(id);
      } else if (unreadable.count(id)) {
        out.unreadable.push_back(id);
        out.skipped.push_back({id, it->second.etag, kUnreadableReason});
      } else {
        listResource(out, id, it->second, known);
      }
    }
  }
  out.cursor = std::to_string(cal.epoch) + ":" + std::to_string(cal.log.empty() ? 0 : cal.log.back().first);
  return out;
}

void FakeProvider::listResource(providers::ChangeSet& out, const std::string& id, const Resource& r,
                                const providers::KnownVersions& known) {
  if (auto k = known.find(id); k != known.end() && providers::sameEtag(k->second, r.etag)) {
    out.unchanged.push_back({id, r.etag});  // listed by its ETag, not read (a CalDAV multiget skipped)
    return;
  }
  ++reads;
  for (const auto& e : r.events) out.changed.push_back(e);
}

core::Result<std::vector<Event>> FakeProvider::getEvent(const std::string& calendarId, const std::string& eventId) {
  std::lock_guard lock(mutex_);
  auto& cal = calendars_[calendarId];
  auto it = cal.resources.find(eventId);
  if (it == cal.resources.end()) return core::fail(core::ErrorCode::NotFound, "no such event");
  ++reads;
  return it->second.events;
}

core::Result<providers::WriteResult> FakeProvider::create(const std::string& calendarId,
                                                          const policy::ApprovedWrite& write) {
  if (beforeWrite) {
    if (auto ok = beforeWrite("create"); !ok) return std::unexpected(ok.error());
  }
  if (refusedTitles.count(write.event().title)) return refused();
  std::lock_guard lock(mutex_);
  Calendar& cal = calendars_[calendarId];
  const std::string id = calendarId + "/" + write.event().uid;  // deterministic: idempotent creates
  ++creates;
  auto existing = cal.resources.find(id);
  std::vector<Event> events = existing == cal.resources.end() ? std::vector<Event>{} : existing->second.events;
  if (existing != cal.resources.end() && !write.event().recurrenceId) {
    return providers::WriteResult{id, existing->second.etag, true};  // already there (a retried create)
  }
  mergeInto(events, write.event());
  return store(cal, id, std::move(events));
}

core::Result<providers::WriteResult> FakeProvider::update(const std::string& calendarId, const std::string& eventId,
                                                          const std::string& etag, const policy::ApprovedWrite& write) {
  if (beforeWrite) {
    if (auto ok = beforeWrite("update"); !ok) return std::unexpected(ok.error());
  }
  if (refusedTitles.count(write.event().title)) return refused();
  std::lock_guard lock(mutex_);
  Calendar& cal = calendars_[calendarId];
  auto it = cal.resources.find(eventId);
  if (it == cal.resources.end()) return core::fail(core::ErrorCode::NotFound, "no such event to update");
  ++updates;
  std::vector<Event> events = it->second.events;
  (void)etag;  // a stale ETag is re-read and retried once, as the real adapters do
  mergeInto(events, write.event());
  return store(cal, eventId, std::move(events));
}

core::Result<void> FakeProvider::remove(const std::string& calendarId, const std::string& eventId, const std::string&,
                                        const policy::ApprovedWrite& write) {
  if (beforeWrite) {
    if (auto ok = beforeWrite("remove"); !ok) return std::unexpected(ok.error());
  }
  std::lock_guard lock(mutex_);
  Calendar& cal = calendars_[calendarId];
  ++removes;
  auto it = cal.resources.find(eventId);
  if (it == cal.resources.end()) return {};
  if (write.event().recurrenceId) {
    // one occurrence: it stays in the series as a cancelled instance (as Google shows it)
    auto events = it->second.events;
    std::erase_if(events, [&](const Event& x) { return x.recurrenceId && *x.recurrenceId == *write.event().recurrenceId; });
    Event cancelled = write.event();
    cancelled.status = model::Status::Cancelled;
    events.push_back(std::move(cancelled));
    store(cal, eventId, std::move(events));
    return {};
  }
  cal.resources.erase(it);
  touch(cal, eventId);
  return {};
}

}  // namespace calgate::test
