// Wall-clock time in IANA zones (Intl, Node's ICU) and Google's EventDateTime: what instant an
// event starts and ends, and how Google writes the instants it emits.
import { invalid } from './errors.mjs';
import { isDate, parseDateTime } from './discovery.mjs';

const formatters = new Map();
function formatter(zone) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

export function zoneValid(zone) {
  if (typeof zone !== 'string' || zone === '') return false;
  try { formatter(zone); return true; } catch { return false; }
}

/// The wall time of instant `ms` in `zone`, as a UTC-shaped epoch value ("wall ms").
export function wallOf(ms, zone) {
  const p = Object.fromEntries(formatter(zone).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) + (ms % 1000 + 1000) % 1000;
}

/// The instant a wall time ("wall ms") in `zone` names; in a DST gap the later offset applies.
export function instantOf(wallMs, zone) {
  let guess = wallMs - (wallOf(wallMs, zone) - wallMs);
  const again = wallMs - (wallOf(guess, zone) - guess);
  if (again !== guess) guess = Math.max(again, guess);
  return guess;
}

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

/// The wall ms of a date "yyyy-mm-dd".
export const dateWall = (date) => Date.parse(`${date}T00:00:00Z`);
export const wallDate = (wallMs) => new Date(wallMs).toISOString().slice(0, 10);

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
