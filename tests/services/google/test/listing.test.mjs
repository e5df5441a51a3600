// events.list as CONTRACT.md §1 states it, one rule per test: forbidden parameter combinations,
// short and empty pages with nextPageToken, nextSyncToken only on the last page, page tokens bound
// to their query, incremental rounds with sparse cancelled items, 410 on expired tokens, 400 on
// forged ones, windows (timeMin on end, timeMax on start), singleEvents and the cancelled-occurrence
// quirk, updatedMin, instances.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCOPES, USER, api, events, listAll, reason, startFake, stopFake, timedEvent } from './helpers.mjs';

const HOUR = 3600000;
const iso = (ms) => new Date(ms).toISOString();

async function withFake(options, body) {
  const { fake, token } = await startFake(options);
  try { await body(fake, token); } finally { await stopFake(fake); }
}

for (const param of ['iCalUID', 'orderBy', 'privateExtendedProperty', 'q', 'sharedExtendedProperty', 'timeMin', 'timeMax', 'updatedMin']) {
  test(`syncToken with ${param} is 400`, () => withFake({}, async (fake, token) => {
    const { syncToken } = await listAll(fake, token);
    const value = { iCalUID: 'x@google.com', orderBy: 'updated', privateExtendedProperty: 'a=b', q: 'x', sharedExtendedProperty: 'a=b',
      timeMin: iso(fake.clock.now()), timeMax: iso(fake.clock.now()), updatedMin: iso(fake.clock.now()) }[param];
    const r = await api(fake, token, 'GET', events(), { query: { syncToken, [param]: value } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.errors[0].location, param);
  }));
}

test('syncToken with showDeleted=false is 400', () => withFake({}, async (fake, token) => {
  const { syncToken } = await listAll(fake, token);
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken, showDeleted: false } })).status, 400);
}));

test('orderBy=startTime needs singleEvents=true', () => withFake({}, async (fake, token) => {
  assert.equal((await api(fake, token, 'GET', events(), { query: { orderBy: 'startTime' } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { orderBy: 'startTime', singleEvents: true } })).status, 200);
}));

test('timeMax <= timeMin is 400 timeRangeEmpty', () => withFake({}, async (fake, token) => {
  const now = fake.clock.now();
  const r = await api(fake, token, 'GET', events(), { query: { timeMin: iso(now), timeMax: iso(now) } });
  assert.equal(r.status, 400);
  assert.equal(reason(r), 'timeRangeEmpty');
}));

test('timeMin without an offset is 400', () => withFake({}, async (fake, token) => {
  const r = await api(fake, token, 'GET', events(), { query: { timeMin: '2026-01-01T00:00:00' } });
  assert.equal(r.status, 400);
}));

test('an unknown query parameter is 400; a wrong type is 400; maxResults below 1 is 400', () => withFake({}, async (fake, token) => {
  assert.equal((await api(fake, token, 'GET', events(), { query: { sinceToken: 'x' } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { singleEvents: 'yes' } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { maxResults: 0 } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { maxResults: 2, maxResults2: 1 } })).status, 400);
}));

