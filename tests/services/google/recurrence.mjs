// Recurring events as Google stores them: a master with `recurrence` lines (RRULE/EXRULE/RDATE/
// EXDATE, no DTSTART), expanded in the wall time of the master's start zone (so a weekly 09:00
// stays 09:00 across daylight saving). The `rrule` package (npm) does the rule arithmetic on
// UTC-shaped wall times; this file converts to and from instants.
import rrule from 'rrule';
import { invalid } from './errors.mjs';
import { dateWall, instantOf, instantOfEventTime, rfc3339In, wallOf, zoneOfEventTime, zoneValid } from './time.mjs';

const { RRule, RRuleSet } = rrule;
const LINE = /^(RRULE|EXRULE|RDATE|EXDATE)([;:])(.*)$/;
const MAX_INSTANCES = 2000;  // per expansion; a rule without end is cut off there

// A DATE or DATE-TIME value list of RDATE/EXDATE, as wall ms in `zone`.
function dateValues(params, values, zone) {
  const tzid = /(?:^|;)TZID=([^;:]+)/.exec(params)?.[1];
  return values.split(',').map((v) => {
    const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?$/.exec(v);
    if (!m) throw invalid(`Invalid recurrence date '${v}'.`, 'recurrence', 'body');
    if (tzid && !zoneValid(tzid)) throw invalid(`Unknown time zone '${tzid}' in a recurrence date.`, 'recurrence', 'body');
    const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
    if (new Date(wall).getUTCDate() !== +m[3]) throw invalid(`Invalid recurrence date '${v}'.`, 'recurrence', 'body');
    if (m[7] === 'Z') return wallOf(wall, zone);
    if (tzid && tzid !== zone) return wallOf(instantOf(wall, tzid), zone);
    return wall;
  });
}

const RULE_PARTS = {
  FREQ: /^(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)$/,
  UNTIL: /^\d{8}(T\d{6}Z?)?$/,
  COUNT: /^[1-9]\d*$/,
  INTERVAL: /^[1-9]\d*$/,
  BYSECOND: /^\d{1,2}(,\d{1,2})*$/,
  BYMINUTE: /^\d{1,2}(,\d{1,2})*$/,
  BYHOUR: /^\d{1,2}(,\d{1,2})*$/,
  BYDAY: /^([+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU))(,[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU))*$/,
  BYMONTHDAY: /^[+-]?\d{1,2}(,[+-]?\d{1,2})*$/,
  BYYEARDAY: /^[+-]?\d{1,3}(,[+-]?\d{1,3})*$/,
  BYWEEKNO: /^[+-]?\d{1,2}(,[+-]?\d{1,2})*$/,
  BYMONTH: /^\d{1,2}(,\d{1,2})*$/,
  BYSETPOS: /^[+-]?\d{1,3}(,[+-]?\d{1,3})*$/,
  WKST: /^(MO|TU|WE|TH|FR|SA|SU)$/,
};

// RFC 5545 §3.3.10 grammar of a rule (the rrule package parses leniently, so it is checked here).
function ruleValid(text) {
  const seen = new Set();
  for (const part of text.split(';')) {
    const [key, value, ...rest] = part.split('=');
    if (rest.length || !RULE_PARTS[key] || !RULE_PARTS[key].test(value ?? '') || seen.has(key)) return false;
    seen.add(key);
  }
  return seen.has('FREQ') && !(seen.has('COUNT') && seen.has('UNTIL'));
}

