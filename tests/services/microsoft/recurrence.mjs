// Recurring events as Microsoft Graph models them: `recurrence` = patternedRecurrence
// {pattern: recurrencePattern, range: recurrenceRange} (CONTRACT.md §2, graph-event.json), plus the
// dateTimeTimeZone values ({dateTime without offset, timeZone}) that every Graph event time uses.
//
// Sources (microsoft-graph-docs-contrib): api-reference/v1.0/resources/recurrencepattern.md,
// recurrencerange.md, patternedrecurrence.md, datetimetimezone.md and
// concepts/outlook-schedule-recurring-events.md ("Schedule repeating appointments as recurring events
// in Outlook"). Graph's calendar is Exchange underneath, so where the Graph pages are silent this
// file follows Exchange's own specifications: [MS-OXOCAL] 2.2.1.44.1 (the recurrence blob Exchange
// stores), [MS-OXCICAL] 2.1.3.2.2 (how Exchange maps RRULEs to that blob) and the EWS reference.
// Every choice the docs leave open is marked "[U]" below, with the (strict) choice made.
//
// Expansion: the `rrule` package does the calendar arithmetic on UTC-shaped wall times ("wall ms",
// see ../common/zones.mjs) in the recurrence's zone; this file converts to and from instants, so a
// weekly 09:00 stays 09:00 wall clock across daylight saving.
import rrule from 'rrule';
import { findIana } from 'windows-iana';
import { dateWall, instantOf, wallDate, wallOf, zoneValid } from '../common/zones.mjs';
import { GraphError } from './errors.mjs';

const { RRule } = rrule;
const DAY = 86400000;
const MAX_INSTANCES = 2000;  // per expansion; a series without end is cut off there

// ---- error codes -------------------------------------------------------------------------------
// Graph answers malformed bodies with OData reader errors, and bad content with Exchange codes:
// - RequestBodyRead: unknown property ("The property 'x' does not exist on type ...", seen on real
//   Graph/Outlook answers), a JSON value of the wrong type, null for a non-nullable property, an enum
//   value outside the set ([U] same code assumed for these three).
// - UnableToDeserializePostBody: a Date that is not "yyyy-mm-dd" (microsoftgraph/msgraph-sdk-javascript
//   issue #404: range.startDate '14/03/2021').
// - TimeZoneNotSupportedException: unknown or empty timeZone ("A valid TimeZone value must be
//   specified. The following TimeZone value is not supported: '…'."; seen in client code and issues).
// - ErrorRecurrenceEndDateTooBig: end date after Sep 1 4500 (Outlook REST answer quoted on Stack
//   Overflow; EWS ResponseCodeType list).
// - ErrorRecurrenceHasNoOccurrence: an endDate range in which the pattern never falls (EWS
//   ResponseCodeType: "Recurrence has no occurrences in the specified range."; [U] for Graph).
// - ErrorInvalidRequest: every other rule a recurrence breaks ([U] real Graph has answered some of
//   these with 500 ErrorInternalServerError, e.g. a daily pattern without interval; a fake must not).
const BODY = 'RequestBodyRead';
const DATE_LITERAL = 'UnableToDeserializePostBody';
const ZONE = 'TimeZoneNotSupportedException';
const INVALID = 'ErrorInvalidRequest';
const bad = (code, message) => new GraphError(400, code, message);

// ---- time zones --------------------------------------------------------------------------------

/// The IANA zone a Graph `timeZone` value names, or null when Graph would not know it. Windows names
/// ("W. Europe Standard Time", "UTC"; exact spelling, as Windows registry keys are) go through
/// windows-iana; "tzone://Microsoft/Utc" (how Graph writes UTC in some answers) is UTC; IANA names
/// are taken as they are when ICU knows them (datetimetimezone.md lists IANA names Graph accepts
/// besides the Windows ones).
export function resolveZone(name) {
  if (typeof name !== 'string' || name === '') return null;
  if (name === 'tzone://Microsoft/Utc') return 'Etc/UTC';
  const fromWindows = findIana(name).find((z) => zoneValid(z));
  if (fromWindows) return fromWindows;
  return zoneValid(name) ? name : null;
}

