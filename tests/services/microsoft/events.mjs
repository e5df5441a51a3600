// Events as Outlook keeps them and Graph shows them (CONTRACT.md §2 "Event entity"):
//   - the stored kinds: singleInstance, seriesMaster (with exceptions and cancelled occurrences);
//     occurrences are computed from the master's patternedRecurrence, never stored;
//   - the Graph representation of each (`@odata.etag` W/"<changeKey>", times in the zone the
//     request's Prefer: outlook.timezone names, UTC otherwise);
//   - the request handlers for events: create (transactionId), get, list (extended-property
//     filter), update (If-Match), delete, instances; and calendars.
// Handlers take a context {state, options, user, mailbox, calendar?, params, query, body, header}
// and return {status, body, headers?}; they throw GraphError.
import { badRequest, GraphError, notFound } from './errors.mjs';
import { checkBody } from './csdl.mjs';
import { checkRecurrence, expandRecurrence, formatGraphDateTime, parseGraphDateTime, resolveZone } from './recurrence.mjs';
import { seal, unseal } from '../common/seal.mjs';
import { instantOf } from '../common/zones.mjs';

const OCCURRENCE_PREFIX = 'AAMkAOcc';
const DAY = 86400000;
const EXTENDED_ID = /^(String|Integer|Boolean|SystemTime|Binary|Guid|Double|Currency|Short|Long|Object|CLSID)(Array)? (\{[0-9A-Fa-f-]{36}\} (Name \S.*|Id 0x[0-9A-Fa-f]{1,4})|0x[0-9A-Fa-f]{1,4})$/;

// ---- ids of occurrences: deterministic, opaque to clients ----

export const occurrenceId = (masterId, originalStartMs) => `${OCCURRENCE_PREFIX}${Buffer.from(`${masterId}|${originalStartMs}`).toString('base64url')}`;

function parseOccurrenceId(id) {
  if (!id.startsWith(OCCURRENCE_PREFIX)) return null;
  const [masterId, at] = Buffer.from(id.slice(OCCURRENCE_PREFIX.length), 'base64url').toString().split('|');
  return masterId && /^\d+$/.test(at ?? '') ? { masterId, originalStartMs: Number(at) } : null;
}

// ---- times ----

/// {startMs, endMs, zone, allDay} of stored fields.
export function spanOf(fields) {
  const s = parseGraphDateTime(fields.start, 'start');
  const e = parseGraphDateTime(fields.end, 'end');
  return { startMs: instantOf(s.wallMs, s.zone), endMs: instantOf(e.wallMs, e.zone), zone: s.zone, startWallMs: s.wallMs, allDay: !!fields.isAllDay };
}

/// The response zone of a request: Prefer: outlook.timezone="..." (Windows or IANA), else UTC.
export function responseZone(header) {
  const prefer = header('prefer') ?? '';
  const m = /outlook\.timezone="([^"]*)"/i.exec(prefer);
  if (!m) return { zone: 'UTC', label: 'UTC' };
  const zone = resolveZone(m[1]);
  if (!zone) throw new GraphError(400, 'TimeZoneNotSupportedException', `A valid TimeZone value must be specified. The following TimeZone value is not supported: '${m[1]}'.`);
  return { zone, label: m[1] };
}

// ---- the items a calendar shows in a window (calendarView) ----

/// Every item of `calendar` overlapping [fromMs, toMs): [{id, version, kind, master?, event, at?}]
/// where kind is singleInstance | occurrence | exception.
export function viewOf(state, calendar, fromMs, toMs) {
  const out = [];
  for (const event of state.events.values()) {
    if (event.calendarId !== calendar.id) continue;
    const span = spanOf(event.fields);
    if (!event.fields.recurrence) {
      if (span.startMs < toMs && (span.endMs > fromMs || (span.endMs === span.startMs && span.startMs >= fromMs))) {
        out.push({ id: event.id, version: event.changeKey, kind: 'singleInstance', event });
      }
      continue;
    }
    // exceptions may have moved anywhere: look at every occurrence that could be one
    const all = expandRecurrence(event.fields.recurrence, { startWallMs: span.startWallMs, durationMs: span.endMs - span.startMs,
      zone: span.zone, isAllDay: span.allDay }, fromMs - 366 * DAY, toMs + 366 * DAY, { max: 5000 });
    for (const occ of all) {
      const at = occ.originalStartMs;
      if (event.cancelled.has(at)) continue;
      const exception = event.exceptions.get(at);
      const id = occurrenceId(event.id, at);
      if (exception) {
        const x = spanOf({ ...event.fields, ...exception.fields });
        if (x.startMs < toMs && x.endMs > fromMs) out.push({ id, version: `${event.changeKey}/${exception.changeKey}`, kind: 'exception', master: event, event, at, exception });
      } else if (occ.startMs < toMs && occ.endMs > fromMs) {
        out.push({ id, version: event.changeKey, kind: 'occurrence', master: event, event, at, startMs: occ.startMs, endMs: occ.endMs });
      }
    }
  }
  return out;
}


