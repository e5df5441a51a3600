#include "calgate/providers/google/mapping.hpp"

#include "calgate/model/vocabulary.hpp"

#include <nlohmann/json.hpp>

namespace calgate::providers::google {
namespace {

using model::detail::Row;

constexpr std::array<Row<model::Sensitivity>, 6> kVisibilityWrite{{
    {model::Sensitivity::Default, "default"},
    {model::Sensitivity::Public, "public"},
    {model::Sensitivity::Normal, "default"},
    {model::Sensitivity::Personal, "private"},
    {model::Sensitivity::Private, "private"},
    {model::Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<model::Sensitivity>, 4> kVisibilityRead{{
    {model::Sensitivity::Default, "default"},
    {model::Sensitivity::Public, "public"},
    {model::Sensitivity::Private, "private"},
    {model::Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<model::ShowAs>, 2> kTransparencyRead{{
    {model::ShowAs::Free, "transparent"},
    {model::ShowAs::Busy, "opaque"},
}};
constexpr std::array<Row<model::Status>, 3> kStatus{{
    {model::Status::Confirmed, "confirmed"},
    {model::Status::Tentative, "tentative"},
    {model::Status::Cancelled, "cancelled"},
}};

nlohmann::json eventTime(const model::EventTime& t, std::string_view calendarZone) {
  if (const auto* d = std::get_if<model::Date>(&t)) return {{"date", model::formatDate(d->day)}};
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) {
    return {{"dateTime", model::formatLocal(model::localTimeOf(*z))}, {"timeZone", z->zone}};
  }
  const auto& f = std::get<model::FloatingTime>(t);
  return {{"dateTime", model::formatLocal(f.local)}, {"timeZone", std::string(calendarZone)}};
}

}  // namespace

std::string_view visibilityFor(model::Sensitivity s) { return model::detail::wireFor(kVisibilityWrite, s, "private"); }

model::Sensitivity sensitivityFromVisibility(std::string_view visibility) {
  if (visibility.empty()) return model::Sensitivity::Default;
  return model::detail::modelFor(kVisibilityRead, visibility).value_or(model::Sensitivity::Private);
}

std::string_view transparencyFor(model::ShowAs s) { return s == model::ShowAs::Free ? "transparent" : "opaque"; }

model::ShowAs showAsFromTransparency(std::string_view transparency) {
  return model::detail::modelFor(kTransparencyRead, transparency).value_or(model::ShowAs::Busy);
}

std::string_view statusFor(model::Status s) { return model::detail::wireFor(kStatus, s, "confirmed"); }

model::Status statusFrom(std::string_view status) { return model::detail::modelFor(kStatus, status).value_or(model::Status::Confirmed); }

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

core::Result<std::string> eventBody(const model::Event& event, std::string_view calendarZone) {
  if (!model::isKnownZone(calendarZone)) return core::fail(core::ErrorCode::Invalid, "unknown calendar time zone");
  for (const model::EventTime* t : {&event.start, &event.end}) {
    if (const auto* z = std::get_if<model::ZonedTime>(t); z && !model::isKnownZone(z->zone)) {
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
                                             {std::string(kOriginSourceKey), event.origin->sourceKey},
                                             {std::string(kCopyUidKey), event.uid}};
  }
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);  // invalid UTF-8 replaced, never thrown
}

}  // namespace calgate::providers::google
