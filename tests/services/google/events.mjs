// The Calendar API methods the fake implements, as CONTRACT.md §1 states them: events.list (full,
// windowed, incremental with sync tokens, updatedMin, singleEvents, short and empty pages, sparse
// cancelled items), get (304 on If-None-Match), insert (client ids, 409 duplicate), update and patch
// (If-Match 412, immutable fields, sequence), delete (410 when already deleted), instances,
// calendarList.list/get and calendars.get. Every handler gets ctx = {state, options, clock, user,
// params, query, body, header(name)} and returns {status, body} or throws an ApiError.
import { createHash } from 'node:crypto';
import { ApiError, invalid, notFound, required, sampleError, unsupported } from './errors.mjs';
import { doc } from './discovery.mjs';
import { base32hexId } from './state.mjs';
import { expand, instanceId, parseInstanceId, checkRecurrence } from './recurrence.mjs';
import { checkEventDateTime, instantOfEventTime, iso, rfc3339In, zoneOfEventTime } from './time.mjs';
import { seal, unseal } from '../common/seal.mjs';

const ID = /^[a-v0-9]{5,1024}$/;
const DAY = 86400000;
const MAX_PAGE = 2500;
const FORBIDDEN_WITH_SYNC_TOKEN = ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty',
  'timeMin', 'timeMax', 'updatedMin'];
const BOUND_TO_SYNC_TOKEN = ['singleEvents', 'eventTypes', 'showHiddenInvitations'];
// what the server sets and a client's value for is ignored
const SERVER_FIELDS = ['kind', 'etag', 'htmlLink', 'created', 'updated', 'creator', 'organizer', 'iCalUID',
  'hangoutLink', 'privateCopy', 'locked', 'attendeesOmitted'];
const ENUMS = {
  status: ['confirmed', 'tentative', 'cancelled'],
  visibility: ['default', 'public', 'private', 'confidential'],
  transparency: ['opaque', 'transparent'],
  eventType: doc.resources.events.methods.list.parameters.eventTypes.enum,
};

const hashKey = (id) => createHash('sha1').update(id).digest('hex').slice(0, 12);
const pad = (ms) => String(Math.round(ms + 8.64e15)).padStart(17, '0');  // sortable, also before 1970

// ---- reading events ------------------------------------------------------------------------------

function span(resource, calendar) {
  return { startMs: instantOfEventTime(resource.start, calendar.timeZone), endMs: instantOfEventTime(resource.end, calendar.timeZone) };
}

/// An occurrence of `master` as Google shows an instance: the master's fields at the occurrence's
/// time, id "<master>_<stamp>", recurringEventId and originalStartTime, no recurrence.
function instanceOf(master, occurrence, calendar) {
  const { recurrence, ...fields } = master;
  const zone = zoneOfEventTime(master.start, calendar.timeZone);
  const duration = occurrence.endMs - occurrence.startMs;
  const start = master.start.date !== undefined ? { date: occurrence.originalStart.date }
    : { dateTime: rfc3339In(occurrence.startMs, zone), timeZone: zone };
  const end = master.start.date !== undefined
    ? { date: new Date(Date.parse(`${occurrence.originalStart.date}T00:00:00Z`) + Math.round(duration / DAY) * DAY).toISOString().slice(0, 10) }
    : { dateTime: rfc3339In(occurrence.endMs, zone), timeZone: zone };
  return { ...fields, id: instanceId(master.id, occurrence.originalStart, calendar.timeZone), start, end,
    recurringEventId: master.id, originalStartTime: occurrence.originalStart };
}

/// What Google sends for a deleted event: only what identifies it (CONTRACT.md: a cancelled
/// exception carries id, recurringEventId, originalStartTime; any other only id).
function sparse(resource) {
  const out = { kind: 'calendar#event', etag: resource.etag, id: resource.id, status: 'cancelled' };
  if (resource.recurringEventId) {
    out.recurringEventId = resource.recurringEventId;
    out.originalStartTime = resource.originalStartTime;
  }
  return out;
}

const present = (resource) => (resource.status === 'cancelled' ? sparse(resource) : structuredClone(resource));

function exceptionsOf(calendar, masterId) {
  return [...calendar.events.values()].filter((r) => r.resource.recurringEventId === masterId);
}

