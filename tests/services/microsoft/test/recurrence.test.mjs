// Graph recurrence (patternedRecurrence) and dateTimeTimeZone handling of the contract fake.
// Expected dates are worked out by hand from the calendar (weekdays checked independently), not
// taken from the implementation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkRecurrence, expandRecurrence, firstOccurrence, formatGraphDateTime, normalizeRecurrence,
  parseGraphDateTime, resolveZone,
} from '../recurrence.mjs';
import { GraphError } from '../errors.mjs';

const H = 3600000;
const DAY = 24 * H;
const wall = (s) => Date.parse(`${s}Z`);  // "2024-03-18T09:00:00" → wall ms
const at = (s) => Date.parse(s);          // an instant, with its Z or offset
const iso = (ms) => new Date(ms).toISOString();

// Asserts that fn throws Graph's 400 with `code` (and, when given, a message matching `re`).
function rejects(fn, code, re) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e}`);
    assert.equal(e.status, 400);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

// Expands `rec` for a master starting at wall time `start` in `zone`; returns the start instants.
function starts(rec, start, zone, from, to, { durationMs = H, isAllDay = false, max } = {}) {
  return expandRecurrence(rec, { startWallMs: wall(start), durationMs, zone, isAllDay }, at(from), at(to),
    max === undefined ? undefined : { max }).map((o) => iso(o.startMs));
}

const weeklyMonday = (range) => ({ pattern: { type: 'weekly', interval: 1, daysOfWeek: ['monday'] }, range });
const daily = (range, interval = 1) => ({ pattern: { type: 'daily', interval }, range });

// ---- resolveZone ---------------------------------------------------------------------------

test('resolveZone maps Windows zone names (and Graph\'s tzone UTC) to IANA', () => {
  assert.equal(resolveZone('W. Europe Standard Time'), 'Europe/Berlin');
  assert.equal(resolveZone('Pacific Standard Time'), 'America/Los_Angeles');
  assert.equal(resolveZone('Eastern Standard Time'), 'America/New_York');
  assert.equal(resolveZone('Tokyo Standard Time'), 'Asia/Tokyo');
  assert.equal(resolveZone('UTC'), 'Etc/UTC');
  assert.equal(resolveZone('tzone://Microsoft/Utc'), 'Etc/UTC');
});

test('resolveZone takes IANA names as they are and answers null for unknown names', () => {
  assert.equal(resolveZone('Europe/Berlin'), 'Europe/Berlin');
  assert.equal(resolveZone('America/New_York'), 'America/New_York');
  assert.equal(resolveZone('Mars Standard Time'), null);
  assert.equal(resolveZone('w. europe standard time'), null);  // Windows names are exact
  assert.equal(resolveZone('Customized Time Zone'), null);
  assert.equal(resolveZone(''), null);
  assert.equal(resolveZone(undefined), null);
  assert.equal(resolveZone(null), null);
  assert.equal(resolveZone(42), null);
});

// ---- parseGraphDateTime / formatGraphDateTime --------------------------------------------------

test('parseGraphDateTime reads Graph\'s 7-digit form and the plain form', () => {
  assert.deepEqual(parseGraphDateTime({ dateTime: '2016-12-09T20:30:00.0000000', timeZone: 'Pacific Standard Time' }, 'start'),
    { wallMs: Date.UTC(2016, 11, 9, 20, 30), zone: 'America/Los_Angeles', timeZone: 'Pacific Standard Time' });
  assert.deepEqual(parseGraphDateTime({ dateTime: '2024-03-18T09:00:00', timeZone: 'Europe/Berlin' }, 'end'),
    { wallMs: Date.UTC(2024, 2, 18, 9), zone: 'Europe/Berlin', timeZone: 'Europe/Berlin' });
  assert.equal(parseGraphDateTime({ dateTime: '2024-03-18T09:00:05.1234567', timeZone: 'UTC' }).wallMs,
    Date.UTC(2024, 2, 18, 9, 0, 5, 123));
  assert.equal(parseGraphDateTime({ dateTime: '2024-03-18T09:00:05.5', timeZone: 'UTC' }).wallMs,
    Date.UTC(2024, 2, 18, 9, 0, 5, 500));
  assert.equal(parseGraphDateTime({ dateTime: '2024-02-29T23:59:59', timeZone: 'tzone://Microsoft/Utc' }).zone, 'Etc/UTC');
});

test('parseGraphDateTime refuses an offset or Z in dateTime', () => {
  rejects(() => parseGraphDateTime({ dateTime: '2016-12-09T20:30:00Z', timeZone: 'UTC' }, 'start'), 'ErrorInvalidRequest', /start\.dateTime/);
  rejects(() => parseGraphDateTime({ dateTime: '2016-12-09T20:30:00+01:00', timeZone: 'UTC' }, 'start'), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2016-12-09T20:30:00.0000000-08:00', timeZone: 'UTC' }, 'end'), 'ErrorInvalidRequest', /end\.dateTime/);
});

test('parseGraphDateTime refuses malformed or impossible date-times', () => {
  const z = 'UTC';
  rejects(() => parseGraphDateTime({ dateTime: '2023-02-29T10:00:00', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-04-31T10:00:00', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-13-01T10:00:00', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-01-01T24:00:00', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-01-01T10:60:00', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-01-01T10:00', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-01-01T10:00:00.12345678', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '2023-01-01', timeZone: z }), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime({ dateTime: '01/02/2023 10:00:00', timeZone: z }), 'ErrorInvalidRequest');
});

test('parseGraphDateTime refuses missing fields and wrong shapes', () => {
  rejects(() => parseGraphDateTime({ timeZone: 'UTC' }, 'start'), 'ErrorInvalidRequest', /start\.dateTime is required/);
  rejects(() => parseGraphDateTime({ dateTime: null, timeZone: 'UTC' }, 'start'), 'ErrorInvalidRequest');
  rejects(() => parseGraphDateTime(undefined, 'start'), 'RequestBodyRead');
  rejects(() => parseGraphDateTime('2024-01-01T10:00:00', 'start'), 'RequestBodyRead');
  rejects(() => parseGraphDateTime({ dateTime: 20240101, timeZone: 'UTC' }, 'start'), 'RequestBodyRead');
  rejects(() => parseGraphDateTime({ dateTime: '2024-01-01T10:00:00', timeZone: 7 }, 'start'), 'RequestBodyRead');
  rejects(() => parseGraphDateTime({ dateTime: '2024-01-01T10:00:00', timeZone: 'UTC', offset: 1 }, 'start'), 'RequestBodyRead', /'offset'/);
});

test('parseGraphDateTime answers TimeZoneNotSupportedException for a missing, empty or unknown zone', () => {
  rejects(() => parseGraphDateTime({ dateTime: '2024-01-01T10:00:00' }, 'start'), 'TimeZoneNotSupportedException', /''/);
  rejects(() => parseGraphDateTime({ dateTime: '2024-01-01T10:00:00', timeZone: '' }, 'start'), 'TimeZoneNotSupportedException');
  rejects(() => parseGraphDateTime({ dateTime: '2024-01-01T10:00:00', timeZone: 'Local' }, 'start'),
    'TimeZoneNotSupportedException', /The following TimeZone value is not supported: 'Local'/);
  rejects(() => parseGraphDateTime({ dateTime: '2024-01-01T10:00:00', timeZone: 'Mars Standard Time' }, 'end'), 'TimeZoneNotSupportedException');
});

test('formatGraphDateTime writes the wall time in the zone with a 7-digit fraction', () => {
  assert.deepEqual(formatGraphDateTime(at('2024-03-18T08:00:00Z'), 'Europe/Berlin', 'W. Europe Standard Time'),
    { dateTime: '2024-03-18T09:00:00.0000000', timeZone: 'W. Europe Standard Time' });
  // after the switch to summer time the same wall time is an hour earlier in UTC
  assert.deepEqual(formatGraphDateTime(at('2024-04-01T07:00:00Z'), 'Europe/Berlin', 'W. Europe Standard Time'),
    { dateTime: '2024-04-01T09:00:00.0000000', timeZone: 'W. Europe Standard Time' });
  assert.deepEqual(formatGraphDateTime(at('2024-01-01T00:00:00.123Z'), 'Etc/UTC', 'UTC'),
    { dateTime: '2024-01-01T00:00:00.1230000', timeZone: 'UTC' });
  assert.deepEqual(formatGraphDateTime(at('2024-07-04T19:30:00Z'), 'America/Los_Angeles'),
    { dateTime: '2024-07-04T12:30:00.0000000', timeZone: 'America/Los_Angeles' });
});

test('parseGraphDateTime and formatGraphDateTime round-trip', () => {
  const parsed = parseGraphDateTime({ dateTime: '2024-11-03T01:30:00.0000000', timeZone: 'Pacific Standard Time' });
  // 01:30 happens twice that night; the zones helper picks one instant, and it formats back the same
  const back = expandRecurrence(daily({ type: 'numbered', startDate: '2024-11-03', numberOfOccurrences: 1 }),
    { startWallMs: parsed.wallMs, durationMs: H, zone: parsed.zone }, 0, at('2100-01-01T00:00:00Z'));
  assert.equal(back.length, 1);
  assert.deepEqual(formatGraphDateTime(back[0].startMs, parsed.zone, 'Pacific Standard Time'),
    { dateTime: '2024-11-03T01:30:00.0000000', timeZone: 'Pacific Standard Time' });
});

// ---- checkRecurrence: accepted input ---------------------------------------------------------

test('checkRecurrence answers null for no recurrence', () => {
  assert.equal(checkRecurrence(null, { dateTime: '2024-01-01T10:00:00', timeZone: 'UTC' }), null);
  assert.equal(checkRecurrence(undefined), null);
  assert.equal(normalizeRecurrence(null), null);
});

test('checkRecurrence returns the recurrence as Graph writes it back (docs example, weekly + endDate)', () => {
  const got = checkRecurrence({
    pattern: { type: 'weekly', interval: 1, daysOfWeek: ['Monday'] },
    range: { type: 'endDate', startDate: '2017-09-04', endDate: '2017-12-31' },
  }, { dateTime: '2017-09-04T13:00:00', timeZone: 'Pacific Standard Time' });
  assert.deepEqual(got, {
    pattern: { type: 'weekly', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday', index: 'first' },
    range: { type: 'endDate', startDate: '2017-09-04', endDate: '2017-12-31', recurrenceTimeZone: 'Pacific Standard Time', numberOfOccurrences: 0 },
  });
});

test('checkRecurrence accepts every pattern type with its required fields and fills defaults', () => {
  const start = (d) => ({ dateTime: `${d}T10:00:00`, timeZone: 'UTC' });
  assert.deepEqual(checkRecurrence(daily({ type: 'numbered', startDate: '2024-01-01', numberOfOccurrences: 3 }, 3), start('2024-01-01')), {
    pattern: { type: 'daily', interval: 3, month: 0, dayOfMonth: 0, firstDayOfWeek: 'sunday', index: 'first' },
    range: { type: 'numbered', startDate: '2024-01-01', endDate: '0001-01-01', recurrenceTimeZone: 'UTC', numberOfOccurrences: 3 },
  });
  assert.deepEqual(checkRecurrence({ pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, range: { type: 'noEnd', startDate: '2024-01-31' } },
    start('2024-01-31')).pattern, { type: 'absoluteMonthly', interval: 1, month: 0, dayOfMonth: 31, firstDayOfWeek: 'sunday', index: 'first' });
  assert.deepEqual(checkRecurrence({ pattern: { type: 'relativeMonthly', interval: 2, daysOfWeek: ['thursday'] }, range: { type: 'noEnd', startDate: '2017-08-29' } },
    start('2017-08-29')).pattern, { type: 'relativeMonthly', interval: 2, month: 0, dayOfMonth: 0, daysOfWeek: ['thursday'], firstDayOfWeek: 'sunday', index: 'first' });
  assert.deepEqual(checkRecurrence({ pattern: { type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 29 }, range: { type: 'noEnd', startDate: '2024-02-29' } },
    start('2024-02-29')).pattern, { type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 29, firstDayOfWeek: 'sunday', index: 'first' });
  assert.deepEqual(checkRecurrence({ pattern: { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['wednesday'], index: 'last' }, range: { type: 'noEnd', startDate: '2024-11-27' } },
    start('2024-11-27')).pattern, { type: 'relativeYearly', interval: 1, month: 11, dayOfMonth: 0, daysOfWeek: ['wednesday'], firstDayOfWeek: 'sunday', index: 'last' });
});

test('checkRecurrence accepts what Graph itself writes back, in any enum casing', () => {
  // the "unset" values of a read-back recurrence: month/dayOfMonth 0, endDate 0001-01-01, count 0
  const readBack = {
    pattern: { type: 'Daily', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: [], firstDayOfWeek: 'Sunday', index: 'First' },
    range: { type: 'NoEnd', startDate: '2022-09-19', endDate: '0001-01-01', recurrenceTimeZone: 'Eastern Standard Time', numberOfOccurrences: 0 },
  };
  assert.deepEqual(checkRecurrence(readBack, { dateTime: '2022-09-19T08:00:00.0000000', timeZone: 'Eastern Standard Time' }), {
    pattern: { type: 'daily', interval: 1, month: 0, dayOfMonth: 0, firstDayOfWeek: 'sunday', index: 'first' },
    range: { type: 'noEnd', startDate: '2022-09-19', endDate: '0001-01-01', recurrenceTimeZone: 'Eastern Standard Time', numberOfOccurrences: 0 },
  });
  // an @odata.type annotation naming the right type is fine; duplicates in daysOfWeek collapse
  const annotated = checkRecurrence({
    pattern: { '@odata.type': 'microsoft.graph.recurrencePattern', type: 'WEEKLY', interval: 2, daysOfWeek: ['friday', 'Friday', 'monday'], firstDayOfWeek: 'monday' },
    range: { '@odata.type': '#microsoft.graph.recurrenceRange', type: 'numbered', startDate: '2024-03-04', numberOfOccurrences: 5 },
  });
  assert.deepEqual(annotated.pattern.daysOfWeek, ['friday', 'monday']);
  assert.equal(annotated.pattern.firstDayOfWeek, 'monday');
  assert.equal(annotated.range.recurrenceTimeZone, null);  // no start given: nothing to fill in
});

// ---- checkRecurrence: refusals -------------------------------------------------------------

const okPattern = { type: 'weekly', interval: 1, daysOfWeek: ['monday'] };
const okRange = { type: 'noEnd', startDate: '2024-03-18' };
const withPattern = (p) => ({ pattern: { ...okPattern, ...p }, range: okRange });
const withRange = (r) => ({ pattern: okPattern, range: { ...okRange, ...r } });

test('checkRecurrence refuses a recurrence that is not a {pattern, range} object', () => {
  rejects(() => checkRecurrence('RRULE:FREQ=DAILY'), 'RequestBodyRead');
  rejects(() => checkRecurrence([]), 'RequestBodyRead');
  rejects(() => checkRecurrence({ pattern: okPattern }), 'ErrorInvalidRequest', /range is required/);
  rejects(() => checkRecurrence({ range: okRange }), 'ErrorInvalidRequest', /pattern is required/);
  rejects(() => checkRecurrence({ pattern: 'weekly', range: okRange }), 'RequestBodyRead');
  rejects(() => checkRecurrence({ pattern: okPattern, range: [] }), 'RequestBodyRead');
  rejects(() => checkRecurrence({ pattern: okPattern, range: okRange, rrule: 'x' }), 'RequestBodyRead', /'rrule' does not exist on type 'microsoft\.graph\.patternedRecurrence'/);
  rejects(() => checkRecurrence(withPattern({ byDay: 'MO' })), 'RequestBodyRead', /recurrencePattern/);
  rejects(() => checkRecurrence(withRange({ until: '2024-05-01' })), 'RequestBodyRead', /recurrenceRange/);
  rejects(() => checkRecurrence(withPattern({ '@odata.type': 'microsoft.graph.recurrenceRange' })), 'RequestBodyRead');
});

test('checkRecurrence refuses a missing or unknown pattern type', () => {
  rejects(() => checkRecurrence({ pattern: { interval: 1, daysOfWeek: ['monday'] }, range: okRange }), 'ErrorInvalidRequest', /pattern\.type is required/);
  rejects(() => checkRecurrence(withPattern({ type: 'hourly' })), 'RequestBodyRead', /'hourly'/);
  rejects(() => checkRecurrence(withPattern({ type: 'monthly' })), 'RequestBodyRead');
  rejects(() => checkRecurrence(withPattern({ type: 1 })), 'RequestBodyRead');
});

test('checkRecurrence refuses a missing, non-positive or non-integer interval', () => {
  rejects(() => checkRecurrence({ pattern: { type: 'daily' }, range: okRange }), 'ErrorInvalidRequest', /interval is required/);
  rejects(() => checkRecurrence(withPattern({ interval: 0 })), 'ErrorInvalidRequest', /interval must be 1 or more/);
  rejects(() => checkRecurrence(withPattern({ interval: -2 })), 'ErrorInvalidRequest');
  rejects(() => checkRecurrence(withPattern({ interval: '2' })), 'RequestBodyRead');
  rejects(() => checkRecurrence(withPattern({ interval: 1.5 })), 'RequestBodyRead');
  rejects(() => checkRecurrence(withPattern({ interval: null })), 'RequestBodyRead', /null value/);
  rejects(() => checkRecurrence(withPattern({ interval: 2 ** 31 })), 'RequestBodyRead');
});

test('checkRecurrence refuses weekly/relative patterns without days and bad day names anywhere', () => {
  rejects(() => checkRecurrence({ pattern: { type: 'weekly', interval: 1 }, range: okRange }), 'ErrorInvalidRequest', /daysOfWeek/);
  rejects(() => checkRecurrence(withPattern({ daysOfWeek: [] })), 'ErrorInvalidRequest', /daysOfWeek/);
  rejects(() => checkRecurrence({ pattern: { type: 'relativeMonthly', interval: 1, index: 'first' }, range: okRange }), 'ErrorInvalidRequest', /daysOfWeek/);
  rejects(() => checkRecurrence({ pattern: { type: 'relativeYearly', interval: 1, month: 5 }, range: okRange }), 'ErrorInvalidRequest', /daysOfWeek/);
  rejects(() => checkRecurrence(withPattern({ daysOfWeek: ['funday'] })), 'RequestBodyRead', /'funday'/);
  rejects(() => checkRecurrence(withPattern({ daysOfWeek: ['mon'] })), 'RequestBodyRead');
  rejects(() => checkRecurrence(withPattern({ daysOfWeek: 'monday' })), 'RequestBodyRead');
  rejects(() => checkRecurrence(withPattern({ daysOfWeek: null })), 'RequestBodyRead');
  // ignored fields are still validated ("Even if a field is ignored, it is still validated")
  rejects(() => checkRecurrence({ pattern: { type: 'daily', interval: 1, daysOfWeek: ['someday'] }, range: okRange }), 'RequestBodyRead');
  rejects(() => checkRecurrence({ pattern: { type: 'daily', interval: 1, firstDayOfWeek: 'someday' }, range: okRange }), 'RequestBodyRead');
  rejects(() => checkRecurrence({ pattern: { type: 'daily', interval: 1, index: 'fifth' }, range: okRange }), 'RequestBodyRead', /'fifth'/);
  rejects(() => checkRecurrence(withPattern({ firstDayOfWeek: 'Mo' })), 'RequestBodyRead');
});

test('checkRecurrence refuses absolute patterns without a valid dayOfMonth', () => {
  const monthly = (dayOfMonth) => ({ pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth }, range: okRange });
  rejects(() => checkRecurrence({ pattern: { type: 'absoluteMonthly', interval: 1 }, range: okRange }), 'ErrorInvalidRequest', /dayOfMonth is required/);
  rejects(() => checkRecurrence(monthly(0)), 'ErrorInvalidRequest', /from 1 to 31/);
  rejects(() => checkRecurrence(monthly(32)), 'ErrorInvalidRequest');
  rejects(() => checkRecurrence(monthly(-1)), 'ErrorInvalidRequest');
  rejects(() => checkRecurrence(monthly('15')), 'RequestBodyRead');
  rejects(() => checkRecurrence({ pattern: { type: 'absoluteYearly', interval: 1, month: 4 }, range: okRange }), 'ErrorInvalidRequest', /dayOfMonth is required/);
});

test('checkRecurrence refuses yearly patterns without a valid month, and days a month never has', () => {
  const yearly = (month, dayOfMonth) => ({ pattern: { type: 'absoluteYearly', interval: 1, month, dayOfMonth }, range: okRange });
  rejects(() => checkRecurrence({ pattern: { type: 'absoluteYearly', interval: 1, dayOfMonth: 15 }, range: okRange }), 'ErrorInvalidRequest', /month is required/);
  rejects(() => checkRecurrence(yearly(0, 15)), 'ErrorInvalidRequest', /from 1 to 12/);
  rejects(() => checkRecurrence(yearly(13, 15)), 'ErrorInvalidRequest');
  rejects(() => checkRecurrence(yearly(4, 31)), 'ErrorInvalidRequest', /does not exist in month 4/);
  rejects(() => checkRecurrence(yearly(2, 30)), 'ErrorInvalidRequest');
  assert.equal(checkRecurrence(yearly(2, 29)).pattern.dayOfMonth, 29);
  assert.equal(checkRecurrence(yearly(12, 31)).pattern.month, 12);
  rejects(() => checkRecurrence({ pattern: { type: 'relativeYearly', interval: 1, daysOfWeek: ['monday'] }, range: okRange }), 'ErrorInvalidRequest', /month is required/);
  rejects(() => checkRecurrence({ pattern: { type: 'relativeYearly', interval: 1, month: 13, daysOfWeek: ['monday'] }, range: okRange }), 'ErrorInvalidRequest');
});

test('checkRecurrence refuses unsupported values in numbers a type ignores', () => {
  rejects(() => checkRecurrence(withPattern({ dayOfMonth: 45 })), 'ErrorInvalidRequest', /dayOfMonth/);
  rejects(() => checkRecurrence(withPattern({ month: 13 })), 'ErrorInvalidRequest', /month/);
  rejects(() => checkRecurrence(withPattern({ month: -1 })), 'ErrorInvalidRequest');
  rejects(() => checkRecurrence(withPattern({ dayOfMonth: null })), 'RequestBodyRead');
  rejects(() => checkRecurrence(withRange({ numberOfOccurrences: -1 })), 'ErrorInvalidRequest');
  rejects(() => checkRecurrence(withRange({ numberOfOccurrences: '3' })), 'RequestBodyRead');
  // a weekly pattern keeps 0 for the ignored numbers, whatever valid value was sent
  assert.deepEqual(checkRecurrence(withPattern({ dayOfMonth: 15, month: 3 })).pattern,
    { type: 'weekly', interval: 1, month: 0, dayOfMonth: 0, daysOfWeek: ['monday'], firstDayOfWeek: 'sunday', index: 'first' });
});

test('checkRecurrence refuses a missing or unknown range type and a missing or malformed startDate', () => {
  rejects(() => checkRecurrence({ pattern: okPattern, range: { startDate: '2024-03-18' } }), 'ErrorInvalidRequest', /range\.type is required/);
  rejects(() => checkRecurrence(withRange({ type: 'forever' })), 'RequestBodyRead', /'forever'/);
  rejects(() => checkRecurrence({ pattern: okPattern, range: { type: 'noEnd' } }), 'ErrorInvalidRequest', /startDate is required/);
  rejects(() => checkRecurrence(withRange({ startDate: null })), 'ErrorInvalidRequest', /startDate is required/);
  rejects(() => checkRecurrence(withRange({ startDate: '14/03/2021' })), 'UnableToDeserializePostBody', /Edm\.Date/);
  rejects(() => checkRecurrence(withRange({ startDate: '2021-02-30' })), 'UnableToDeserializePostBody');
  rejects(() => checkRecurrence(withRange({ startDate: '2021-03-14T00:00:00Z' })), 'UnableToDeserializePostBody');
  rejects(() => checkRecurrence(withRange({ startDate: 20210314 })), 'UnableToDeserializePostBody');
});

test('checkRecurrence checks endDate ranges: required, not before startDate, not past 4500', () => {
  rejects(() => checkRecurrence(withRange({ type: 'endDate' })), 'ErrorInvalidRequest', /endDate is required/);
  rejects(() => checkRecurrence(withRange({ type: 'endDate', endDate: '2024-03-17' })), 'ErrorInvalidRequest', /before startDate/);
  rejects(() => checkRecurrence(withRange({ type: 'endDate', endDate: '4500-09-01' })), 'ErrorRecurrenceEndDateTooBig');
  rejects(() => checkRecurrence(withRange({ type: 'endDate', endDate: '2024-13-01' })), 'UnableToDeserializePostBody');
  // an endDate a noEnd range ignores is still a Date
  rejects(() => checkRecurrence(withRange({ endDate: 'never' })), 'UnableToDeserializePostBody');
  // endDate equal to startDate on a pattern day: one occurrence, accepted
  assert.equal(checkRecurrence(withRange({ type: 'endDate', endDate: '2024-03-18' })).range.endDate, '2024-03-18');
  assert.equal(checkRecurrence(withRange({ type: 'endDate', endDate: '4500-08-31' })).range.endDate, '4500-08-31');
});

test('checkRecurrence refuses an endDate range the pattern never falls in', () => {
  // Tuesday 2024-03-19 .. Saturday 2024-03-23 holds no Monday
  rejects(() => checkRecurrence(weeklyMonday({ type: 'endDate', startDate: '2024-03-19', endDate: '2024-03-23' })),
    'ErrorRecurrenceHasNoOccurrence');
  // up to and including Monday 2024-03-25 it does
  assert.equal(checkRecurrence(weeklyMonday({ type: 'endDate', startDate: '2024-03-19', endDate: '2024-03-25' })).range.type, 'endDate');
});

test('checkRecurrence checks numbered ranges: a positive numberOfOccurrences', () => {
  rejects(() => checkRecurrence(withRange({ type: 'numbered' })), 'ErrorInvalidRequest', /numberOfOccurrences is required/);
  rejects(() => checkRecurrence(withRange({ type: 'numbered', numberOfOccurrences: 0 })), 'ErrorInvalidRequest', /positive/);
  rejects(() => checkRecurrence(withRange({ type: 'numbered', numberOfOccurrences: -3 })), 'ErrorInvalidRequest');
  assert.equal(checkRecurrence(withRange({ type: 'numbered', numberOfOccurrences: 1 })).range.numberOfOccurrences, 1);
});

test('checkRecurrence refuses a recurrenceTimeZone that does not resolve', () => {
  rejects(() => checkRecurrence(withRange({ recurrenceTimeZone: 'Mars Standard Time' })), 'TimeZoneNotSupportedException', /'Mars Standard Time'/);
  rejects(() => checkRecurrence(withRange({ recurrenceTimeZone: '' })), 'TimeZoneNotSupportedException');
  rejects(() => checkRecurrence(withRange({ recurrenceTimeZone: 1 })), 'RequestBodyRead');
  assert.equal(checkRecurrence(withRange({ recurrenceTimeZone: 'W. Europe Standard Time' })).range.recurrenceTimeZone, 'W. Europe Standard Time');
  assert.equal(checkRecurrence(withRange({ recurrenceTimeZone: 'Europe/Berlin' })).range.recurrenceTimeZone, 'Europe/Berlin');
  assert.equal(checkRecurrence(withRange({ recurrenceTimeZone: null })).range.recurrenceTimeZone, null);
});

test('checkRecurrence requires startDate to be the start\'s date in the recurrence zone', () => {
  const start = { dateTime: '2024-03-18T09:00:00', timeZone: 'W. Europe Standard Time' };
  rejects(() => checkRecurrence(withRange({ startDate: '2024-03-11' }), start), 'ErrorInvalidRequest', /2024-03-18/);
  assert.equal(checkRecurrence(withRange({ startDate: '2024-03-18' }), start).range.recurrenceTimeZone, 'W. Europe Standard Time');
  // 23:30 UTC on March 1st is already March 2nd in Tokyo
  const late = { dateTime: '2024-03-01T23:30:00', timeZone: 'UTC' };
  rejects(() => checkRecurrence(withRange({ startDate: '2024-03-01', recurrenceTimeZone: 'Tokyo Standard Time' }), late), 'ErrorInvalidRequest', /2024-03-02/);
  assert.equal(checkRecurrence(withRange({ startDate: '2024-03-02', recurrenceTimeZone: 'Tokyo Standard Time' }), late).range.recurrenceTimeZone, 'Tokyo Standard Time');
  // an all-day event's date is its own date (midnight in its zone), whatever recurrenceTimeZone says
  const allDay = { dateTime: '2024-03-01T00:00:00', timeZone: 'Pacific Standard Time' };
  assert.equal(checkRecurrence(withRange({ startDate: '2024-03-01', recurrenceTimeZone: 'Tokyo Standard Time' }), allDay, true).range.startDate, '2024-03-01');
  assert.equal(checkRecurrence(withRange({ startDate: '2024-03-01' }), allDay, true).range.recurrenceTimeZone, 'Pacific Standard Time');
  // a start that is not on the pattern (a Thursday for a Monday pattern) is accepted: Graph moves it
  assert.equal(checkRecurrence(weeklyMonday({ type: 'noEnd', startDate: '2024-03-21' }), { dateTime: '2024-03-21T09:00:00', timeZone: 'UTC' }).range.startDate, '2024-03-21');
  // and the start itself must be a valid dateTimeTimeZone
  rejects(() => checkRecurrence(withRange({}), { dateTime: '2024-03-18T09:00:00', timeZone: 'Nowhere' }), 'TimeZoneNotSupportedException');
  rejects(() => checkRecurrence(withRange({}), { dateTime: '2024-03-18T09:00:00Z', timeZone: 'UTC' }), 'ErrorInvalidRequest');
});

// ---- expandRecurrence: pattern × range ---------------------------------------------------------

const ALL = ['1900-01-01T00:00:00Z', '2100-01-01T00:00:00Z'];

test('daily × endDate: every other day, endDate inclusive', () => {
  const rec = daily({ type: 'endDate', startDate: '2022-09-19', endDate: '2022-09-23', recurrenceTimeZone: 'Eastern Standard Time' }, 2);
  // 12:00 EDT = 16:00Z
  assert.deepEqual(starts(rec, '2022-09-19T12:00:00', 'America/New_York', ...ALL),
    ['2022-09-19T16:00:00.000Z', '2022-09-21T16:00:00.000Z', '2022-09-23T16:00:00.000Z']);
  // ending the day before the last one drops it
  const shorter = daily({ type: 'endDate', startDate: '2022-09-19', endDate: '2022-09-22' }, 2);
  assert.deepEqual(starts(shorter, '2022-09-19T12:00:00', 'America/New_York', ...ALL),
    ['2022-09-19T16:00:00.000Z', '2022-09-21T16:00:00.000Z']);
});

test('daily × numbered: exactly numberOfOccurrences occurrences', () => {
  const rec = daily({ type: 'numbered', startDate: '2024-02-27', numberOfOccurrences: 4 });
  assert.deepEqual(starts(rec, '2024-02-27T07:15:00', 'Etc/UTC', ...ALL),
    ['2024-02-27T07:15:00.000Z', '2024-02-28T07:15:00.000Z', '2024-02-29T07:15:00.000Z', '2024-03-01T07:15:00.000Z']);
});

test('daily × noEnd: open series clipped to the window', () => {
  const rec = daily({ type: 'noEnd', startDate: '2020-01-01' }, 10);
  // every 10 days from 2020-01-01: ... 2020-03-01 (day 60), 2020-03-11, 2020-03-21, 2020-03-31
  assert.deepEqual(starts(rec, '2020-01-01T00:00:00', 'Etc/UTC', '2020-03-01T00:00:00Z', '2020-04-01T00:00:00Z'),
    ['2020-03-01T00:00:00.000Z', '2020-03-11T00:00:00.000Z', '2020-03-21T00:00:00.000Z', '2020-03-31T00:00:00.000Z']);
});

test('weekly × numbered across the EU switch to summer time keeps 09:00 Berlin wall time', () => {
  const rec = weeklyMonday({ type: 'numbered', startDate: '2024-03-18', numberOfOccurrences: 4 });
  const got = expandRecurrence(rec, { startWallMs: wall('2024-03-18T09:00:00'), durationMs: H, zone: 'Europe/Berlin' },
    at(ALL[0]), at(ALL[1]));
  // summer time starts Sunday 2024-03-31: 09:00 is 08:00Z before, 07:00Z after
  assert.deepEqual(got.map((o) => iso(o.startMs)),
    ['2024-03-18T08:00:00.000Z', '2024-03-25T08:00:00.000Z', '2024-04-01T07:00:00.000Z', '2024-04-08T07:00:00.000Z']);
  assert.deepEqual(got.map((o) => iso(o.wallMs)),
    ['2024-03-18T09:00:00.000Z', '2024-03-25T09:00:00.000Z', '2024-04-01T09:00:00.000Z', '2024-04-08T09:00:00.000Z']);
  assert.deepEqual(got.map((o) => o.endMs - o.startMs), [H, H, H, H]);
  assert.deepEqual(got.map((o) => o.originalStartMs), got.map((o) => o.startMs));
  assert.equal(got[2].startMs - got[1].startMs, 7 * DAY - H);  // the instant moves by one hour
});

test('weekly across the US switch back to standard time keeps 09:00 Pacific (Windows zone name)', () => {
  const rec = { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['friday'] },
    range: { type: 'endDate', startDate: '2024-10-25', endDate: '2024-11-08', recurrenceTimeZone: 'Pacific Standard Time' } };
  // standard time resumes Sunday 2024-11-03: 09:00 PDT = 16:00Z, 09:00 PST = 17:00Z
  assert.deepEqual(starts(rec, '2024-10-25T09:00:00', 'America/Los_Angeles', ...ALL),
    ['2024-10-25T16:00:00.000Z', '2024-11-01T16:00:00.000Z', '2024-11-08T17:00:00.000Z']);
});

test('weekly × endDate: the docs example ends on Monday December 25', () => {
  const rec = { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['Monday'] }, range: { type: 'endDate', startDate: '2017-09-04', endDate: '2017-12-31' } };
  const got = starts(rec, '2017-09-04T13:00:00', 'America/Los_Angeles', ...ALL);
  assert.equal(got.length, 17);  // Sep 4 .. Dec 25: 4 + 5 + 4 + 4 Mondays
  assert.equal(got[0], '2017-09-04T20:00:00.000Z');   // 13:00 PDT
  assert.equal(got[16], '2017-12-25T21:00:00.000Z');  // 13:00 PST
});

test('weekly × noEnd: several days every other week', () => {
  const rec = { pattern: { type: 'weekly', interval: 2, daysOfWeek: ['monday', 'tuesday', 'thursday'] },
    range: { type: 'noEnd', startDate: '2022-09-19' } };
  assert.deepEqual(starts(rec, '2022-09-19T10:00:00', 'Etc/UTC', '2022-09-01T00:00:00Z', '2022-10-11T00:00:00Z'), [
    '2022-09-19T10:00:00.000Z', '2022-09-20T10:00:00.000Z', '2022-09-22T10:00:00.000Z',
    '2022-10-03T10:00:00.000Z', '2022-10-04T10:00:00.000Z', '2022-10-06T10:00:00.000Z',
  ]);
});

test('weekly: firstDayOfWeek decides which days share a week', () => {
  const rec = (firstDayOfWeek) => ({ pattern: { type: 'weekly', interval: 2, daysOfWeek: ['sunday', 'monday'], firstDayOfWeek },
    range: { type: 'numbered', startDate: '2024-01-07', numberOfOccurrences: 4 } });
  // Sunday 2024-01-07 starts a week Sunday..Saturday: Sun 7, Mon 8, then Sun 21, Mon 22
  assert.deepEqual(starts(rec('sunday'), '2024-01-07T09:00:00', 'Etc/UTC', ...ALL),
    ['2024-01-07T09:00:00.000Z', '2024-01-08T09:00:00.000Z', '2024-01-21T09:00:00.000Z', '2024-01-22T09:00:00.000Z']);
  // and ends a week Monday..Sunday: Sun 7, then the week of Mon 15 (Mon 15, Sun 21), then Mon 29
  assert.deepEqual(starts(rec('monday'), '2024-01-07T09:00:00', 'Etc/UTC', ...ALL),
    ['2024-01-07T09:00:00.000Z', '2024-01-15T09:00:00.000Z', '2024-01-21T09:00:00.000Z', '2024-01-29T09:00:00.000Z']);
});

test('weekly: the interval counts from the week of the first occurrence, not of startDate', () => {
  // startDate Saturday 2024-01-06; the first Monday on or after it is 2024-01-08, then every 2 weeks
  const rec = { pattern: { type: 'weekly', interval: 2, daysOfWeek: ['monday'] }, range: { type: 'numbered', startDate: '2024-01-06', numberOfOccurrences: 3 } };
  assert.deepEqual(starts(rec, '2024-01-06T09:00:00', 'Etc/UTC', ...ALL),
    ['2024-01-08T09:00:00.000Z', '2024-01-22T09:00:00.000Z', '2024-02-05T09:00:00.000Z']);
});

test('absoluteMonthly × noEnd: dayOfMonth 31 falls on the last day of shorter months', () => {
  const rec = { pattern: { type: 'absoluteMonthly', interval: 1, dayOfMonth: 31 }, range: { type: 'noEnd', startDate: '2024-01-31' } };
  assert.deepEqual(starts(rec, '2024-01-31T10:00:00', 'Etc/UTC', '2024-01-01T00:00:00Z', '2024-07-01T00:00:00Z'), [
    '2024-01-31T10:00:00.000Z', '2024-02-29T10:00:00.000Z', '2024-03-31T10:00:00.000Z',
    '2024-04-30T10:00:00.000Z', '2024-05-31T10:00:00.000Z', '2024-06-30T10:00:00.000Z',
  ]);
});

test('absoluteMonthly × numbered: dayOfMonth 30 every 3 months, February clamped', () => {
  // startDate 2023-11-15: the first 30th is Nov 30; then Feb (29th in 2024), May, Aug
  const rec = { pattern: { type: 'absoluteMonthly', interval: 3, dayOfMonth: 30 }, range: { type: 'numbered', startDate: '2023-11-15', numberOfOccurrences: 4 } };
  assert.deepEqual(starts(rec, '2023-11-15T08:00:00', 'Etc/UTC', ...ALL),
    ['2023-11-30T08:00:00.000Z', '2024-02-29T08:00:00.000Z', '2024-05-30T08:00:00.000Z', '2024-08-30T08:00:00.000Z']);
});

test('absoluteMonthly × endDate: every other month on the 19th', () => {
  const rec = { pattern: { type: 'absoluteMonthly', interval: 2, month: 0, dayOfMonth: 19 },
    range: { type: 'endDate', startDate: '2022-09-19', endDate: '2023-02-01', recurrenceTimeZone: 'Pacific Standard Time' } };
  assert.deepEqual(starts(rec, '2022-09-19T12:00:00', 'America/Los_Angeles', ...ALL),
    ['2022-09-19T19:00:00.000Z', '2022-11-19T20:00:00.000Z', '2023-01-19T20:00:00.000Z']);
});

test('relativeMonthly × endDate: index last is the last such weekday, endDate inclusive', () => {
  const rec = { pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['friday'], index: 'last' },
    range: { type: 'endDate', startDate: '2024-01-01', endDate: '2024-05-31' } };
  assert.deepEqual(starts(rec, '2024-01-01T15:00:00', 'Etc/UTC', ...ALL), [
    '2024-01-26T15:00:00.000Z', '2024-02-23T15:00:00.000Z', '2024-03-29T15:00:00.000Z',
    '2024-04-26T15:00:00.000Z', '2024-05-31T15:00:00.000Z',
  ]);
});

test('relativeMonthly × noEnd: the docs example (first Thursday, every other month, from Aug 29) starts in September', () => {
  const rec = { pattern: { type: 'relativeMonthly', interval: 2, daysOfWeek: ['Thursday'], index: 'first' },
    range: { type: 'noEnd', startDate: '2017-08-29' } };
  // 14:00 Pacific: PDT (21:00Z) until November 5th, PST (22:00Z) after
  assert.deepEqual(starts(rec, '2017-08-29T14:00:00', 'America/Los_Angeles', '2017-01-01T00:00:00Z', '2018-04-01T00:00:00Z'),
    ['2017-09-07T21:00:00.000Z', '2017-11-02T21:00:00.000Z', '2018-01-04T22:00:00.000Z', '2018-03-01T22:00:00.000Z']);
  assert.deepEqual(firstOccurrence(rec, { startWallMs: wall('2017-08-29T14:00:00'), zone: 'America/Los_Angeles' }),
    { wallMs: wall('2017-09-07T14:00:00'), startMs: at('2017-09-07T21:00:00Z'), zone: 'America/Los_Angeles' });
});

test('relativeMonthly × numbered: with several days the index counts any of them', () => {
  // the second Thursday-or-Friday: Mar 2024 (Fri 1, Thu 7) → 7; Apr (Thu 4, Fri 5) → 5; May (Thu 2, Fri 3) → 3
  const rec = { pattern: { type: 'relativeMonthly', interval: 1, daysOfWeek: ['thursday', 'friday'], index: 'second' },
    range: { type: 'numbered', startDate: '2024-03-01', numberOfOccurrences: 3 } };
  assert.deepEqual(starts(rec, '2024-03-01T12:00:00', 'Etc/UTC', ...ALL),
    ['2024-03-07T12:00:00.000Z', '2024-04-05T12:00:00.000Z', '2024-05-03T12:00:00.000Z']);
});

test('absoluteYearly × numbered: February 29 falls on February 28 in common years', () => {
  const rec = { pattern: { type: 'absoluteYearly', interval: 1, month: 2, dayOfMonth: 29 }, range: { type: 'numbered', startDate: '2024-02-29', numberOfOccurrences: 5 } };
  assert.deepEqual(starts(rec, '2024-02-29T09:00:00', 'Etc/UTC', ...ALL), [
    '2024-02-29T09:00:00.000Z', '2025-02-28T09:00:00.000Z', '2026-02-28T09:00:00.000Z',
    '2027-02-28T09:00:00.000Z', '2028-02-29T09:00:00.000Z',
  ]);
});

test('absoluteYearly × endDate: a startDate after this year\'s date starts next year; interval 2', () => {
  const rec = { pattern: { type: 'absoluteYearly', interval: 2, month: 4, dayOfMonth: 15 },
    range: { type: 'endDate', startDate: '2024-05-01', endDate: '2029-04-15' } };
  assert.deepEqual(starts(rec, '2024-05-01T09:00:00', 'Etc/UTC', ...ALL),
    ['2025-04-15T09:00:00.000Z', '2027-04-15T09:00:00.000Z', '2029-04-15T09:00:00.000Z']);
});

test('relativeYearly × noEnd: last Wednesday of November', () => {
  const rec = { pattern: { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['wednesday'], index: 'last' },
    range: { type: 'noEnd', startDate: '2024-01-01' } };
  assert.deepEqual(starts(rec, '2024-01-01T18:00:00', 'Etc/UTC', '2024-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
    ['2024-11-27T18:00:00.000Z', '2025-11-26T18:00:00.000Z', '2026-11-25T18:00:00.000Z']);
});

test('relativeYearly × endDate: fourth Thursday of November, endDate inclusive', () => {
  const rec = { pattern: { type: 'relativeYearly', interval: 1, month: 11, daysOfWeek: ['thursday'], index: 'fourth' },
    range: { type: 'endDate', startDate: '2024-11-01', endDate: '2026-11-26' } };
  assert.deepEqual(starts(rec, '2024-11-01T17:00:00', 'Etc/UTC', ...ALL),
    ['2024-11-28T17:00:00.000Z', '2025-11-27T17:00:00.000Z', '2026-11-26T17:00:00.000Z']);
});

test('relativeYearly × numbered: first Monday of January (start on a Thursday in April)', () => {
  const rec = { pattern: { type: 'relativeYearly', interval: 1, month: 1, daysOfWeek: ['monday'], index: 'first' },
    range: { type: 'numbered', startDate: '2016-04-07', recurrenceTimeZone: 'UTC', numberOfOccurrences: 2 } };
  assert.deepEqual(starts(rec, '2016-04-07T12:00:00', 'Etc/UTC', ...ALL), ['2017-01-02T12:00:00.000Z', '2018-01-01T12:00:00.000Z']);
  assert.deepEqual(firstOccurrence(rec, { startWallMs: wall('2016-04-07T12:00:00'), zone: 'Etc/UTC' }),
    { wallMs: wall('2017-01-02T12:00:00'), startMs: at('2017-01-02T12:00:00Z'), zone: 'Etc/UTC' });
});

// ---- expandRecurrence: ranges, windows and zones ---------------------------------------------------

test('numbered counts from the first pattern date on or after startDate, also in a later window', () => {
  // startDate Monday 2024-03-04, Fridays: 8, 15, 22 — and no fourth
  const rec = { pattern: { type: 'weekly', interval: 1, daysOfWeek: ['friday'] }, range: { type: 'numbered', startDate: '2024-03-04', numberOfOccurrences: 3 } };
  assert.deepEqual(starts(rec, '2024-03-04T09:00:00', 'Etc/UTC', ...ALL),
    ['2024-03-08T09:00:00.000Z', '2024-03-15T09:00:00.000Z', '2024-03-22T09:00:00.000Z']);
  assert.deepEqual(starts(rec, '2024-03-04T09:00:00', 'Etc/UTC', '2024-03-16T00:00:00Z', '2024-06-01T00:00:00Z'),
    ['2024-03-22T09:00:00.000Z']);
});

test('window clipping is [from, to) overlap of each occurrence\'s span', () => {
  const rec = daily({ type: 'noEnd', startDate: '2024-01-01' });
  const s = (from, to, durationMs = H) => starts(rec, '2024-01-01T10:00:00', 'Etc/UTC', from, to, { durationMs });
  // Jan 3 10:00–11:00 overlaps a window from 10:30; Jan 5 starting exactly at the end is out
  assert.deepEqual(s('2024-01-03T10:30:00Z', '2024-01-05T10:00:00Z'), ['2024-01-03T10:00:00.000Z', '2024-01-04T10:00:00.000Z']);
  // Jan 3 ending exactly at the window's start is out
  assert.deepEqual(s('2024-01-03T11:00:00Z', '2024-01-05T10:00:01Z'), ['2024-01-04T10:00:00.000Z', '2024-01-05T10:00:00.000Z']);
  // a 3-day span started two days before the window still overlaps it
  assert.deepEqual(s('2024-01-10T00:00:00Z', '2024-01-10T06:00:00Z', 3 * DAY),
    ['2024-01-07T10:00:00.000Z', '2024-01-08T10:00:00.000Z', '2024-01-09T10:00:00.000Z']);
  // nothing before the series starts, nothing for an empty or reversed window
  assert.deepEqual(s('2023-12-01T00:00:00Z', '2024-01-01T10:00:00Z'), []);
  assert.deepEqual(s('2024-01-03T00:00:00Z', '2024-01-03T00:00:00Z'), []);
  assert.deepEqual(s('2024-01-04T00:00:00Z', '2024-01-03T00:00:00Z'), []);
  // a zero-length occurrence counts when it starts inside the window
  assert.deepEqual(s('2024-01-03T10:00:00Z', '2024-01-03T12:00:00Z', 0), ['2024-01-03T10:00:00.000Z']);
});

test('max cuts an expansion off after that many occurrences (default 2000)', () => {
  const rec = daily({ type: 'noEnd', startDate: '2024-01-01' });
  assert.deepEqual(starts(rec, '2024-01-01T06:00:00', 'Etc/UTC', ...ALL, { max: 3 }),
    ['2024-01-01T06:00:00.000Z', '2024-01-02T06:00:00.000Z', '2024-01-03T06:00:00.000Z']);
  const all = starts(rec, '2024-01-01T06:00:00', 'Etc/UTC', ...ALL);
  assert.equal(all.length, 2000);
  assert.equal(all[1999], iso(at('2024-01-01T06:00:00Z') + 1999 * DAY));  // 2029-06-22
  assert.equal(all[1999], '2029-06-22T06:00:00.000Z');
  assert.deepEqual(starts(rec, '2024-01-01T06:00:00', 'Etc/UTC', ...ALL, { max: 0 }), []);
});

test('recurrenceTimeZone decides the wall clock the series keeps', () => {
  // master given in UTC (08:00Z = 09:00 in Berlin in winter); the series lives in Berlin
  const inBerlin = weeklyMonday({ type: 'numbered', startDate: '2024-03-25', numberOfOccurrences: 2, recurrenceTimeZone: 'W. Europe Standard Time' });
  const got = expandRecurrence(inBerlin, { startWallMs: wall('2024-03-25T08:00:00'), durationMs: H, zone: 'Etc/UTC' }, at(ALL[0]), at(ALL[1]));
  assert.deepEqual(got.map((o) => iso(o.startMs)), ['2024-03-25T08:00:00.000Z', '2024-04-01T07:00:00.000Z']);
  assert.deepEqual(got.map((o) => iso(o.wallMs)), ['2024-03-25T09:00:00.000Z', '2024-04-01T09:00:00.000Z']);
  // without it the series stays in the start's zone (UTC): 08:00Z both times
  const inUtc = weeklyMonday({ type: 'numbered', startDate: '2024-03-25', numberOfOccurrences: 2 });
  assert.deepEqual(starts(inUtc, '2024-03-25T08:00:00', 'Etc/UTC', ...ALL), ['2024-03-25T08:00:00.000Z', '2024-04-01T08:00:00.000Z']);
});

test('startDate and endDate are dates in the recurrence zone', () => {
  // 23:30 UTC Sundays are Monday 08:30 in Tokyo: a Monday pattern in Tokyo time
  const rec = weeklyMonday({ type: 'endDate', startDate: '2024-03-04', endDate: '2024-03-11', recurrenceTimeZone: 'Tokyo Standard Time' });
  const got = expandRecurrence(rec, { startWallMs: wall('2024-03-03T23:30:00'), durationMs: H, zone: 'Etc/UTC' }, at(ALL[0]), at(ALL[1]));
  assert.deepEqual(got.map((o) => iso(o.startMs)), ['2024-03-03T23:30:00.000Z', '2024-03-10T23:30:00.000Z']);
  assert.deepEqual(got.map((o) => iso(o.wallMs)), ['2024-03-04T08:30:00.000Z', '2024-03-11T08:30:00.000Z']);
});

test('all-day series run midnight to midnight in the event zone, also across a DST switch', () => {
  const rec = daily({ type: 'numbered', startDate: '2024-03-30', numberOfOccurrences: 3, recurrenceTimeZone: 'Tokyo Standard Time' });
  const got = expandRecurrence(rec, { startWallMs: wall('2024-03-30T00:00:00'), durationMs: DAY, zone: 'Europe/Berlin', isAllDay: true },
    at(ALL[0]), at(ALL[1]));
  assert.deepEqual(got.map((o) => [iso(o.startMs), iso(o.endMs)]), [
    ['2024-03-29T23:00:00.000Z', '2024-03-30T23:00:00.000Z'],
    ['2024-03-30T23:00:00.000Z', '2024-03-31T22:00:00.000Z'],  // the 23-hour day
    ['2024-03-31T22:00:00.000Z', '2024-04-01T22:00:00.000Z'],
  ]);
  assert.deepEqual(got.map((o) => iso(o.wallMs)), ['2024-03-30T00:00:00.000Z', '2024-03-31T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
  // a two-day all-day event every week
  const twoDays = weeklyMonday({ type: 'numbered', startDate: '2024-01-01', numberOfOccurrences: 2 });
  const spans = expandRecurrence(twoDays, { startWallMs: wall('2024-01-01T00:00:00'), durationMs: 2 * DAY, zone: 'America/New_York', isAllDay: true },
    at(ALL[0]), at(ALL[1]));
  assert.deepEqual(spans.map((o) => [iso(o.startMs), iso(o.endMs)]), [
    ['2024-01-01T05:00:00.000Z', '2024-01-03T05:00:00.000Z'],
    ['2024-01-08T05:00:00.000Z', '2024-01-10T05:00:00.000Z'],
  ]);
});

test('a sub-second master start keeps its fraction on every occurrence', () => {
  const rec = daily({ type: 'numbered', startDate: '2024-06-01', numberOfOccurrences: 2 });
  const got = expandRecurrence(rec, { startWallMs: wall('2024-06-01T10:00:00.500'), durationMs: H, zone: 'Etc/UTC' }, at(ALL[0]), at(ALL[1]));
  assert.deepEqual(got.map((o) => iso(o.startMs)), ['2024-06-01T10:00:00.500Z', '2024-06-02T10:00:00.500Z']);
});

test('expandRecurrence refuses an invalid recurrence with the same 400s', () => {
  const master = { startWallMs: wall('2024-01-01T10:00:00'), durationMs: H, zone: 'Etc/UTC' };
  assert.throws(() => expandRecurrence({ pattern: { type: 'weekly', interval: 1 }, range: okRange }, master, 0, 1e13),
    (e) => e instanceof GraphError && e.status === 400 && e.code === 'ErrorInvalidRequest');
  assert.throws(() => expandRecurrence(withRange({ recurrenceTimeZone: 'Atlantis' }), master, 0, 1e13),
    (e) => e instanceof GraphError && e.status === 400 && e.code === 'TimeZoneNotSupportedException');
});