test('pages are short and some empty, nextPageToken present; every event exactly once', () => withFake({}, async (fake, token) => {
  for (let i = 0; i < 40; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
  const { items, pages, syncToken } = await listAll(fake, token, { maxResults: 5 });
  assert.equal(items.length, 40);
  assert.equal(new Set(items.map((x) => x.id)).size, 40);
  assert.ok(pages.some((p) => p.items.length === 0 && p.nextPageToken), 'an empty page that continues');
  assert.ok(pages.some((p) => p.items.length > 0 && p.items.length < 5 && p.nextPageToken), 'a short page that continues');
  assert.ok(pages.every((p) => p.items.length <= 5));
  assert.ok(syncToken);
}));

test('with shortPages off, pages are full', () => withFake({ shortPages: false }, async (fake, token) => {
  for (let i = 0; i < 7; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
  const { pages } = await listAll(fake, token, { maxResults: 3 });
  assert.deepEqual(pages.map((p) => p.items.length), [3, 3, 1]);
}));

test('a page token with another query is 400; a forged page token is 400', () => withFake({ shortPages: false }, async (fake, token) => {
  for (let i = 0; i < 3; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
  const first = await api(fake, token, 'GET', events(), { query: { maxResults: 1 } });
  const pageToken = first.body.nextPageToken;
  assert.equal((await api(fake, token, 'GET', events(), { query: { maxResults: 2, pageToken } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { maxResults: 1, pageToken: `${pageToken}x` } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { maxResults: 1, pageToken } })).status, 200);
}));

test('incremental: changes only, deleted events as sparse items (id only)', () => withFake({}, async (fake, token) => {
  const kept = fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  const gone = fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  fake.control.userCreatesEvent(USER, timedEvent(fake, 3));
  const { syncToken } = await listAll(fake, token);
  fake.control.userEditsEvent(USER, kept.id, { summary: 'edited' });
  fake.control.userDeletesEvent(USER, gone.id);
  const round = await listAll(fake, token, { syncToken });
  const byId = new Map(round.items.map((x) => [x.id, x]));
  assert.equal(byId.size, 2);
  assert.equal(byId.get(kept.id).summary, 'edited');
  assert.deepEqual(byId.get(gone.id), { kind: 'calendar#event', etag: byId.get(gone.id).etag, id: gone.id, status: 'cancelled' });
  assert.equal((await listAll(fake, token, { syncToken: round.syncToken })).items.length, 0);
}));

test('full listing omits deleted events; showDeleted includes them', () => withFake({}, async (fake, token) => {
  const gone = fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  fake.control.userDeletesEvent(USER, gone.id);
  assert.equal((await listAll(fake, token)).items.length, 0);
  assert.equal((await listAll(fake, token, { showDeleted: true })).items[0].status, 'cancelled');
}));

test('an expired sync token is 410 fullSyncRequired, also in the middle of paging', () => withFake({}, async (fake, token) => {
  for (let i = 0; i < 10; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
  const { syncToken } = await listAll(fake, token);
  for (let i = 0; i < 10; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, i + 20));
  const first = await api(fake, token, 'GET', events(), { query: { syncToken, maxResults: 2 } });
  assert.equal(first.status, 200);
  fake.control.expireSyncTokens(USER);
  const next = await api(fake, token, 'GET', events(), { query: { syncToken, maxResults: 2, pageToken: first.body.nextPageToken } });
  assert.equal(next.status, 410);
  assert.equal(reason(next), 'fullSyncRequired');
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken } })).status, 410);
}));

test('sync tokens expire after syncTokenLifetimeMs', () => withFake({ syncTokenLifetimeMs: 60000 }, async (fake, token) => {
  fake.control.setClock({ frozen: true });
  const { syncToken } = await listAll(fake, token);
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken } })).status, 200);
  fake.control.setClock({ advanceMs: 60001 });
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken } })).status, 410);
}));

test('a forged sync token is 400; one of another calendar is 400', () => withFake({}, async (fake, token) => {
  const other = fake.control.addCalendar(USER, { summary: 'Other' });
  const { syncToken } = await listAll(fake, token, {}, events(other.id));
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken: 'CPjflvfe1YEDEPjflvfe1YEDGAUg0_uyjwI=' } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken } })).status, 400);
}));

test('a sync token used with another singleEvents is 400', () => withFake({}, async (fake, token) => {
  const { syncToken } = await listAll(fake, token, { singleEvents: true });
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken, singleEvents: true } })).status, 200);
}));

