#include "calgate/providers/microsoft/mapping.hpp"

#include "vocabulary.hpp"

#include <nlohmann/json.hpp>

namespace calgate::providers::microsoft {
namespace {

using detail::Row;

constexpr std::array<Row<Sensitivity>, 6> kSensitivityWrite{{
    {Sensitivity::Default, "normal"},
    {Sensitivity::Public, "normal"},
    {Sensitivity::Normal, "normal"},
    {Sensitivity::Personal, "private"},
    {Sensitivity::Private, "private"},
    {Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<Sensitivity>, 4> kSensitivityRead{{
    {Sensitivity::Normal, "normal"},
    {Sensitivity::Personal, "personal"},
    {Sensitivity::Private, "private"},
    {Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<ShowAs>, 5> kShowAs{{
    {ShowAs::Free, "free"},
    {ShowAs::Tentative, "tentative"},
    {ShowAs::Busy, "busy"},
    {ShowAs::OutOfOffice, "oof"},
    {ShowAs::WorkingElsewhere, "workingElsewhere"},
}};

// Graph's dateTime has no offset and seven fractional digits: "2016-12-09T20:30:00.0000000".
nlohmann::json eventTime(const EventTime& t, std::string_view calendarZone) {
  if (const auto* d = std::get_if<Date>(&t)) {
    // all-day: midnight in the calendar's own zone, with isAllDay
    return {{"dateTime", formatDate(d->day) + "T00:00:00.0000000"}, {"timeZone", std::string(calendarZone)}};
  }
  if (const auto* z = std::get_if<ZonedTime>(&t)) {
    return {{"dateTime", formatLocal(localTimeOf(*z)) + ".0000000"}, {"timeZone", z->zone}};
  }
  const auto& f = std::get<FloatingTime>(t);
  return {{"dateTime", formatLocal(f.local) + ".0000000"}, {"timeZone", std::string(calendarZone)}};
}

}  // namespace

std::string_view sensitivityFor(Sensitivity s) { return detail::wireFor(kSensitivityWrite, s, "private"); }

Sensitivity sensitivityFrom(std::string_view sensitivity) {
  if (sensitivity.empty()) return Sensitivity::Normal;
  return detail::modelFor(kSensitivityRead, sensitivity).value_or(Sensitivity::Private);
}

std::string_view showAsFor(ShowAs s) { return detail::wireFor(kShowAs, s, "busy"); }

ShowAs showAsFrom(std::string_view showAs) { return detail::modelFor(kShowAs, showAs).value_or(ShowAs::Busy); }

const std::vector<std::string_view>& writtenFields() {
  static const std::vector<std::string_view> fields = {"subject",  "body",        "location",    "start",
                                                       "end",      "isAllDay",    "sensitivity", "showAs",
                                                       "singleValueExtendedProperties"};
  return fields;
}

const std::vector<std::string_view>& neverWrittenFields() {
  static const std::vector<std::string_view> fields = {
      "isReminderOn", "reminderMinutesBeforeStart", "attachments", "hasAttachments", "onlineMeeting",
      "onlineMeetingUrl", "isOnlineMeeting", "onlineMeetingProvider", "categories", "organizer",
      "responseStatus", "responseRequested", "recurrence", "extensions", "multiValueExtendedProperties",
      "attendees"};
  return fields;
}

core::Result<std::string> eventBody(const Event& event, std::string_view calendarZone) {
  if (!event.recurrence.empty()) {
    return core::fail(core::ErrorCode::Invalid,
                      "recurring events are written to Microsoft 365 as expanded occurrences, not as a series");
  }
  if (!isKnownZone(calendarZone)) return core::fail(core::ErrorCode::Invalid, "unknown calendar time zone");
  for (const EventTime* t : {&event.start, &event.end}) {
    if (const auto* z = std::get_if<ZonedTime>(t); z && !isKnownZone(z->zone)) {
      return core::fail(core::ErrorCode::Invalid, "unknown time zone in event");
    }
  }
  nlohmann::json body;
  body["subject"] = event.title;
  body["body"] = {{"contentType", "text"}, {"content", event.description}};
  body["location"] = {{"displayName", event.location}};
  body["start"] = eventTime(event.start, calendarZone);
  body["end"] = eventTime(event.end, calendarZone);
  body["isAllDay"] = event.allDay();
  body["sensitivity"] = sensitivityFor(event.sensitivity);
  body["showAs"] = showAsFor(event.showAs);
  // Never attendees: Microsoft 365 sends invitations to them.
  if (event.origin) {
    body["singleValueExtendedProperties"] = nlohmann::json::array(
        {{{"id", std::string(kOriginPropertyId)}, {"value", event.origin->pairId + " " + event.origin->sourceKey}}});
  }
  return body.dump();
}

}  // namespace calgate::providers::microsoft