const zoneError = (name) => bad(ZONE,
  `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${name ?? ''}'.`);

// ---- dateTimeTimeZone --------------------------------------------------------------------------

// "2016-12-09T20:30:00" with an optional fraction of up to 7 digits (Graph writes ".0000000"). [U]
// Graph may tolerate more (a trailing "Z", no seconds); the fake refuses: dateTime has no offset
// by definition (CONTRACT.md §2) and an offset would contradict timeZone.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/// Parses a dateTimeTimeZone {dateTime, timeZone} of field `field` ("start", "end", …) into
/// {wallMs, zone, timeZone}: the wall time as wall ms, the IANA zone, the label as given.
export function parseGraphDateTime(value, field = 'dateTime') {
  if (!isPlainObject(value)) {
    throw bad(BODY, `The property '${field}' must be a dateTimeTimeZone object ({"dateTime", "timeZone"}).`);
  }
  for (const key of Object.keys(value)) {
    if (!['dateTime', 'timeZone', '@odata.type'].includes(key)) {
      throw bad(BODY, `The property '${key}' does not exist on type 'microsoft.graph.dateTimeTimeZone'. Make sure to only use property names that are defined by the type.`);
    }
  }
  const { dateTime, timeZone } = value;
  if (dateTime === undefined || dateTime === null) throw bad(INVALID, `${field}.dateTime is required.`);
  if (typeof dateTime !== 'string') throw bad(BODY, `${field}.dateTime must be a string.`);
  if (timeZone !== undefined && timeZone !== null && typeof timeZone !== 'string') {
    throw bad(BODY, `${field}.timeZone must be a string.`);
  }
  // a missing timeZone is refused like an unknown one (Graph's answer to an empty timeZone)
  const zone = resolveZone(timeZone);
  if (!zone) throw zoneError(timeZone);
  const m = DATE_TIME.exec(dateTime);
  if (!m) {
    throw bad(INVALID, `${field}.dateTime '${dateTime}' is not a date and time without offset like '2016-12-09T20:30:00.0000000'.`);
  }
  const [, y, mo, d, h, mi, s, frac = ''] = m;
  const wallMs = dateWall(`${y}-${mo}-${d}`) + ((+h * 60 + +mi) * 60 + +s) * 1000 + Math.floor(+frac.padEnd(7, '0') / 10000);
  if (Number.isNaN(wallMs) || wallDate(wallMs) !== `${y}-${mo}-${d}` || +h > 23 || +mi > 59 || +s > 59) {
    throw bad(INVALID, `${field}.dateTime '${dateTime}' is not a valid date and time.`);
  }
  return { wallMs, zone, timeZone };
}

/// The dateTimeTimeZone Graph writes for instant `instantMs` in IANA `zone`, labelled `zoneLabel`
/// (the name the client used or asked for; `zone` itself when absent): 7-digit fraction.
export function formatGraphDateTime(instantMs, zone, zoneLabel = zone) {
  const wall = wallOf(instantMs, zone);
  const iso = new Date(wall).toISOString();  // yyyy-mm-ddThh:mm:ss.mmmZ
  return { dateTime: `${iso.slice(0, 19)}.${iso.slice(20, 23)}0000`, timeZone: zoneLabel };
}