/// Checks `recurrence` lines of a request (400 on anything Google would refuse).
export function checkRecurrence(lines, start, end) {
  if (lines === undefined) return;
  if (!Array.isArray(lines) || lines.length === 0) throw invalid('Invalid recurrence rule.', 'recurrence', 'body');
  for (const [t, field] of [[start, 'start'], [end, 'end']]) {
    if (t && t.dateTime !== undefined && t.timeZone === undefined) {
      throw invalid(`Missing time zone definition for ${field} time.`, `${field}.timeZone`, 'body', 'required');
    }
  }
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) throw invalid(`Invalid recurrence rule: '${line}'.`, 'recurrence', 'body');
    if (m[1].endsWith('RULE')) {
      if (m[2] !== ':' || /DTSTART/i.test(m[3])) throw invalid(`Invalid recurrence rule: '${line}'.`, 'recurrence', 'body');
      if (!ruleValid(m[3])) throw invalid(`Invalid recurrence rule: '${line}'.`, 'recurrence', 'body');
    } else {
      const colon = line.indexOf(':');
      if (colon < 0) throw invalid(`Invalid recurrence date: '${line}'.`, 'recurrence', 'body');
      dateValues(line.slice(0, colon), line.slice(colon + 1), 'UTC');
    }
  }
}

function ruleFor(text, dtstart, zone) {
  const options = RRule.parseString(text);
  // an UNTIL in UTC ("...Z") becomes the wall time it names; a DATE (all-day) or floating UNTIL is
  // already one
  if (options.until && /UNTIL=\d{8}T\d{6}Z/i.test(text)) options.until = new Date(wallOf(options.until.getTime(), zone));
  return new RRule({ ...options, dtstart });
}

/// The occurrences of `master` whose span overlaps [fromMs, toMs): [{originalStart, startMs, endMs}]
/// with originalStart an EventDateTime as Google writes it on instances.
export function expand(master, calendarZone, fromMs, toMs) {
  const allDay = master.start.date !== undefined;
  const zone = allDay ? calendarZone : zoneOfEventTime(master.start, calendarZone);
  const startMs = instantOfEventTime(master.start, calendarZone);
  const durationMs = instantOfEventTime(master.end, calendarZone) - startMs;
  const dtstart = new Date(allDay ? dateWall(master.start.date) : wallOf(startMs, zone));
  const set = new RRuleSet();
  set.rdate(dtstart);
  for (const line of master.recurrence ?? []) {
    const m = LINE.exec(line);
    if (!m) continue;
    if (m[1] === 'RRULE') set.rrule(ruleFor(m[3], dtstart, zone));
    else if (m[1] === 'EXRULE') set.exrule(ruleFor(m[3], dtstart, zone));
    else {
      const colon = line.indexOf(':');
      for (const w of dateValues(line.slice(0, colon), line.slice(colon + 1), zone)) {
        if (m[1] === 'RDATE') set.rdate(new Date(w)); else set.exdate(new Date(w));
      }
    }
  }
  const day = 86400000;
  // wall times differ from instants by less than a day: widen the search by two, filter exactly
  const fromWall = new Date(Math.max(dtstart.getTime(), fromMs - durationMs - 2 * day));
  const toWall = new Date(Math.min(toMs, 8.64e15 - 2 * day) + 2 * day);
  const out = [];
  set.between(fromWall, toWall, true, (d, i) => i < MAX_INSTANCES).forEach((d) => {
    const wall = d.getTime();
    const s = instantOf(wall, zone);
    const e = s + durationMs;
    if (e <= fromMs || s >= toMs) return;
    const originalStart = allDay
      ? { date: new Date(wall).toISOString().slice(0, 10) }
      : { dateTime: rfc3339In(s, zone), timeZone: zone };
    out.push({ originalStart, startMs: s, endMs: e, wallMs: wall });
  });
  return out;
}

/// Google's instance id: "<masterId>_<YYYYMMDDTHHMMSSZ>" (UTC) or "<masterId>_<YYYYMMDD>" all day.
export function instanceId(masterId, originalStart, calendarZone) {
  if (originalStart.date !== undefined) return `${masterId}_${originalStart.date.replaceAll('-', '')}`;
  const ms = instantOfEventTime(originalStart, calendarZone);
  return `${masterId}_${new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')}`;
}

/// Splits an instance id into master id and stamp; null when `id` is not one.
export function parseInstanceId(id) {
  const m = /^([a-v0-9]+)_(\d{8}(?:T\d{6}Z)?)$/.exec(id);
  return m ? { masterId: m[1], stamp: m[2] } : null;
}