/// The event `id` names: a stored record, or an occurrence of a live series not yet stored
/// (synthesised). null when there is no such event.
function lookup(calendar, id) {
  const record = calendar.events.get(id);
  if (record) return { resource: record.resource, stored: true };
  const parsed = parseInstanceId(id);
  if (!parsed) return null;
  const master = calendar.events.get(parsed.masterId)?.resource;
  if (!master || master.status === 'cancelled' || !master.recurrence) return null;
  // only around the instant the id names: a long-running series is not expanded from its start
  const m = /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z)?$/.exec(parsed.stamp);
  const at = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  const occurrences = expand(master, calendar.timeZone, at - 2 * DAY, at + 2 * DAY)
    .filter((o) => instanceId(master.id, o.originalStart, calendar.timeZone) === id);
  return occurrences.length ? { resource: instanceOf(master, occurrences[0], calendar), stored: false } : null;
}

function horizon(clock) {
  const now = clock.now();
  return { fromMs: now - 366 * DAY, toMs: now + 2 * 366 * DAY };
}

function overlaps(resource, calendar, fromMs, toMs) {
  if (resource.recurrence) return expand(resource, calendar.timeZone, fromMs, toMs).length > 0;
  const { startMs, endMs } = span(resource, calendar);
  return startMs < toMs && (endMs > fromMs || (endMs === startMs && startMs >= fromMs));
}

function matchesFilters(resource, q) {
  if (q.iCalUID !== undefined && resource.iCalUID !== q.iCalUID) return false;
  if (q.eventTypes && resource.status !== 'cancelled' && !q.eventTypes.includes(resource.eventType ?? 'default')) return false;
  for (const [param, scope] of [['privateExtendedProperty', 'private'], ['sharedExtendedProperty', 'shared']]) {
    for (const pair of q[param] ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw invalid(`Invalid ${param} value: '${pair}'.`, param);
      if (resource.extendedProperties?.[scope]?.[pair.slice(0, eq)] !== pair.slice(eq + 1)) return false;
    }
  }
  return true;
}