// ---- patternedRecurrence: shape and values -----------------------------------------------------

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const INDEXES = ['first', 'second', 'third', 'fourth', 'last'];
const PATTERN_TYPES = ['daily', 'weekly', 'absoluteMonthly', 'relativeMonthly', 'absoluteYearly', 'relativeYearly'];
const RANGE_TYPES = ['endDate', 'noEnd', 'numbered'];
const PATTERN_KEYS = ['type', 'interval', 'month', 'dayOfMonth', 'daysOfWeek', 'firstDayOfWeek', 'index'];
const RANGE_KEYS = ['type', 'startDate', 'endDate', 'numberOfOccurrences', 'recurrenceTimeZone'];
const NO_DATE = '0001-01-01';        // how Graph writes an unused Date (range.endDate)
const LAST_END_DATE = '4500-08-31';  // "Recurrence end date can not exceed Sep 1, 4500 00:00:00."
// the longest each month can be (February: 29) — absoluteYearly may not name a day past it
const MONTH_MAX = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// An enum member, matched case-insensitively ([U] Graph's own concept page writes "Thursday" and
// the reference pages "thursday"; Graph answers in camelCase), returned as Graph spells it.
function member(value, members, where) {
  if (typeof value !== 'string') throw bad(BODY, `${where} must be a string.`);
  const found = members.find((x) => x.toLowerCase() === value.toLowerCase());
  if (!found) throw bad(BODY, `Requested value '${value}' was not found for ${where}; the possible values are: ${members.join(', ')}.`);
  return found;
}

// An Edm.Int32 (non-nullable: absent is fine, null is not; a JSON string is not a number in OData).
function int32(value, where) {
  if (value === undefined) return undefined;
  if (value === null) throw bad(BODY, `A null value was found for the property named '${where}', which has the expected type 'Edm.Int32[Nullable=False]'.`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
    throw bad(BODY, `Cannot convert the value '${JSON.stringify(value)}' of '${where}' to the type 'Edm.Int32'.`);
  }
  return value;
}

// An Edm.Date "yyyy-mm-dd" (nullable); undefined when absent or null.
function date(value, where) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(dateWall(value))
    || wallDate(dateWall(value)) !== value) {
    throw bad(DATE_LITERAL, `Cannot convert the literal '${value}' of '${where}' to the expected type 'Edm.Date'.`);
  }
  return value;
}

function onlyKeys(obj, keys, type) {
  for (const key of Object.keys(obj)) {
    if (key === '@odata.type') {
      if (!['microsoft.graph.', '#microsoft.graph.'].some((p) => obj[key] === p + type)) {
        throw bad(BODY, `'${obj[key]}' is not the type 'microsoft.graph.${type}'.`);
      }
    } else if (!keys.includes(key)) {
      throw bad(BODY, `The property '${key}' does not exist on type 'microsoft.graph.${type}'. Make sure to only use property names that are defined by the type.`);
    }
  }
}