// ---- representation ----

function timeOf(ms, allDay, zone, label, fieldZoneLabel) {
  // all-day events keep their midnight wall times in their own zone
  return allDay ? formatGraphDateTime(ms, fieldZoneLabel.zone, fieldZoneLabel.label) : formatGraphDateTime(ms, zone, label);
}

/// The Graph JSON of a view item or stored event. `rz` is the response zone; `expand` the
/// extended-property ids to include.
export function represent(state, item, rz, expand = null) {
  const event = item.event;
  const fields = item.exception ? { ...event.fields, ...item.exception.fields } : event.fields;
  const span = spanOf(fields);
  let startMs = span.startMs;
  let endMs = span.endMs;
  if (item.kind === 'occurrence') ({ startMs, endMs } = item);
  const owner = state.user(state.calendars.get(event.calendarId).owner);
  const changeKey = item.exception?.changeKey ?? event.changeKey;
  const lastModifiedMs = Math.max(event.lastModifiedMs, item.exception?.lastModifiedMs ?? 0);
  const startZone = { zone: span.zone, label: fields.start.timeZone };
  const endZone = { zone: parseGraphDateTime(fields.end, 'end').zone, label: fields.end.timeZone };
  const out = {
    '@odata.type': '#microsoft.graph.event',
    '@odata.etag': `W/"${changeKey}"`,
    id: item.id,
    createdDateTime: new Date(event.createdMs).toISOString(),
    lastModifiedDateTime: new Date(lastModifiedMs).toISOString(),
    changeKey,
    categories: fields.categories ?? [],
    transactionId: item.kind === 'singleInstance' || item.kind === 'seriesMaster' ? event.transactionId : null,
    originalStartTimeZone: fields.start.timeZone,
    originalEndTimeZone: fields.end.timeZone,
    iCalUId: event.iCalUId,
    reminderMinutesBeforeStart: fields.reminderMinutesBeforeStart ?? 15,
    isReminderOn: fields.isReminderOn ?? true,
    hasAttachments: false,
    subject: fields.subject ?? '',
    bodyPreview: (fields.body?.content ?? '').replace(/<[^>]*>/g, '').slice(0, 255),
    importance: fields.importance ?? 'normal',
    sensitivity: fields.sensitivity ?? 'normal',
    isAllDay: !!fields.isAllDay,
    isCancelled: false,
    isOrganizer: true,
    responseRequested: fields.responseRequested ?? true,
    seriesMasterId: item.master ? item.master.id : null,
    showAs: fields.showAs ?? 'busy',
    type: item.kind,
    webLink: `https://outlook.office365.com/owa/?itemid=${encodeURIComponent(item.id)}&exvsurl=1&path=/calendar/item`,
    onlineMeetingUrl: null,
    isOnlineMeeting: false,
    onlineMeetingProvider: 'unknown',
    allowNewTimeProposals: fields.allowNewTimeProposals ?? true,
    isDraft: false,
    hideAttendees: false,
    responseStatus: { response: 'organizer', time: '0001-01-01T00:00:00Z' },
    body: fields.body ?? { contentType: 'html', content: '' },
    start: timeOf(startMs, span.allDay, rz.zone, rz.label, startZone),
    end: timeOf(endMs, span.allDay, rz.zone, rz.label, endZone),
    location: fields.location ?? { displayName: '', locationType: 'default', uniqueIdType: 'unknown', address: {}, coordinates: {} },
    locations: fields.locations ?? [],
    recurrence: item.kind === 'seriesMaster' ? fields.recurrence : null,
    attendees: fields.attendees ?? [],
    organizer: { emailAddress: { name: owner.name, address: owner.email } },
  };
  if (item.kind === 'occurrence' || item.kind === 'exception') out.originalStart = new Date(item.at).toISOString().replace('.000Z', 'Z');
  if (item.kind === 'seriesMaster') out.cancelledOccurrences = [...event.cancelled].map((at) => `OID.${event.id}.${new Date(at).toISOString().slice(0, 10)}`);
  if (expand) {
    out.singleValueExtendedProperties = [...event.extended.entries()].filter(([id]) => expand.includes(id.toLowerCase()))
      .map(([id, value]) => ({ id, value }));
  }
  return out;
}

