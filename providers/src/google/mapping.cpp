#include "calgate/providers/google/mapping.hpp"

#include "vocabulary.hpp"

#include <nlohmann/json.hpp>

namespace calgate::providers::google {
namespace {

using detail::Row;

constexpr std::array<Row<Sensitivity>, 6> kVisibilityWrite{{
    {Sensitivity::Default, "default"},
    {Sensitivity::Public, "public"},
    {Sensitivity::Normal, "default"},
    {Sensitivity::Personal, "private"},
    {Sensitivity::Private, "private"},
    {Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<Sensitivity>, 4> kVisibilityRead{{
    {Sensitivity::Default, "default"},
    {Sensitivity::Public, "public"},
    {Sensitivity::Private, "private"},
    {Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<ShowAs>, 2> kTransparencyRead{{
    {ShowAs::Free, "transparent"},
    {ShowAs::Busy, "opaque"},
}};
constexpr std::array<Row<Status>, 3> kStatus{{
    {Status::Confirmed, "confirmed"},
    {Status::Tentative, "tentative"},
    {Status::Cancelled, "cancelled"},
}};

nlohmann::json eventTime(const EventTime& t, std::string_view calendarZone) {
  if (const auto* d = std::get_if<Date>(&t)) return {{"date", formatDate(d->day)}};
  if (const auto* z = std::get_if<ZonedTime>(&t)) {
    return {{"dateTime", formatLocal(localTimeOf(*z))}, {"timeZone", z->zone}};
  }
  const auto& f = std::get<FloatingTime>(t);
  return {{"dateTime", formatLocal(f.local)}, {"timeZone", std::string(calendarZone)}};
}

}  // namespace

std::string_view visibilityFor(Sensitivity s) { return detail::wireFor(kVisibilityWrite, s, "private"); }

Sensitivity sensitivityFromVisibility(std::string_view visibility) {
  if (visibility.empty()) return Sensitivity::Default;
  return detail::modelFor(kVisibilityRead, visibility).value_or(Sensitivity::Private);
}

std::string_view transparencyFor(ShowAs s) { return s == ShowAs::Free ? "transparent" : "opaque"; }

ShowAs showAsFromTransparency(std::string_view transparency) {
  return detail::modelFor(kTransparencyRead, transparency).value_or(ShowAs::Busy);
}

std::string_view statusFor(Status s) { return detail::wireFor(kStatus, s, "confirmed"); }

Status statusFrom(std::string_view status) { return detail::modelFor(kStatus, status).value_or(Status::Confirmed); }

const std::vector<std::string_view>& writtenFields() {
  static const std::vector<std::string_view> fields = {"id",     "summary",    "description",  "location",
                                                       "start",  "end",        "recurrence",   "status",
                                                       "visibility", "transparency", "extendedProperties"};
  return fields;
}

const std::vector<std::string_view>& neverWrittenFields() {
  static const std::vector<std::string_view> fields = {
      "reminders", "attachments", "conferenceData", "hangoutLink", "colorId",   "organizer",
      "creator",   "gadget",      "source",         "attendees",   "iCalUID",   "sequence",
      "originalStartTime", "guestsCanModify", "anyoneCanAddSelf", "attendeesOmitted"};
  return fields;
}

std::string eventIdFor(std::string_view uid) {
  // base32hex (a-v, 0-9), 5-1024 characters: keep the UID's letters and digits that qualify.
  std::string id;
  for (char c : uid) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((l >= 'a' && l <= 'v') || (l >= '0' && l <= '9')) id += l;
  }
  return id.size() >= 5 ? id.substr(0, 1024) : id + std::string(5 - id.size(), '0');
}

core::Result<std::string> eventBody(const Event& event, std::string_view calendarZone) {
  if (!isKnownZone(calendarZone)) return core::fail(core::ErrorCode::Invalid, "unknown calendar time zone");
  for (const EventTime* t : {&event.start, &event.end}) {
    if (const auto* z = std::get_if<ZonedTime>(t); z && !isKnownZone(z->zone)) {
      return core::fail(core::ErrorCode::Invalid, "unknown time zone in event");
    }
  }
  nlohmann::json body;
  // A client-chosen id makes inserts idempotent; Google wants either id or iCalUID, not both.
  body["id"] = eventIdFor(event.uid);
  body["summary"] = event.title;
  if (!event.description.empty()) body["description"] = event.description;
  if (!event.location.empty()) body["location"] = event.location;
  body["start"] = eventTime(event.start, calendarZone);
  body["end"] = eventTime(event.end, calendarZone);
  if (!event.recurrence.empty()) body["recurrence"] = event.recurrence;
  body["status"] = statusFor(event.status);
  body["visibility"] = visibilityFor(event.sensitivity);
  body["transparency"] = transparencyFor(event.showAs);
  // Never attendees: Google puts the event on every guest's calendar, even with sendUpdates=none.
  // Never sequence: Google manages it and rejects values below its own.
  if (event.origin) {
    body["extendedProperties"]["private"] = {{std::string(kOriginPairKey), event.origin->pairId},
                                             {std::string(kOriginSourceKey), event.origin->sourceKey}};
  }
  return body.dump();
}

}  // namespace calgate::providers::google