// The events one listing round covers, as [{key, item}] before paging.
function candidates(ctx, calendar, q, round) {
  // no timeMin/timeMax: no time filter at all (series without end are expanded up to the horizon)
  const { fromMs, toMs } = { fromMs: q.timeMin ? Date.parse(q.timeMin) : -8.64e15, toMs: q.timeMax ? Date.parse(q.timeMax) : 8.64e15 };
  const windowed = round.since === null;  // an incremental round reports changes wherever they are
  const includeCancelled = round.since !== null || round.updatedMin !== null || q.showDeleted === true;
  const records = [...calendar.events.values()].filter((r) => {
    if (round.since !== null) return r.seq > round.since;
    if (round.updatedMin !== null) return r.updatedMs >= round.updatedMin;
    return true;
  });
  const out = [];
  const push = (resource, startMs, updatedMs) => {
    if (!matchesFilters(resource, q)) return;
    const key = q.orderBy === 'startTime' ? `${pad(startMs)}|${resource.id}`
      : q.orderBy === 'updated' ? `${pad(updatedMs)}|${resource.id}` : `${hashKey(resource.id)}|${resource.id}`;
    out.push({ key, item: present(resource) });
  };
  for (const record of records) {
    const r = record.resource;
    const cancelled = r.status === 'cancelled';
    if (cancelled) {
      const master = r.recurringEventId ? calendar.events.get(r.recurringEventId)?.resource : null;
      // Google's quirk (CONTRACT.md): a cancelled occurrence of a live series is listed even
      // without showDeleted, as long as singleEvents is off
      const quirk = ctx.options.cancelledOccurrencesInFullSync && master && master.status !== 'cancelled' && !q.singleEvents;
      if (!includeCancelled && !quirk) continue;
      if (windowed && master && !overlaps({ ...master, recurrence: undefined, start: r.originalStartTime,
        end: r.originalStartTime }, calendar, fromMs, toMs)) continue;
      push(r, 0, record.updatedMs);
      continue;
    }
    if (q.singleEvents && r.recurrence) {
      const stored = new Set(exceptionsOf(calendar, r.id).map((x) => x.resource.id));
      const h = horizon(ctx.clock);
      const range = windowed ? { fromMs, toMs: Math.min(toMs, h.toMs) } : h;
      for (const occurrence of expand(r, calendar.timeZone, range.fromMs, range.toMs)) {
        const instance = instanceOf(r, occurrence, calendar);
        if (!stored.has(instance.id)) push(instance, occurrence.startMs, record.updatedMs);
      }
      continue;
    }
    if (windowed && !overlaps(r, calendar, fromMs, toMs)) continue;
    push(r, r.recurrence ? 0 : span(r, calendar).startMs, record.updatedMs);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function fingerprint(q, names, scope = '') {
  const picked = Object.fromEntries(Object.entries({ ...q, ...(scope ? { __scope: scope } : {}) }).filter(([k]) => (names ? names.includes(k) : k !== 'pageToken'))
    .sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash('sha256').update(JSON.stringify(picked)).digest('base64url').slice(0, 16);
}

function checkListQuery(ctx, q) {
  if (q.syncToken !== undefined) {
    for (const p of FORBIDDEN_WITH_SYNC_TOKEN) {
      if (q[p] !== undefined) throw invalid(`The syncToken parameter cannot be combined with ${p}.`, p);
    }
    if (q.showDeleted === false) throw invalid('showDeleted cannot be false with a syncToken: deleted events are always included.', 'showDeleted');
  }
  for (const unsupportedParam of ['q', 'timeZone', 'maxAttendees']) {
    if (q[unsupportedParam] !== undefined) throw unsupported(`the ${unsupportedParam} parameter of events.list`);
  }
  if (q.orderBy === 'startTime' && q.singleEvents !== true) {
    throw invalid('The requested ordering is not available for the particular query.', 'orderBy');
  }
  if (q.timeMin && q.timeMax && Date.parse(q.timeMax) <= Date.parse(q.timeMin)) throw sampleError(400, 'timeRangeEmpty');
  if (q.updatedMin !== undefined && Date.parse(q.updatedMin) < ctx.clock.now() - ctx.options.updatedMinHorizonMs) {
    throw sampleError(410, 'updatedMinTooLongAgo');
  }
}

function startRound(ctx, calendar, q) {
  const round = { kind: 'page', cal: calendar.id, q: fingerprint(q), since: null, updatedMin: null,
    roundSeq: calendar.seq, epoch: calendar.tokenEpoch, page: 0, after: '', empties: 0,
    seed: `${ctx.options.seed}:${calendar.id}:${calendar.seq}:${q.syncToken ?? ''}` };  // page sizes repeat run after run
  if (q.syncToken !== undefined) {
    const token = unseal(q.syncToken);
    if (!token || token.kind !== 'sync' || token.cal !== calendar.id) throw invalid('Invalid sync token value.', 'syncToken');
    if (token.epoch !== calendar.tokenEpoch ||
        (ctx.options.syncTokenLifetimeMs !== null && ctx.clock.now() - token.issued > ctx.options.syncTokenLifetimeMs)) {
      throw sampleError(410, 'fullSyncRequired');
    }
    if (ctx.options.syncTokenBoundToQuery && token.bind !== fingerprint(q, BOUND_TO_SYNC_TOKEN)) {
      throw invalid('The sync token was issued for a different query (singleEvents, eventTypes, showHiddenInvitations must stay the same).', 'syncToken');
    }
    round.since = token.seq;
    round.tokenIssued = token.issued;
  } else if (q.updatedMin !== undefined) {
    round.updatedMin = Date.parse(q.updatedMin);
  }
  return round;
}

function pageSize(ctx, round, maxResults) {
  if (!ctx.options.shortPages) return maxResults;
  const n = parseInt(createHash('sha1').update(`${round.seed}:${round.page}`).digest('hex').slice(0, 8), 16) % (maxResults + 1);
  return round.empties >= 2 ? Math.max(1, n) : n;  // empty pages, but never endlessly
}

function eventsEnvelope(ctx, calendar) {
  return { kind: 'calendar#events', etag: calendar.etag, summary: calendar.summary, updated: iso(calendar.updatedMs),
    timeZone: calendar.timeZone, accessRole: ctx.state.roleOf(ctx.user, calendar), defaultReminders: [] };
}

/// Writes need the owner or writer role; a reader gets Google's 403.
function requireWriter(ctx) {
  const role = ctx.state.roleOf(ctx.user, ctx.calendar);
  if (role !== 'owner' && role !== 'writer') {
    throw new ApiError(403, 'requiredAccessLevel', 'You need to have writer access to this calendar.');
  }
}

function page(ctx, calendar, q, list, round, maxResults, syncable) {
  const remaining = list.filter((x) => x.key > round.after);
  const n = pageSize(ctx, round, maxResults);
  const items = remaining.slice(0, n);
  const body = { ...eventsEnvelope(ctx, calendar), items: items.map((x) => x.item) };
  if (remaining.length > n) {
    body.nextPageToken = seal({ ...round, page: round.page + 1, after: items.length ? items.at(-1).key : round.after,
      empties: items.length ? 0 : round.empties + 1 });
  } else if (syncable) {
    body.nextSyncToken = seal({ kind: 'sync', cal: calendar.id, seq: round.roundSeq, epoch: calendar.tokenEpoch,
      issued: ctx.clock.now(), bind: fingerprint(q, BOUND_TO_SYNC_TOKEN) });
  }
  return body;
}

function continuedRound(ctx, calendar, q, scope = '') {
  const round = unseal(q.pageToken);
  if (!round || round.kind !== 'page' || round.cal !== calendar.id) throw invalid('Invalid page token value.', 'pageToken');
  if (round.q !== fingerprint(q, undefined, scope)) throw invalid('The page token was issued for a different query: page with the same parameters.', 'pageToken');
  if (round.since !== null && (round.epoch !== calendar.tokenEpoch || (ctx.options.syncTokenLifetimeMs !== null &&
      ctx.clock.now() - round.tokenIssued > ctx.options.syncTokenLifetimeMs))) {
    throw sampleError(410, 'fullSyncRequired');
  }
  return round;
}

export function list(ctx) {
  const calendar = ctx.calendar;
  const q = ctx.query;
  checkListQuery(ctx, q);
  const round = q.pageToken !== undefined ? continuedRound(ctx, calendar, q) : startRound(ctx, calendar, q);
  const maxResults = Math.min(q.maxResults ?? 250, MAX_PAGE);
  return { status: 200, body: page(ctx, calendar, q, candidates(ctx, calendar, q, round), round, maxResults, true) };
}

export function instances(ctx) {
  const calendar = ctx.calendar;
  const q = ctx.query;
  if (q.timeZone !== undefined || q.maxAttendees !== undefined) throw unsupported('timeZone/maxAttendees of events.instances');
  const master = calendar.events.get(ctx.params.eventId)?.resource;
  if (!master) throw notFound();
  if (master.status === 'cancelled') throw sampleError(410, 'deleted');
  if (!master.recurrence) throw invalid('The event is not a recurring event.', 'eventId');
  if (q.timeMin && q.timeMax && Date.parse(q.timeMax) <= Date.parse(q.timeMin)) throw sampleError(400, 'timeRangeEmpty');
  const fromMs = q.timeMin ? Date.parse(q.timeMin) : -8.64e15;
  const toMs = q.timeMax ? Date.parse(q.timeMax) : horizon(ctx.clock).toMs;
  const stored = new Map(exceptionsOf(calendar, master.id).map((r) => [r.resource.id, r.resource]));
  const out = [];
  // every occurrence (exceptions substituted), then filtered on where it is now: a moved one shows
  // in the window it moved to
  const h = horizon(ctx.clock);
  for (const occurrence of expand(master, calendar.timeZone, -8.64e15, Math.max(toMs, h.toMs))) {
    const instance = stored.get(instanceId(master.id, occurrence.originalStart, calendar.timeZone)) ?? instanceOf(master, occurrence, calendar);
    if (instance.status === 'cancelled' && !q.showDeleted) continue;
    if (q.originalStart !== undefined && q.originalStart !== occurrence.originalStart.date &&
        Date.parse(q.originalStart) !== occurrence.startMs) continue;
    const at = instance.status === 'cancelled' ? { startMs: occurrence.startMs, endMs: occurrence.endMs } : span(instance, calendar);
    if (at.endMs <= fromMs || at.startMs >= toMs) continue;
    out.push({ key: `${pad(at.startMs)}|${instance.id}`, item: present(instance) });
  }
  const scope = `instances:${master.id}`;
  const round = q.pageToken !== undefined ? continuedRound(ctx, calendar, q, scope)
    : { kind: 'page', cal: calendar.id, q: fingerprint(q, undefined, scope), since: null, page: 0, after: '', empties: 0,
      seed: `${ctx.options.seed}:${master.id}:${calendar.seq}` };
  return { status: 200, body: page(ctx, calendar, q, out, round, Math.min(q.maxResults ?? 250, MAX_PAGE), false) };
}

// ---- writing events ------------------------------------------------------------------------------

function checkExtendedProperties(ext) {
  let count = 0;
  for (const scope of ['private', 'shared']) {
    for (const [k, v] of Object.entries(ext?.[scope] ?? {})) {
      count++;
      if (k.length > 44) throw invalid(`Extended property name too long: '${k.slice(0, 50)}'.`, `extendedProperties.${scope}`, 'body');
      if (v.length > 1024) throw invalid(`Extended property value too long for '${k}'.`, `extendedProperties.${scope}`, 'body');
    }
  }
  if (count > 300) throw invalid('Too many extended properties (at most 300).', 'extendedProperties', 'body');
}

function checkReminders(reminders) {
  if (!reminders) return;
  const overrides = reminders.overrides ?? [];
  if (reminders.useDefault && overrides.length) throw invalid('Cannot specify both default reminders and overrides at the same time.', 'reminders', 'body');
  if (overrides.length > 5) throw invalid('Too many reminders (at most 5).', 'reminders.overrides', 'body');
  for (const o of overrides) {
    if (!['email', 'popup'].includes(o.method)) throw invalid('Invalid reminder method.', 'reminders.overrides.method', 'body');
    if (!Number.isInteger(o.minutes) || o.minutes < 0 || o.minutes > 40320) throw invalid('Invalid reminder minutes.', 'reminders.overrides.minutes', 'body');
  }
}

/// The rules of an event body beyond its schema (what Google answers 400 to).
// Calendar status events (CONTRACT.md §1 eventType; Google's guide "Manage focus time, out of office,
// and working location events": "only available on primary calendars, and to some Calendar users"):
// created only on the primary calendar of a Google Workspace user (one with a hosted domain). [U]
// Google's exact refusal is undocumented: 400 invalid, the stricter reading. `birthday` and
// `fromGmail` events are made by Google alone.
const STATUS_EVENT_TYPES = ['outOfOffice', 'focusTime', 'workingLocation'];
function checkStatusEvent(ctx, body, calendar) {
  if (ctx.clientId === null) return;  // the owner in Google's own apps (the control interface), where Google makes such events
  const type = body.eventType ?? 'default';
  if (type === 'birthday' || type === 'fromGmail') throw invalid(`Events of type ${type} cannot be created through the API.`, 'eventType', 'body');
  if (!STATUS_EVENT_TYPES.includes(type)) return;
  const owner = ctx.state.users.get(calendar.owner);
  if (!calendar.primary || calendar.owner !== ctx.user || !owner?.hd) {
    throw invalid(`Events of type ${type} can only be created on the primary calendar of a Google Workspace user.`, 'eventType', 'body');
  }
  if (type === 'outOfOffice' && body.start?.date !== undefined) throw invalid('An out of office event cannot be an all-day event.', 'start', 'body');
}

function checkEvent(resource, calendar) {
  if (!resource.start) throw new ApiError(400, 'required', 'Missing start time.', { location: 'start', locationType: 'body' });
  if (!resource.end) throw new ApiError(400, 'required', 'Missing end time.', { location: 'end', locationType: 'body' });
  checkEventDateTime(resource.start, 'start');
  checkEventDateTime(resource.end, 'end');
  if ((resource.start.date === undefined) !== (resource.end.date === undefined)) {
    throw invalid('Start and end times must either both be date or both be dateTime.', 'end', 'body');
  }
  const { startMs, endMs } = span(resource, calendar);
  if (endMs < startMs || (resource.start.date !== undefined && endMs === startMs)) {
    throw sampleError(400, 'timeRangeEmpty', { location: 'end', locationType: 'body' });
  }
  for (const [field, values] of Object.entries(ENUMS)) {
    if (resource[field] !== undefined && !values.includes(resource[field])) throw invalid(`Invalid ${field} value: '${resource[field]}'.`, field, 'body');
  }
  if (resource.recurrence !== undefined) {
    if (resource.recurringEventId) throw invalid('An instance of a recurring event cannot have a recurrence.', 'recurrence', 'body');
    checkRecurrence(resource.recurrence, resource.start, resource.end);
  }
  for (const a of resource.attendees ?? []) {
    if (!a.email) throw required('attendees.email', 'body');
    if (a.responseStatus !== undefined && !['needsAction', 'declined', 'tentative', 'accepted'].includes(a.responseStatus)) {
      throw invalid(`Invalid attendee responseStatus: '${a.responseStatus}'.`, 'attendees.responseStatus', 'body');
    }
  }
  checkExtendedProperties(resource.extendedProperties);
  checkReminders(resource.reminders);
  if (resource.sequence !== undefined && resource.sequence < 0) throw invalid('Invalid sequence value.', 'sequence', 'body');
}

// Google answers every dateTime with its offset: a local time given with a zone is stored so.
function withOffsets(resource, calendar) {
  for (const field of ['start', 'end']) {
    const t = resource[field];
    if (t?.dateTime !== undefined && !/(Z|[+-]\d{2}:\d{2})$/i.test(t.dateTime)) {
      resource[field] = { ...t, dateTime: rfc3339In(instantOfEventTime(t, calendar.timeZone), t.timeZone) };
    }
  }
  return resource;
}

function clientFields(body) {
  const out = { ...body };
  for (const f of SERVER_FIELDS) delete out[f];
  // attendees' organizer and self are Google's to say
  if (Array.isArray(out.attendees)) out.attendees = out.attendees.map(({ organizer, self, ...a }) => a);
  return out;
}

function checkIfMatch(ctx, resource) {
  const ifMatch = ctx.header('if-match');
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== resource.etag) throw sampleError(412, 'conditionNotMet');
}

export function insert(ctx) {
  requireWriter(ctx);
  const calendar = ctx.calendar;
  const body = clientFields(ctx.body ?? {});
  if (body.id !== undefined) {
    if (!ID.test(body.id)) throw invalid('Invalid resource id value.', 'id', 'body');
    if (calendar.events.has(body.id) || lookup(calendar, body.id)) throw sampleError(409, 'duplicate');
  }
  if (body.recurringEventId !== undefined || body.originalStartTime !== undefined) {
    throw invalid('recurringEventId and originalStartTime are set by the server on instances.', 'recurringEventId', 'body');
  }
  if (body.status === 'cancelled') throw invalid('A new event cannot be cancelled.', 'status', 'body');
  checkStatusEvent(ctx, body, calendar);
  checkEvent(body, calendar);
  const id = body.id ?? base32hexId(26);
  const now = ctx.clock.now();
  const keepUid = ctx.options.insertKeepsICalUID && typeof ctx.body.iCalUID === 'string';
  const resource = {
    kind: 'calendar#event', id, status: 'confirmed', htmlLink: `https://www.google.com/calendar/event?eid=${Buffer.from(`${id} ${calendar.id}`).toString('base64url')}`,
    created: iso(now), creator: { email: ctx.user }, organizer: { email: calendar.id, self: true },
    ...body, iCalUID: keepUid ? ctx.body.iCalUID : `${id}@google.com`, sequence: body.sequence ?? 0,
    eventType: body.eventType ?? 'default', reminders: body.reminders ?? { useDefault: true },
  };
  return { status: 200, body: present(ctx.state.change(calendar, withOffsets(resource, calendar)).resource) };
}

function withoutNulls(value) {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
  }
  return value;
}
export { withoutNulls };

// PATCH semantics: objects merge key by key, arrays and scalars replace, null clears.
function merge(target, patch) {
  const out = { ...target };
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])) out[k] = merge(out[k], v);
    else out[k] = v;
  }
  return out;
}

