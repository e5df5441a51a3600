// Google's EventDateTime (on the zone arithmetic of ../common/zones.mjs): what instant an
// event starts and ends, and how Google writes the instants it emits.
import { invalid } from './errors.mjs';
import { isDate, parseDateTime } from './discovery.mjs';
import { dateWall, instantOf, wallOf, zoneValid } from '../common/zones.mjs';

export { dateWall, instantOf, wallDate, wallOf, zoneValid } from '../common/zones.mjs';

/// Google's RFC 3339 form of an instant: UTC with milliseconds, as in its `updated` fields.
export const iso = (ms) => new Date(ms).toISOString();

/// An instant as Google writes event times: local time in `zone` with its offset, no fraction
/// ("2026-03-02T09:00:00+01:00"; "Z" in UTC).
export function rfc3339In(ms, zone) {
  const wall = wallOf(ms, zone);
  const offsetMin = Math.round((wall - ms) / 60000);
  const local = new Date(wall).toISOString().slice(0, 19);
  if (offsetMin === 0) return `${local}Z`;
  const a = Math.abs(offsetMin);
  return `${local}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}


/// Checks an EventDateTime of a request (start, end, originalStartTime): exactly one of date and
/// dateTime; a dateTime needs an offset unless timeZone names a zone; a timeZone must be an IANA
/// zone. 400 otherwise.
export function checkEventDateTime(value, field) {
  if (value === undefined) return;
  const has = (k) => value[k] !== undefined;
  if (has('date') === has('dateTime')) throw invalid(`Missing or ambiguous ${field}: exactly one of date and dateTime.`, field, 'body', 'required');
  if (has('timeZone') && !zoneValid(value.timeZone)) throw invalid(`Invalid time zone definition for ${field}.`, `${field}.timeZone`, 'body');
  if (has('date') && !isDate(value.date)) throw invalid(`Invalid ${field}.date.`, `${field}.date`, 'body');
  if (has('dateTime') && parseDateTime(value.dateTime) === null) {
    // a local time without offset is allowed only with a zone
    if (!(has('timeZone') && parseDateTime(`${value.dateTime}Z`) !== null)) {
      throw invalid(`Invalid ${field}.dateTime: an offset is required unless timeZone is given.`, `${field}.dateTime`, 'body');
    }
  }
}

/// The instant of an EventDateTime; an all-day date counts from midnight in `calendarZone`.
export function instantOfEventTime(value, calendarZone) {
  if (value.date !== undefined) return instantOf(dateWall(value.date), calendarZone);
  const withOffset = parseDateTime(value.dateTime);
  if (withOffset !== null) return withOffset;
  return instantOf(Date.parse(`${value.dateTime}Z`), value.timeZone);
}

/// The zone an event's wall times are in: its own timeZone, else the calendar's.
export const zoneOfEventTime = (value, calendarZone) => value.timeZone ?? calendarZone;