/// The stored event (or occurrence view item) behind `id` in `user`'s mailbox, or null.
export function lookup(state, user, id) {
  const item = lookupAny(state, id);
  return item && state.accessOf(user, state.calendars.get(item.event.calendarId)) ? item : null;
}

/// The item behind `id` in any mailbox (the control interface acts as the owner).
export function lookupAny(state, id) {
  const occ = parseOccurrenceId(id);
  if (occ) {
    const master = state.events.get(occ.masterId);
    if (!master) return null;
    if (!master.fields.recurrence || master.cancelled.has(occ.originalStartMs)) return null;
    const span = spanOf(master.fields);
    // an id naming a time far from the series is not one of its occurrences (and is not expanded)
    if (occ.originalStartMs < span.startMs - 2 * DAY || occ.originalStartMs > span.startMs + 200 * 366 * DAY) return null;
    const hits = expandRecurrence(master.fields.recurrence, { startWallMs: span.startWallMs, durationMs: span.endMs - span.startMs,
      zone: span.zone, isAllDay: span.allDay }, occ.originalStartMs, occ.originalStartMs + 1, { max: 5 });
    const hit = hits.find((h) => h.originalStartMs === occ.originalStartMs);
    if (!hit) return null;
    const exception = master.exceptions.get(occ.originalStartMs);
    return exception
      ? { id, version: `${master.changeKey}/${exception.changeKey}`, kind: 'exception', master, event: master, at: hit.originalStartMs, exception }
      : { id, version: master.changeKey, kind: 'occurrence', master, event: master, at: hit.originalStartMs, startMs: hit.startMs, endMs: hit.endMs };
  }
  const event = state.events.get(id);
  if (!event) return null;
  return { id, version: event.changeKey, kind: event.fields.recurrence ? 'seriesMaster' : 'singleInstance', event };
}

// ---- request checks ----

function checkTimes(fields) {
  if (!fields.start || !fields.end) throw badRequest('An event needs start and end.', 'ErrorInvalidRequest');
  const s = parseGraphDateTime(fields.start, 'start');
  const e = parseGraphDateTime(fields.end, 'end');
  const startMs = instantOf(s.wallMs, s.zone);
  const endMs = instantOf(e.wallMs, e.zone);
  if (endMs < startMs) throw new GraphError(400, 'ErrorInvalidRequest', 'The end of the event must not be before its start.');
  if (fields.isAllDay) {
    const midnight = (w) => w % DAY === 0;
    if (!midnight(s.wallMs) || !midnight(e.wallMs) || e.wallMs <= s.wallMs || s.zone !== e.zone) {
      throw new GraphError(400, 'ErrorPropertyValidationFailure', 'An all-day event must start and end at midnight in the same time zone and last whole days.');
    }
  }
  // stored as Graph writes it back (normalized; range.startDate must be the start's date)
  if (fields.recurrence) fields.recurrence = checkRecurrence(fields.recurrence, fields.start, !!fields.isAllDay);
}

function checkExtended(list) {
  if (list === undefined) return new Map();
  const out = new Map();
  for (const p of list) {
    if (typeof p?.id !== 'string' || !EXTENDED_ID.test(p.id)) throw badRequest(`The extended property id '${p?.id}' is not valid.`, 'ErrorInvalidExtendedPropertyValue');
    if (typeof p.value !== 'string') throw badRequest('An extended property value must be a string.', 'ErrorInvalidExtendedPropertyValue');
    out.set(p.id, p.value);
  }
  return out;
}

/// Extended-property ids named by $expand=singleValueExtendedProperties($filter=id eq '...') (lower
/// case), null when not expanded; 400 for any other $expand.
function expandOf(query) {
  const raw = query.$expand;
  if (raw === undefined) return null;
  const m = /^singleValueExtendedProperties\(\$filter=(.*)\)$/i.exec(raw);
  if (!m) throw badRequest(`The fake supports only $expand=singleValueExtendedProperties($filter=id eq '...'), not '${raw}'.`);
  const ids = [...m[1].matchAll(/id eq '((?:[^']|'')*)'/gi)].map((x) => x[1].replaceAll("''", "'").toLowerCase());
  if (!ids.length || m[1].replace(/id eq '((?:[^']|'')*)'/gi, '').replace(/\s+or\s+/gi, '').trim() !== '') {
    throw badRequest(`Invalid filter clause in $expand: '${m[1]}'.`, 'BadRequest');
  }
  return ids;
}