// Validates `recurrence` (anything the client sent) and returns it as Graph writes it back
// (every property present, enums in camelCase, unused numbers 0, an unused endDate 0001-01-01,
// recurrenceTimeZone as given or null). Throws GraphError 400 on anything refused.
function normalize(recurrence) {
  if (!isPlainObject(recurrence)) throw bad(BODY, "The property 'recurrence' must be a patternedRecurrence object.");
  onlyKeys(recurrence, ['pattern', 'range'], 'patternedRecurrence');
  const { pattern: p, range: r } = recurrence;
  if (p === undefined || p === null) throw bad(INVALID, 'recurrence.pattern is required.');
  if (r === undefined || r === null) throw bad(INVALID, 'recurrence.range is required.');
  if (!isPlainObject(p)) throw bad(BODY, "The property 'pattern' must be a recurrencePattern object.");
  if (!isPlainObject(r)) throw bad(BODY, "The property 'range' must be a recurrenceRange object.");
  onlyKeys(p, PATTERN_KEYS, 'recurrencePattern');
  onlyKeys(r, RANGE_KEYS, 'recurrenceRange');

  // Enum-typed properties are validated even where the pattern type ignores them (concept page:
  // "Even if a field is ignored, it is still validated").
  if (p.type === undefined || p.type === null) throw bad(INVALID, 'recurrence.pattern.type is required.');
  const type = member(p.type, PATTERN_TYPES, 'recurrence.pattern.type');
  let daysOfWeek = [];
  if (p.daysOfWeek !== undefined) {
    // a collection is never null in OData
    if (!Array.isArray(p.daysOfWeek)) throw bad(BODY, 'recurrence.pattern.daysOfWeek must be an array of dayOfWeek values.');
    daysOfWeek = [...new Set(p.daysOfWeek.map((d, i) => member(d, DAYS, `recurrence.pattern.daysOfWeek[${i}]`)))];
  }
  const firstDayOfWeek = p.firstDayOfWeek == null ? 'sunday' : member(p.firstDayOfWeek, DAYS, 'recurrence.pattern.firstDayOfWeek');
  const index = p.index == null ? 'first' : member(p.index, INDEXES, 'recurrence.pattern.index');
  const interval = int32(p.interval, 'interval');
  const month = int32(p.month, 'month');
  const dayOfMonth = int32(p.dayOfMonth, 'dayOfMonth');

  // interval is "Required" for every type (recurrencepattern.md), 1 or more.
  if (interval === undefined) throw bad(INVALID, `recurrence.pattern.interval is required for a ${type} pattern.`);
  if (interval < 1) throw bad(INVALID, `recurrence.pattern.interval must be 1 or more, not ${interval}.`);
  const needs = {
    daysOfWeek: ['weekly', 'relativeMonthly', 'relativeYearly'].includes(type),
    dayOfMonth: ['absoluteMonthly', 'absoluteYearly'].includes(type),
    month: ['absoluteYearly', 'relativeYearly'].includes(type),
  };
  if (needs.daysOfWeek && daysOfWeek.length === 0) {
    throw bad(INVALID, `recurrence.pattern.daysOfWeek must name at least one day for a ${type} pattern.`);
  }
  // Numbers a type ignores: 0 (what Graph itself writes, and what SDKs send for an unset Int32) or a
  // value valid for the property; anything else is refused ([U] recurrencepattern.md: "Any property
  // that you include that does not have a supported value would result in an error").
  if (needs.dayOfMonth) {
    if (dayOfMonth === undefined) throw bad(INVALID, `recurrence.pattern.dayOfMonth is required for a ${type} pattern.`);
    if (dayOfMonth < 1 || dayOfMonth > 31) throw bad(INVALID, `recurrence.pattern.dayOfMonth must be from 1 to 31, not ${dayOfMonth}.`);
  } else if (dayOfMonth !== undefined && (dayOfMonth < 0 || dayOfMonth > 31)) {
    throw bad(INVALID, `recurrence.pattern.dayOfMonth must be from 1 to 31 (or 0 when unused), not ${dayOfMonth}.`);
  }
  if (needs.month) {
    if (month === undefined) throw bad(INVALID, `recurrence.pattern.month is required for a ${type} pattern.`);
    if (month < 1 || month > 12) throw bad(INVALID, `recurrence.pattern.month must be from 1 to 12, not ${month}.`);
  } else if (month !== undefined && (month < 0 || month > 12)) {
    throw bad(INVALID, `recurrence.pattern.month must be from 1 to 12 (or 0 when unused), not ${month}.`);
  }
  // [U] a yearly date the month can never have (April 31, February 30) is refused; CDO's
  // RecurrencePattern.DayOfMonth: "For yearly recurrences, DayOfMonth cannot be set past the last
  // possible day in the selected month". February 29 is allowed (February 28 in common years).
  if (type === 'absoluteYearly' && dayOfMonth > MONTH_MAX[month - 1]) {
    throw bad(INVALID, `recurrence.pattern.dayOfMonth ${dayOfMonth} does not exist in month ${month}.`);
  }

  if (r.type === undefined || r.type === null) throw bad(INVALID, 'recurrence.range.type is required.');
  const rangeType = member(r.type, RANGE_TYPES, 'recurrence.range.type');
  const startDate = date(r.startDate, 'startDate');
  const endDate = date(r.endDate, 'endDate');
  const numberOfOccurrences = int32(r.numberOfOccurrences, 'numberOfOccurrences');
  if (r.recurrenceTimeZone !== undefined && r.recurrenceTimeZone !== null && typeof r.recurrenceTimeZone !== 'string') {
    throw bad(BODY, 'recurrence.range.recurrenceTimeZone must be a string.');
  }
  const recurrenceTimeZone = r.recurrenceTimeZone ?? null;
  // [U] an empty string counts as given, and is refused like any unknown zone
  if (recurrenceTimeZone !== null && !resolveZone(recurrenceTimeZone)) throw zoneError(recurrenceTimeZone);
  // startDate: "Required" for every range type (recurrencerange.md).
  if (startDate === undefined) throw bad(INVALID, 'recurrence.range.startDate is required.');
  if (rangeType === 'endDate') {
    if (endDate === undefined) throw bad(INVALID, 'recurrence.range.endDate is required for an endDate range.');
    if (endDate < startDate) throw bad(INVALID, `recurrence.range.endDate ${endDate} is before startDate ${startDate}.`);
    if (endDate > LAST_END_DATE) throw bad('ErrorRecurrenceEndDateTooBig', 'Recurrence end date can not exceed Sep 1, 4500 00:00:00.');
  }
  if (rangeType === 'numbered') {
    if (numberOfOccurrences === undefined) throw bad(INVALID, 'recurrence.range.numberOfOccurrences is required for a numbered range.');
    if (numberOfOccurrences < 1) throw bad(INVALID, `recurrence.range.numberOfOccurrences must be positive, not ${numberOfOccurrences}.`);
  } else if (numberOfOccurrences !== undefined && numberOfOccurrences < 0) {
    throw bad(INVALID, `recurrence.range.numberOfOccurrences must not be negative, not ${numberOfOccurrences}.`);
  }

  const pattern = {
    type, interval,
    month: needs.month ? month : 0,
    dayOfMonth: needs.dayOfMonth ? dayOfMonth : 0,
    ...(daysOfWeek.length ? { daysOfWeek } : {}),
    firstDayOfWeek, index,
  };
  const range = {
    type: rangeType, startDate,
    endDate: rangeType === 'endDate' ? endDate : NO_DATE,
    recurrenceTimeZone,
    numberOfOccurrences: rangeType === 'numbered' ? numberOfOccurrences : 0,
  };
  return { pattern, range };
}

