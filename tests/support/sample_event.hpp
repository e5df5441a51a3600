#pragma once
// One event with every synced field set (a weekly series with an EXDATE, zoned times, confidential,
// out of office, an attendee, an origin marker), for the providers' write-body tests.
#include "calgate/model/event.hpp"

namespace calgate::test {

inline model::Event sampleEvent() {
  using namespace std::chrono;
  model::Event e;
  e.uid = "calgate-0123";
  e.title = "Planning";
  e.description = "Agenda";
  e.location = "Room 4";
  e.start = *model::zonedFromLocal(local_days{2026y / November / 23} + 9h, "Europe/Berlin");
  e.end = *model::zonedFromLocal(local_days{2026y / November / 23} + 10h, "Europe/Berlin");
  e.recurrence = {"RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE;TZID=Europe/Berlin:20261130T090000"};
  e.sensitivity = model::Sensitivity::Confidential;
  e.showAs = model::ShowAs::OutOfOffice;
  e.attendees = {"a@example.com"};
  e.sequence = 2;
  e.origin = model::Origin{"pr_1", "src_1"};
  return e;
}

}  // namespace calgate::test
