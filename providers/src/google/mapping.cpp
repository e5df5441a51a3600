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
  static const std::vector<std::string_view> fields = {
      "iCalUID", "summary",  "description", "location",     "start",     "end",
      "recurrence", "originalStartTime", "status", "visibility", "transparency", "attendees",
      "sequence", "extendedProperties"};
  return fields;
}

const std::vector<std::string_view>& neverWrittenFields() {
  static const std::vector<std::string_view> fields = {
      "reminders", "attachments", "conferenceData", "hangoutLink", "colorId", "organizer", "creator",
      "gadget",    "source",      "guestsCanModify", "anyoneCanAddSelf", "attendeesOmitted"};
  return fields;
}

core::Result<std::string> eventBody(const Event& event, std::string_view calendarZone) {
  if (!isKnownZone(calendarZone)) return core::fail(core::ErrorCode::Invalid, "unknown calendar time zone");
  nlohmann::json body;
  body["iCalUID"] = event.uid;
  body["summary"] = event.title;
  if (!event.description.empty()) body["description"] = event.description;
  if (!event.location.empty()) body["location"] = event.location;
  body["start"] = eventTime(event.start, calendarZone);
  body["end"] = eventTime(event.end, calendarZone);
  if (!event.recurrence.empty()) body["recurrence"] = event.recurrence;
  if (event.recurrenceId) body["originalStartTime"] = eventTime(*event.recurrenceId, calendarZone);
  body["status"] = statusFor(event.status);
  body["visibility"] = visibilityFor(event.sensitivity);
  body["transparency"] = transparencyFor(event.showAs);
  if (!event.attendees.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& a : event.attendees) list.push_back({{"email", a}});
    body["attendees"] = std::move(list);
  }
  body["sequence"] = event.sequence;
  if (event.origin) {
    body["extendedProperties"]["private"] = {{std::string(kOriginPairKey), event.origin->pairId},
                                             {std::string(kOriginSourceKey), event.origin->sourceKey}};
  }
  return body.dump();
}

}  // namespace calgate::providers::google