// ---- expansion ---------------------------------------------------------------------------------

const WEEKDAY = Object.fromEntries(DAYS.map((d, i) => [d, [RRule.SU, RRule.MO, RRule.TU, RRule.WE, RRule.TH, RRule.FR, RRule.SA][i]]));
const SETPOS = { first: 1, second: 2, third: 3, fourth: 4, last: -1 };

// rrule options for a normalized pattern.
// - absolute*: a dayOfMonth past the month's end means the month's last day (EWS DayOfMonth: "If
//   for a particular month this value is larger than the number of days in the month, the last day
//   of the month is assumed"; [MS-OXCICAL] maps BYMONTHDAY=-1 to Day 31). Expressed as the last of
//   BYMONTHDAY=28..dayOfMonth.
// - relative*: the index-th day of the month falling on any of daysOfWeek ("if more than one value
//   is specified, the event falls on the first day that satisfies the pattern"; [MS-OXCICAL]
//   2.1.3.2.2.4 maps "the last weekday of every month" BYDAY=MO..FR;BYSETPOS=-1 to this pattern).
function ruleOptions(pattern, interval) {
  const byDay = (pattern.daysOfWeek ?? []).map((d) => WEEKDAY[d]);
  const byMonthDay = pattern.dayOfMonth > 28
    ? { bymonthday: Array.from({ length: pattern.dayOfMonth - 27 }, (_, i) => 28 + i), bysetpos: -1 }
    : { bymonthday: [pattern.dayOfMonth] };
  const wkst = WEEKDAY[pattern.firstDayOfWeek];
  switch (pattern.type) {
    case 'daily': return { freq: RRule.DAILY, interval, wkst };
    case 'weekly': return { freq: RRule.WEEKLY, interval, byweekday: byDay, wkst };
    case 'absoluteMonthly': return { freq: RRule.MONTHLY, interval, ...byMonthDay, wkst };
    case 'relativeMonthly': return { freq: RRule.MONTHLY, interval, byweekday: byDay, bysetpos: SETPOS[pattern.index], wkst };
    case 'absoluteYearly': return { freq: RRule.YEARLY, interval, bymonth: pattern.month, ...byMonthDay, wkst };
    case 'relativeYearly': return { freq: RRule.YEARLY, interval, bymonth: pattern.month, byweekday: byDay, bysetpos: SETPOS[pattern.index], wkst };
    default: throw new Error(`unknown pattern type ${pattern.type}`);
  }
}

