#include "calgate/providers/microsoft/mapping.hpp"

#include "calgate/model/vocabulary.hpp"

#include <nlohmann/json.hpp>

namespace calgate::providers::microsoft {
namespace {

using model::detail::Row;

constexpr std::array<Row<model::Sensitivity>, 6> kSensitivityWrite{{
    {model::Sensitivity::Default, "normal"},
    {model::Sensitivity::Public, "normal"},
    {model::Sensitivity::Normal, "normal"},
    {model::Sensitivity::Personal, "private"},
    {model::Sensitivity::Private, "private"},
    {model::Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<model::Sensitivity>, 4> kSensitivityRead{{
    {model::Sensitivity::Normal, "normal"},
    {model::Sensitivity::Personal, "personal"},
    {model::Sensitivity::Private, "private"},
    {model::Sensitivity::Confidential, "confidential"},
}};
constexpr std::array<Row<model::ShowAs>, 5> kShowAs{{
    {model::ShowAs::Free, "free"},
    {model::ShowAs::Tentative, "tentative"},
    {model::ShowAs::Busy, "busy"},
    {model::ShowAs::OutOfOffice, "oof"},
    {model::ShowAs::WorkingElsewhere, "workingElsewhere"},
}};

// Graph's dateTime has no offset and seven fractional digits: "2016-12-09T20:30:00.0000000".
nlohmann::json eventTime(const model::EventTime& t, std::string_view calendarZone) {
  if (const auto* d = std::get_if<model::Date>(&t)) {
    // all-day: midnight in the calendar's own zone, with isAllDay
    return {{"dateTime", model::formatDate(d->day) + "T00:00:00.0000000"}, {"timeZone", std::string(calendarZone)}};
  }
  if (const auto* z = std::get_if<model::ZonedTime>(&t)) {
    return {{"dateTime", model::formatLocal(model::localTimeOf(*z)) + ".0000000"}, {"timeZone", z->zone}};
  }
  const auto& f = std::get<model::FloatingTime>(t);
  return {{"dateTime", model::formatLocal(f.local) + ".0000000"}, {"timeZone", std::string(calendarZone)}};
}

}  // namespace

std::string_view sensitivityFor(model::Sensitivity s) { return model::detail::wireFor(kSensitivityWrite, s, "private"); }

model::Sensitivity sensitivityFrom(std::string_view sensitivity) {
  if (sensitivity.empty()) return model::Sensitivity::Normal;
  return model::detail::modelFor(kSensitivityRead, sensitivity).value_or(model::Sensitivity::Private);
}

std::string_view showAsFor(model::ShowAs s) { return model::detail::wireFor(kShowAs, s, "busy"); }

model::ShowAs showAsFrom(std::string_view showAs) { return model::detail::modelFor(kShowAs, showAs).value_or(model::ShowAs::Busy); }

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

core::Result<std::string> eventBody(const model::Event& event, std::string_view calendarZone) {
  if (!event.recurrence.empty()) {
    return core::fail(core::ErrorCode::Invalid,
                      "the body of one event has no recurrence lines (a series' recurrence is its patternedRecurrence)");
  }
  if (!model::isKnownZone(calendarZone)) return core::fail(core::ErrorCode::Invalid, "unknown calendar time zone");
  for (const model::EventTime* t : {&event.start, &event.end}) {
    if (const auto* z = std::get_if<model::ZonedTime>(t); z && !model::isKnownZone(z->zone)) {
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
        {{{"id", std::string(kOriginPropertyId)}, {"value", event.origin->pairId + " " + event.origin->sourceKey}},
         {{"id", std::string(kPairPropertyId)}, {"value", event.origin->pairId}}});
  }
  return body.dump();
}

}  // namespace calgate::providers::microsoft