const timeChanged = (a, b) => JSON.stringify([a.start, a.end, a.recurrence]) !== JSON.stringify([b.start, b.end, b.recurrence]);

function write(ctx, isPatch) {
  requireWriter(ctx);
  const calendar = ctx.calendar;
  const found = lookup(calendar, ctx.params.eventId);
  if (!found) throw notFound();
  const current = found.resource;
  checkIfMatch(ctx, current);
  const body = clientFields(ctx.body ?? {});
  if (body.id !== undefined && body.id !== current.id) throw invalid('The event id cannot be changed.', 'id', 'body');
  for (const f of ['recurringEventId', 'originalStartTime']) {
    if (body[f] !== undefined && JSON.stringify(body[f]) !== JSON.stringify(current[f])) throw invalid(`${f} cannot be changed.`, f, 'body');
  }
  if (body.eventType !== undefined && body.eventType !== (current.eventType ?? 'default')) throw invalid('Event type cannot be changed.', 'eventType', 'body');
  if (body.sequence !== undefined && body.sequence < (current.sequence ?? 0)) {
    throw invalid('Invalid sequence value. The specified sequence number is below the current sequence number of the resource.', 'sequence', 'body');
  }
  const kept = Object.fromEntries(SERVER_FIELDS.filter((f) => current[f] !== undefined).map((f) => [f, current[f]]));
  const next = isPatch ? merge(current, body)
    : { ...kept, id: current.id, status: 'confirmed', eventType: current.eventType ?? 'default',
      ...(current.recurringEventId ? { recurringEventId: current.recurringEventId, originalStartTime: current.originalStartTime } : {}),
      reminders: { useDefault: true }, ...body };
  Object.assign(next, kept);
  checkEvent(next, calendar);
  if (body.sequence === undefined && timeChanged(current, next)) next.sequence = (current.sequence ?? 0) + 1;
  return { status: 200, body: present(ctx.state.change(calendar, withOffsets(next, calendar)).resource) };
}