// The wall ms of the series' first occurrence: the first day on or after range.startDate the
// pattern falls on, at `timeOfDay`; null if there is none (cannot happen for a valid pattern).
//
// The interval is counted from that first occurrence, not from startDate: [MS-OXOCAL] 2.2.1.44.1.1
// anchors the valid days/weeks/months on the StartDate of the stored series, which is the date of
// its first occurrence ("the first day of the week in which the first event of the recurring series
// occurs"). The concept page's example agrees: "first Thursday of every other month starting
// August 29, 2017" has its first occurrence in September (an RRULE anchored on Aug 29 would give
// October).
function firstWall(norm, timeOfDay) {
  const from = new Date(dateWall(norm.range.startDate) + timeOfDay);
  const first = new RRule({ ...ruleOptions(norm.pattern, 1), dtstart: from }).after(from, true);
  return first ? first.getTime() : null;
}

// The zone a series is laid out in, and the master start's wall time there.
function seriesFrame(norm, { startWallMs, zone, isAllDay = false }) {
  if (!zoneValid(zone)) throw new Error(`recurrence: unknown zone ${zone}`);
  // All-day series keep the event's zone and midnight. Timed ones use recurrenceTimeZone when given
  // ("Time zone for the startDate and endDate properties. Optional. If not specified, the time zone
  // of the event is used"); [U] the time of day is also kept in that zone.
  if (isAllDay) return { zone, wall: Math.floor(startWallMs / DAY) * DAY };
  const recZone = norm.range.recurrenceTimeZone ? resolveZone(norm.range.recurrenceTimeZone) : zone;
  return { zone: recZone, wall: recZone === zone ? startWallMs : wallOf(instantOf(startWallMs, zone), recZone) };
}

const timeOfDayOf = (wall) => ((wall % DAY) + DAY) % DAY;

/// The first occurrence of a series, {wallMs, startMs, zone}, or null. Graph moves a series
/// master's start there when the start does not fall on the pattern (Stack Overflow question
/// "Insert recurring event on office 365 api returns incorrect start and end date", mirrored at
/// whosebug.com/question/1426422: a start on Thursday 2016-04-07 with "first Monday of January"
/// came back with a different start and end).
export function firstOccurrence(recurrence, master) {
  const norm = normalize(recurrence);
  const frame = seriesFrame(norm, master);
  const wall = firstWall(norm, timeOfDayOf(frame.wall));
  return wall === null ? null : { wallMs: wall, startMs: instantOf(wall, frame.zone), zone: frame.zone };
}

/// Checks a recurrence of a request (400 GraphError on anything refused) and returns it as Graph
/// writes it back. `start` is the event's start dateTimeTimeZone (optional: without it the checks
/// that need it are skipped); `isAllDay` the event's isAllDay. null/undefined → null (no recurrence).
///
/// Beyond the per-type rules: range.startDate "MUST correspond to the date value of the start
/// property" / "Must be the same value as the start property" (concept page, recurrencerange.md);
/// [U] whether Graph enforces it is undocumented — the fake does: startDate must be the date of
/// `start` in the recurrence's zone (recurrenceTimeZone, else start's zone; all-day: start's zone).
/// The start need not fall on the pattern (Graph then moves it to the first occurrence, see
/// firstOccurrence). An endDate range without any occurrence is refused.
export function checkRecurrence(recurrence, start, isAllDay = false) {
  if (recurrence === undefined || recurrence === null) return null;
  const norm = normalize(recurrence);
  let timeOfDay = 0;
  if (start !== undefined && start !== null) {
    const s = parseGraphDateTime(start, 'start');
    const frame = seriesFrame(norm, { startWallMs: s.wallMs, zone: s.zone, isAllDay });
    const startDay = wallDate(frame.wall);
    if (startDay !== norm.range.startDate) {
      throw bad(INVALID, `recurrence.range.startDate ${norm.range.startDate} must be the date of the event's start (${startDay} in ${frame.zone}).`);
    }
    timeOfDay = timeOfDayOf(frame.wall);
    // Graph writes the zone back even when the request left it out (user-post-events.md examples)
    if (norm.range.recurrenceTimeZone === null) norm.range.recurrenceTimeZone = s.timeZone;
  }
  if (norm.range.type === 'endDate') {
    const first = firstWall(norm, timeOfDay);
    if (first === null || wallDate(first) > norm.range.endDate) {
      throw bad('ErrorRecurrenceHasNoOccurrence', 'Recurrence has no occurrences in the specified range.');
    }
  }
  return norm;
}