function writable(ctx, calendar) {
  const access = ctx.state.accessOf(ctx.user, calendar);
  if (access !== 'owner' && access !== 'write') throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
}

function ifMatch(ctx, item) {
  const wanted = ctx.header('if-match');
  if (wanted === undefined || wanted === '*') return;
  const current = `W/"${item.exception?.changeKey ?? item.event.changeKey}"`;
  if (wanted !== current && wanted !== current.slice(2)) {
    // CONTRACT.md §2: 412 with resourceModified (Graph's generic code for an ETag mismatch)
    throw new GraphError(412, 'resourceModified', 'The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.');
  }
}

// ---- handlers ----

export function createEvent(ctx) {
  const { state, options, body } = ctx;
  const calendar = ctx.calendar;
  writable(ctx, calendar);
  checkBody('event', body);
  const { singleValueExtendedProperties, multiValueExtendedProperties, transactionId, ...fields } = body;
  if (multiValueExtendedProperties !== undefined) throw badRequest('The fake does not store multi-value extended properties.');
  checkTimes(fields);
  const extended = checkExtended(singleValueExtendedProperties);
  if (transactionId !== undefined && transactionId !== null) {
    // a retried create with the same transactionId answers the event the first one made [U: window]
    for (const e of state.events.values()) {
      if (e.transactionId === transactionId && state.calendars.get(e.calendarId).owner === calendar.owner &&
          state.clock.now() - e.createdMs <= options.transactionIdWindowMs) {
        return { status: 201, body: represent(state, { id: e.id, kind: e.fields.recurrence ? 'seriesMaster' : 'singleInstance', event: e }, responseZone(ctx.header)) };
      }
    }
  }
  const event = state.newStoredEvent(calendar, fields);
  event.extended = extended;
  event.transactionId = transactionId ?? null;
  state.change(event, 'created');
  const item = { id: event.id, kind: fields.recurrence ? 'seriesMaster' : 'singleInstance', event };
  return { status: 201, body: represent(state, item, responseZone(ctx.header), extended.size ? [...extended.keys()].map((k) => k.toLowerCase()) : null) };
}

export function getEvent(ctx) {
  const item = lookup(ctx.state, ctx.user, ctx.params.eventId);
  if (!item) throw notFound();
  return { status: 200, body: select(represent(ctx.state, item, responseZone(ctx.header), expandOf(ctx.query)), ctx.query) };
}

function select(obj, query) {
  if (query.$select === undefined) return obj;
  const keep = new Set(query.$select.split(',').map((s) => s.trim()).filter(Boolean));
  if (!keep.size) throw badRequest('$select is empty.');
  const out = {};
  for (const [k, v] of Object.entries(obj)) if (k.startsWith('@odata.') || k === 'id' || keep.has(k) || k === 'singleValueExtendedProperties') out[k] = v;
  return out;
}