test('late changes during paging come in the next round', () => withFake({}, async (fake, token) => {
  for (let i = 0; i < 6; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
  const first = await api(fake, token, 'GET', events(), { query: { maxResults: 1 } });
  const late = fake.control.userCreatesEvent(USER, timedEvent(fake, 30));
  let pageToken = first.body.nextPageToken;
  let syncToken;
  while (pageToken) {
    const r = await api(fake, token, 'GET', events(), { query: { maxResults: 1, pageToken } });
    pageToken = r.body.nextPageToken;
    syncToken = r.body.nextSyncToken;
  }
  const round = await listAll(fake, token, { syncToken });
  assert.ok(round.items.some((x) => x.id === late.id));
}));

test('timeMin bounds the end, timeMax the start (both exclusive)', () => withFake({}, async (fake, token) => {
  fake.control.setClock({ now: '2026-06-01T00:00:00Z', frozen: true });
  const at = (h) => ({ start: { dateTime: iso(Date.parse('2026-06-01T00:00:00Z') + h * HOUR) }, end: { dateTime: iso(Date.parse('2026-06-01T00:00:00Z') + (h + 1) * HOUR) } });
  const a = fake.control.userCreatesEvent(USER, at(10));  // 10:00-11:00
  const b = fake.control.userCreatesEvent(USER, at(11));  // 11:00-12:00
  const c = fake.control.userCreatesEvent(USER, at(12));  // 12:00-13:00
  const { items } = await listAll(fake, token, { timeMin: '2026-06-01T11:00:00Z', timeMax: '2026-06-01T12:00:00Z' });
  assert.deepEqual(items.map((x) => x.id), [b.id]);
  assert.ok(![a.id, c.id].some((id) => items.find((x) => x.id === id)));
}));

test('incremental rounds report changes outside the first round\'s window', () => withFake({}, async (fake, token) => {
  const now = fake.clock.now();
  const { syncToken } = await listAll(fake, token, { timeMin: iso(now) });
  const old = fake.control.userCreatesEvent(USER, timedEvent(fake, -48));
  const round = await listAll(fake, token, { syncToken });
  assert.ok(round.items.some((x) => x.id === old.id));
}));

const weekly = (fake, extra = {}) => ({ summary: 'weekly', start: { dateTime: '2026-03-02T09:00:00+01:00', timeZone: 'Europe/Berlin' },
  end: { dateTime: '2026-03-02T10:00:00+01:00', timeZone: 'Europe/Berlin' }, recurrence: ['RRULE:FREQ=WEEKLY;COUNT=4'], ...extra });

test('singleEvents expands a series into instances with recurringEventId and originalStartTime, across DST', () => withFake({ shortPages: false }, async (fake, token) => {
  fake.control.setClock({ now: '2026-02-01T00:00:00Z', frozen: true });
  const master = fake.control.userCreatesEvent(USER, weekly(fake));
  const { items } = await listAll(fake, token, { singleEvents: true, orderBy: 'startTime' });
  assert.deepEqual(items.map((x) => x.id), ['20260302T080000Z', '20260309T080000Z', '20260316T080000Z', '20260323T080000Z'].map((s) => `${master.id}_${s}`));
  assert.ok(items.every((x) => x.recurringEventId === master.id && x.originalStartTime && !x.recurrence));
  const dst = fake.control.userCreatesEvent(USER, weekly(fake, { start: { dateTime: '2026-03-23T09:00:00+01:00', timeZone: 'Europe/Berlin' },
    end: { dateTime: '2026-03-23T10:00:00+01:00', timeZone: 'Europe/Berlin' }, recurrence: ['RRULE:FREQ=WEEKLY;COUNT=2'] }));
  const after = (await listAll(fake, token, { singleEvents: true })).items.filter((x) => x.recurringEventId === dst.id);
  assert.deepEqual(after.map((x) => x.start.dateTime).sort(), ['2026-03-23T09:00:00+01:00', '2026-03-30T09:00:00+02:00']);
}));

test('a cancelled occurrence of a live series is listed without showDeleted (singleEvents off), sparse', () => withFake({ shortPages: false }, async (fake, token) => {
  fake.control.setClock({ now: '2026-02-01T00:00:00Z', frozen: true });
  const master = fake.control.userCreatesEvent(USER, weekly(fake));
  fake.control.userDeletesEvent(USER, `${master.id}_20260309T080000Z`);
  const { items } = await listAll(fake, token);
  const cancelled = items.find((x) => x.status === 'cancelled');
  assert.deepEqual(Object.keys(cancelled).sort(), ['etag', 'id', 'kind', 'originalStartTime', 'recurringEventId', 'status']);
  assert.equal(cancelled.recurringEventId, master.id);
  const single = await listAll(fake, token, { singleEvents: true });
  assert.equal(single.items.length, 3, 'singleEvents leaves the cancelled occurrence out');
}));

test('a moved occurrence is an exception with its originalStartTime', () => withFake({ shortPages: false }, async (fake, token) => {
  fake.control.setClock({ now: '2026-02-01T00:00:00Z', frozen: true });
  const master = fake.control.userCreatesEvent(USER, weekly(fake));
  const id = `${master.id}_20260316T080000Z`;
  const moved = await api(fake, token, 'PATCH', `${events()}/${id}`, { body: {
    start: { dateTime: '2026-03-17T15:00:00+01:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-03-17T16:00:00+01:00', timeZone: 'Europe/Berlin' } } });
  assert.equal(moved.status, 200);
  assert.equal(moved.body.originalStartTime.dateTime, '2026-03-16T09:00:00+01:00');
  const instances = await listAll(fake, token, {}, `${events()}/${master.id}/instances`);
  assert.equal(instances.items.find((x) => x.id === id).start.dateTime, '2026-03-17T15:00:00+01:00');
  assert.equal(instances.items.length, 4);
}));

test('instances of a non-recurring event is 400; of an unknown one 404', () => withFake({}, async (fake, token) => {
  const single = fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  assert.equal((await api(fake, token, 'GET', `${events()}/${single.id}/instances`)).status, 400);
  assert.equal((await api(fake, token, 'GET', `${events()}/abcdefghij/instances`)).status, 404);
}));

test('updatedMin lists changes since then, deleted ones too; too old is 410 updatedMinTooLongAgo', () => withFake({}, async (fake, token) => {
  fake.control.setClock({ frozen: true });
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  fake.control.setClock({ advanceMs: 60000 });
  const since = iso(fake.clock.now());
  const gone = fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  fake.control.userDeletesEvent(USER, gone.id);
  const { items } = await listAll(fake, token, { updatedMin: since });
  assert.deepEqual(items.map((x) => [x.id, x.status]), [[gone.id, 'cancelled']]);
  const r = await api(fake, token, 'GET', events(), { query: { updatedMin: iso(fake.clock.now() - 29 * 86400000) } });
  assert.equal(r.status, 410);
  assert.equal(reason(r), 'updatedMinTooLongAgo');
}));

test('filters: iCalUID and privateExtendedProperty', () => withFake({}, async (fake, token) => {
  const a = fake.control.userCreatesEvent(USER, timedEvent(fake, 1, { extendedProperties: { private: { calgatePair: 'p1' } } }));
  fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  assert.deepEqual((await listAll(fake, token, { privateExtendedProperty: 'calgatePair=p1' })).items.map((x) => x.id), [a.id]);
  assert.deepEqual((await listAll(fake, token, { iCalUID: a.iCalUID })).items.map((x) => x.id), [a.id]);
}));

test('another user\'s calendar is 404', () => withFake({}, async (fake, token) => {
  fake.control.addUser({ email: 'bob@example.com' });
  assert.equal((await api(fake, token, 'GET', events('bob@example.com'))).status, 404);
}));

test('calendarList needs a list scope: an events-only token gets 403 insufficientPermissions', () => withFake({}, async (fake) => {
  const { access_token } = fake.control.issueTokens({ user: USER, clientId: 'calgate-test.apps.googleusercontent.com', scopes: [SCOPES.events] });
  const r = await api(fake, access_token, 'GET', 'calendar/v3/users/me/calendarList');
  assert.equal(r.status, 403);
  assert.equal(reason(r), 'insufficientPermissions');
  assert.equal((await api(fake, access_token, 'GET', events())).status, 200);
}));

test('a read-only token cannot write events', () => withFake({}, async (fake) => {
  const { access_token } = fake.control.issueTokens({ user: USER, clientId: 'calgate-test.apps.googleusercontent.com', scopes: [SCOPES.readonly] });
  assert.equal((await api(fake, access_token, 'GET', events())).status, 200);
  const r = await api(fake, access_token, 'POST', events(), { body: timedEvent(fake, 1) });
  assert.equal(r.status, 403);
}));

test('a listing without timeMin/timeMax has no time filter: long past and far future events come', () => withFake({ shortPages: false }, async (fake, token) => {
  const at = (iso) => ({ start: { dateTime: iso }, end: { dateTime: new Date(Date.parse(iso) + HOUR).toISOString() } });
  const old = fake.control.userCreatesEvent(USER, at('2019-05-01T10:00:00Z'));
  const far = fake.control.userCreatesEvent(USER, at('2031-05-01T10:00:00Z'));
  const ids = (await listAll(fake, token)).items.map((x) => x.id);
  assert.ok(ids.includes(old.id) && ids.includes(far.id));
}));

test('an occurrence years into a long series is found by its instance id', () => withFake({}, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, { start: { dateTime: '2019-01-01T09:00:00Z', timeZone: 'UTC' },
    end: { dateTime: '2019-01-01T10:00:00Z', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=DAILY'] });
  const r = await api(fake, token, 'GET', `${events()}/${master.id}_20260601T090000Z`);
  assert.equal(r.status, 200);
  assert.equal(r.body.originalStartTime.dateTime, '2026-06-01T09:00:00Z');
}));

test('instances are filtered by where an occurrence is now, not where it was', () => withFake({ shortPages: false }, async (fake, token) => {
  fake.control.setClock({ now: '2026-05-01T00:00:00Z', frozen: true });
  const master = fake.control.userCreatesEvent(USER, { start: { dateTime: '2026-06-01T09:00:00Z', timeZone: 'UTC' },
    end: { dateTime: '2026-06-01T10:00:00Z', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] });
  fake.control.userEditsEvent(USER, `${master.id}_20260602T090000Z`, { start: { dateTime: '2026-06-10T09:00:00Z', timeZone: 'UTC' },
    end: { dateTime: '2026-06-10T10:00:00Z', timeZone: 'UTC' } });
  const path = `${events()}/${master.id}/instances`;
  const june2 = await listAll(fake, token, { timeMin: '2026-06-02T00:00:00Z', timeMax: '2026-06-03T00:00:00Z' }, path);
  assert.equal(june2.items.length, 0);
  const june10 = await listAll(fake, token, { timeMin: '2026-06-10T00:00:00Z', timeMax: '2026-06-11T00:00:00Z' }, path);
  assert.deepEqual(june10.items.map((x) => x.id), [`${master.id}_20260602T090000Z`]);
}));

test('orderBy=startTime orders events before 1970 too', () => withFake({ shortPages: false }, async (fake, token) => {
  const at = (iso) => ({ start: { dateTime: iso }, end: { dateTime: new Date(Date.parse(iso) + HOUR).toISOString() } });
  for (const d of ['1969-06-04T00:00:00Z', '1969-06-03T00:00:00Z', '1969-06-05T00:00:00Z']) fake.control.userCreatesEvent(USER, at(d));
  const { items } = await listAll(fake, token, { singleEvents: true, orderBy: 'startTime' });
  assert.deepEqual(items.map((x) => x.start.dateTime.slice(0, 10)), ['1969-06-03', '1969-06-04', '1969-06-05']);
}));

test('a page token of events.list is refused by instances', () => withFake({ shortPages: false }, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, { start: { dateTime: '2027-01-04T09:00:00Z', timeZone: 'UTC' },
    end: { dateTime: '2027-01-04T10:00:00Z', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] });
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  const first = await api(fake, token, 'GET', events(), { query: { maxResults: 1 } });
  const r = await api(fake, token, 'GET', `${events()}/${master.id}/instances`, { query: { maxResults: 1, pageToken: first.body.nextPageToken } });
  assert.equal(r.status, 400);
}));

test('maxResults beyond int32 and impossible times are 400', () => withFake({}, async (fake, token) => {
  assert.equal((await api(fake, token, 'GET', events(), { query: { maxResults: '99999999999999999999' } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { timeMin: '2027-02-30T00:00:00Z' } })).status, 400);
  assert.equal((await api(fake, token, 'GET', events(), { query: { timeMin: '2027-02-01T24:00:00Z' } })).status, 400);
}));