/// The recurrence as Graph writes it back (see checkRecurrence), without the start checks.
export function normalizeRecurrence(recurrence) {
  return recurrence === undefined || recurrence === null ? null : normalize(recurrence);
}

/// The occurrences of a series whose span overlaps [fromMs, toMs) (an occurrence ending exactly at
/// fromMs or starting exactly at toMs is out; a zero-length one counts when fromMs ≤ start < toMs),
/// sorted by start, at most `max`: [{originalStartMs, wallMs, startMs, endMs}] — wallMs in the series' zone.
///
/// `startWallMs` is the master's start as wall ms in IANA `zone` (the event's start zone; passing
/// the recurrence zone already is fine too); `durationMs` the master's end − start. The series
/// lives in range.recurrenceTimeZone when given, else in `zone`, and keeps the master's wall-clock
/// time of day there. The dates come from the pattern and the range alone: the first occurrence is
/// the first pattern date on or after range.startDate (the master's own date only matters in so far
/// as it should equal startDate, which checkRecurrence enforces); endDate is inclusive (an
/// occurrence on endDate counts, recurrencerange.md: "between the startDate and endDate
/// inclusive"); numbered counts from that first occurrence. All-day series (`isAllDay`) run from
/// midnight to midnight in `zone`, `durationMs` rounded to whole days.
export function expandRecurrence(recurrence, { startWallMs, durationMs, zone, isAllDay = false }, fromMs, toMs,
  { max = MAX_INSTANCES } = {}) {
  const norm = normalize(recurrence);
  const frame = seriesFrame(norm, { startWallMs, zone, isAllDay });
  const subSecond = timeOfDayOf(frame.wall) % 1000;  // rrule works in whole seconds
  const timeOfDay = timeOfDayOf(frame.wall) - subSecond;
  const first = firstWall(norm, timeOfDay);
  if (first === null || max <= 0 || !(toMs > fromMs)) return [];
  const { range } = norm;
  const rule = new RRule({
    ...ruleOptions(norm.pattern, norm.pattern.interval),
    dtstart: new Date(first),
    ...(range.type === 'numbered' ? { count: range.numberOfOccurrences } : {}),
    ...(range.type === 'endDate' ? { until: new Date(dateWall(range.endDate) + DAY - 1) } : {}),
  });
  const allDayDays = Math.max(0, Math.round(durationMs / DAY));
  const span = (wall) => {
    const startMs = instantOf(wall, frame.zone);
    const endMs = isAllDay ? instantOf(wall + allDayDays * DAY, frame.zone) : startMs + durationMs;
    return { originalStartMs: startMs, wallMs: wall, startMs, endMs };
  };
  // wall times and instants differ by less than a day: search two days wider, then filter exactly
  const lo = Math.max(first, fromMs - Math.max(durationMs, 0) - 2 * DAY);
  const hi = Math.min(toMs, 8.64e15 - 3 * DAY) + 2 * DAY;
  if (lo > hi) return [];
  const out = [];
  rule.between(new Date(lo), new Date(hi), true, (d) => {
    const o = span(d.getTime() + subSecond);
    // overlap; a zero-length occurrence counts when it starts inside the window
    if (o.startMs < toMs && (o.endMs > fromMs || (o.endMs === o.startMs && o.startMs >= fromMs))) out.push(o);
    return out.length < max;
  });
  return out.sort((a, b) => a.startMs - b.startMs).slice(0, max);
}