export const update = (ctx) => write(ctx, false);
export const patch = (ctx) => write(ctx, true);

export function get(ctx) {
  const found = lookup(ctx.calendar, ctx.params.eventId);
  if (!found) throw notFound();
  if (ctx.header('if-none-match') === found.resource.etag) return { status: 304, body: null, etag: found.resource.etag };
  return { status: 200, body: present(found.resource) };
}

export function remove(ctx) {
  requireWriter(ctx);
  const calendar = ctx.calendar;
  const found = lookup(calendar, ctx.params.eventId);
  if (!found) throw notFound();
  const current = found.resource;
  if (current.status === 'cancelled') throw sampleError(410, 'deleted');
  checkIfMatch(ctx, current);
  ctx.state.change(calendar, { ...current, status: 'cancelled' });
  if (current.recurrence) {
    for (const exception of exceptionsOf(calendar, current.id)) {
      if (exception.resource.status !== 'cancelled') ctx.state.change(calendar, { ...exception.resource, status: 'cancelled' });
    }
  }
  return { status: 204, body: null };
}

// ---- calendars -----------------------------------------------------------------------------------

function listEntry(ctx, calendar) {
  const role = ctx.state.roleOf(ctx.user, calendar);
  return { kind: 'calendar#calendarListEntry', etag: calendar.etag, id: calendar.id, summary: calendar.summary,
    timeZone: calendar.timeZone, accessRole: role, defaultReminders: [], selected: true,
    ...(calendar.primary && role === 'owner' ? { primary: true } : {}) };
}

export function calendarListList(ctx) {
  for (const p of ['syncToken', 'pageToken']) if (ctx.query[p] !== undefined) throw unsupported(`${p} of calendarList.list`);
  const items = [...ctx.state.calendars.values()].filter((c) => ctx.state.roleOf(ctx.user, c)).map((c) => listEntry(ctx, c));
  return { status: 200, body: { kind: 'calendar#calendarList', etag: ctx.state.nextEtag(), items } };
}

export const calendarListGet = (ctx) => ({ status: 200, body: listEntry(ctx, ctx.calendar) });

export const calendarsGet = (ctx) => ({ status: 200, body: { kind: 'calendar#calendar', etag: ctx.calendar.etag,
  id: ctx.calendar.id, summary: ctx.calendar.summary, timeZone: ctx.calendar.timeZone } });

export { lookup, sparse };