const FILTER_EXTENDED = /^singleValueExtendedProperties\/Any\((\w+):\s*\1\/id eq '((?:[^']|'')*)' and \1\/value eq '((?:[^']|'')*)'\)$/i;

/// GET .../events: single instances and series masters (not occurrences), paged by $top with a
/// sealed @odata.nextLink; $filter only by one extended property (the way to find a copy).
export function listEvents(ctx) {
  const { state, query } = ctx;
  const calendar = ctx.calendar;
  let position = 0;
  let filter = null;
  let top = 10;
  let expand = null;
  if (query.$skiptoken !== undefined) {
    const t = unseal(query.$skiptoken);
    if (!t || t.kind !== 'events' || t.calendarId !== calendar.id || Object.keys(query).length !== 1) throw badRequest('The $skiptoken is not valid.', 'ErrorInvalidUrlQuery');
    ({ position, filter, top, expand } = t);  // a next link keeps the query's $expand, as Graph's do
  } else {
    for (const k of Object.keys(query)) {
      if (!['$filter', '$top', '$expand', '$select'].includes(k)) throw badRequest(`The query parameter '${k}' is not supported here.`, 'ErrorInvalidUrlQuery');
    }
    if (query.$top !== undefined) {
      top = Number(query.$top);
      if (!Number.isInteger(top) || top < 1 || top > 1000) throw badRequest('$top must be 1..1000.', 'ErrorInvalidUrlQuery');
    }
    if (query.$filter !== undefined) {
      const m = FILTER_EXTENDED.exec(query.$filter.trim());
      if (!m) throw badRequest(`The fake supports only $filter=singleValueExtendedProperties/Any(ep: ep/id eq '...' and ep/value eq '...'), not '${query.$filter}'.`, 'ErrorInvalidUrlQuery');
      filter = { id: m[2].replaceAll("''", "'").toLowerCase(), value: m[3].replaceAll("''", "'") };
    }
    expand = expandOf(query);
  }
  const all = [...state.events.values()].filter((e) => e.calendarId === calendar.id)
    .filter((e) => !filter || [...e.extended].some(([id, v]) => id.toLowerCase() === filter.id && v === filter.value))
    .sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : 1));
  const page = all.slice(position, position + top);
  const rz = responseZone(ctx.header);
  const body = { '@odata.context': `${ctx.base}$metadata#users('${encodeURIComponent(ctx.user)}')/calendars('${calendar.id}')/events`,
    value: page.map((e) => select(represent(state, { id: e.id, kind: e.fields.recurrence ? 'seriesMaster' : 'singleInstance', event: e }, rz, expand), query)) };
  if (position + top < all.length) {
    body['@odata.nextLink'] = `${ctx.requestBase}?$skiptoken=${seal({ kind: 'events', calendarId: calendar.id, position: position + top, filter, top, expand })}`;
  }
  return { status: 200, body };
}

/// PATCH: a single instance or master changes; an occurrence becomes an exception. transactionId
/// is immutable; a changed recurrence drops the series' exceptions and cancellations (Outlook does).
export function updateEvent(ctx) {
  const { state, body } = ctx;
  const item = lookup(state, ctx.user, ctx.params.eventId);
  if (!item) throw notFound();
  writable(ctx, state.calendars.get(item.event.calendarId));
  checkBody('event', body);
  ifMatch(ctx, item);
  const { singleValueExtendedProperties, multiValueExtendedProperties, transactionId, ...changes } = body;
  if (transactionId !== undefined && transactionId !== item.event.transactionId) throw badRequest('The transactionId of an event cannot change.', 'ErrorInvalidPropertyUpdate');
  if (multiValueExtendedProperties !== undefined) throw badRequest('The fake does not store multi-value extended properties.');
  const extended = checkExtended(singleValueExtendedProperties);
  if (item.kind === 'occurrence' || item.kind === 'exception') {
    if (changes.recurrence !== undefined) throw badRequest('An occurrence cannot have a recurrence.', 'ErrorPropertyValidationFailure');
    const master = item.master;
    const previous = item.exception?.fields ?? {};
    const exceptionFields = { ...previous, ...withoutNulls(changes) };
    if (!exceptionFields.start) exceptionFields.start = formatGraphDateTime(item.startMs, spanOf(master.fields).zone, master.fields.start.timeZone);
    if (!exceptionFields.end) exceptionFields.end = formatGraphDateTime(item.endMs, parseGraphDateTime(master.fields.end, 'end').zone, master.fields.end.timeZone);
    checkTimes({ ...master.fields, ...exceptionFields, recurrence: undefined });
    const exception = { fields: exceptionFields, changeKey: null, lastModifiedMs: 0 };
    master.exceptions.set(item.at, exception);
    for (const [k, v] of extended) master.extended.set(k, v);
    state.change(master, 'updated');
    exception.changeKey = master.changeKey;
    exception.lastModifiedMs = master.lastModifiedMs;
    return { status: 200, body: represent(state, { ...item, kind: 'exception', exception, version: `${master.changeKey}/${exception.changeKey}` }, responseZone(ctx.header)) };
  }
  const event = item.event;
  const next = withoutNulls({ ...event.fields, ...changes });
  if (item.kind === 'singleInstance' && changes.recurrence === undefined) delete next.recurrence;
  checkTimes(next);
  if (JSON.stringify(next.recurrence ?? null) !== JSON.stringify(event.fields.recurrence ?? null)) {
    event.exceptions.clear();
    event.cancelled.clear();
  }
  event.fields = next;
  for (const [k, v] of extended) event.extended.set(k, v);
  state.change(event, 'updated');
  return { status: 200, body: represent(state, { id: event.id, kind: next.recurrence ? 'seriesMaster' : 'singleInstance', event }, responseZone(ctx.header)) };
}

const withoutNulls = (o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null));

/// DELETE: a single instance or a whole series goes; an occurrence or exception is cancelled.
export function deleteEvent(ctx) {
  const { state } = ctx;
  const item = lookup(state, ctx.user, ctx.params.eventId);
  if (!item) throw notFound();
  writable(ctx, state.calendars.get(item.event.calendarId));
  ifMatch(ctx, item);
  if (item.kind === 'occurrence' || item.kind === 'exception') {
    item.master.exceptions.delete(item.at);
    item.master.cancelled.add(item.at);
    state.change(item.master, 'updated');
  } else {
    state.change(item.event, 'deleted');
  }
  return { status: 204, body: null };
}

/// Parses the window of calendarView / instances: startDateTime and endDateTime, required,
/// ISO 8601 with an offset (strict: Graph also reads a bare local time as UTC).
/// Whether "yyyy-mm-dd" is a day of the calendar (Date.parse rolls 2026-02-30 over to March).
export function realDate(text) {
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 10) === text;
}

export function windowOf(query) {
  const parse = (name) => {
    const v = query[name];
    if (v === undefined) throw badRequest(`This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.`, 'ErrorInvalidParameter');
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$/.test(v) || !realDate(v.slice(0, 10))) {
      throw badRequest(`The value '${v}' of ${name} is not a valid date and time with an offset.`, 'ErrorInvalidParameter');
    }
    const year = Number(v.slice(0, 4));
    // [U] Graph's limits are not documented; the fake keeps windows to years a calendar has
    if (year < 1900 || year > 2200) throw badRequest(`${name} must lie between the years 1900 and 2200.`, 'ErrorInvalidParameter');
    return Date.parse(v);
  };
  const fromMs = parse('startDateTime');
  const toMs = parse('endDateTime');
  if (toMs <= fromMs) throw badRequest('endDateTime must be after startDateTime.', 'ErrorInvalidParameter');
  return { fromMs, toMs };
}

/// GET .../events/{id}/instances?startDateTime&endDateTime: the occurrences and exceptions of a
/// series in the window.
export function instances(ctx) {
  const { state, query } = ctx;
  const item = lookup(state, ctx.user, ctx.params.eventId);
  if (!item) throw notFound();
  for (const k of Object.keys(query)) if (!['startDateTime', 'endDateTime', '$select', '$top'].includes(k)) throw badRequest(`The query parameter '${k}' is not supported here.`, 'ErrorInvalidUrlQuery');
  const { fromMs, toMs } = windowOf(query);
  if (item.kind !== 'seriesMaster') return { status: 200, body: { '@odata.context': `${ctx.base}$metadata#Collection(event)`, value: [] } };
  const calendar = state.calendars.get(item.event.calendarId);
  const rz = responseZone(ctx.header);
  const value = viewOf(state, calendar, fromMs, toMs).filter((v) => v.master?.id === item.event.id)
    .sort((a, b) => a.at - b.at).map((v) => select(represent(state, v, rz), query));
  return { status: 200, body: { '@odata.context': `${ctx.base}$metadata#Collection(event)`, value } };
}

// ---- calendars ----

export function representCalendar(state, user, calendar) {
  const owner = state.user(calendar.owner);
  const access = state.accessOf(user, calendar);
  return { '@odata.etag': `W/"${calendar.changeKey}"`, id: calendar.id, name: calendar.name, color: calendar.color, hexColor: '',
    isDefaultCalendar: calendar.isDefault && access === 'owner', changeKey: calendar.changeKey, canShare: access === 'owner',
    canViewPrivateItems: access === 'owner', canEdit: access === 'owner' || access === 'write', isRemovable: !calendar.isDefault,
    isTallyingResponses: access === 'owner', allowedOnlineMeetingProviders: ['teamsForBusiness'], defaultOnlineMeetingProvider: 'teamsForBusiness',
    owner: { name: owner.name, address: owner.email } };
}

export function listCalendars(ctx) {
  for (const k of Object.keys(ctx.query)) if (!['$select', '$top'].includes(k)) throw badRequest(`The query parameter '${k}' is not supported here.`, 'ErrorInvalidUrlQuery');
  const value = ctx.state.calendarsOf(ctx.user).map((c) => select(representCalendar(ctx.state, ctx.user, c), ctx.query));
  return { status: 200, body: { '@odata.context': `${ctx.base}$metadata#users('${encodeURIComponent(ctx.user)}')/calendars`, value } };
}

export function getCalendar(ctx) {
  return { status: 200, body: select(representCalendar(ctx.state, ctx.user, ctx.calendar), ctx.query) };
}
