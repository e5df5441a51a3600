// calendarView delta, one test per rule of CONTRACT.md §2 "calendarView delta".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, code, dailySeries, deltaRound, startFake, stopFake, timedEvent, window } from './helpers.mjs';

const DELTA = 'v1.0/me/calendarView/delta';

test('the window is required on the first request', async () => {
  const { fake, token } = await startFake();
  const r = await api(fake, token, 'GET', DELTA);
  assert.equal(r.status, 400);
  assert.equal(code(r), 'ErrorInvalidParameter');
  const half = await api(fake, token, 'GET', DELTA, { query: { startDateTime: window(fake).startDateTime } });
  assert.equal(half.status, 400);
  const noOffset = await api(fake, token, 'GET', DELTA, { query: { startDateTime: '2026-01-01T00:00:00', endDateTime: '2026-02-01T00:00:00Z' } });
  assert.equal(noOffset.status, 400, 'strict: a window bound needs an offset');
  await stopFake(fake);
});

for (const option of ['$select', '$expand', '$filter', '$orderby', '$search', '$top']) {
  test(`delta refuses ${option}`, async () => {
    const { fake, token } = await startFake();
    const r = await api(fake, token, 'GET', DELTA, { query: { ...window(fake), [option]: 'subject' } });
    assert.equal(r.status, 400);
    assert.equal(code(r), 'ErrorInvalidUrlQuery');
    await stopFake(fake);
  });
}

test('pages follow nextLink to a deltaLink; page size from Prefer: odata.maxpagesize', async () => {
  const { fake, token, calendarId } = await startFake();
  for (let i = 1; i <= 7; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i));
  const round = await deltaRound(fake, token, { query: window(fake), headers: { Prefer: 'odata.maxpagesize=3' } });
  assert.deepEqual(round.pages.map((p) => p.value.length), [3, 3, 1]);
  assert.equal(new Set(round.items.map((e) => e.id)).size, 7);
  assert.match(round.deltaLink, /\$deltatoken=/);
  assert.match(round.pages[0]['@odata.nextLink'], /\$skiptoken=/);
  for (const e of round.items) {
    assert.equal(e.type, 'singleInstance');
    assert.match(e['@odata.etag'], /^W\/"/);
  }
  await stopFake(fake);
});

test('without Prefer the default page size applies', async () => {
  const { fake, token, calendarId } = await startFake({ defaultPageSize: 2 });
  for (let i = 1; i <= 3; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i));
  const round = await deltaRound(fake, token, { query: window(fake) });
  assert.deepEqual(round.pages.map((p) => p.value.length), [2, 1]);
  await stopFake(fake);
});

test('links are opaque: an edited or extended link is refused', async () => {
  const { fake, token, calendarId } = await startFake({ defaultPageSize: 1 });
  for (let i = 1; i <= 2; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i));
  const first = await api(fake, token, 'GET', DELTA, { query: window(fake) });
  const next = new URL(first.body['@odata.nextLink']);
  const added = new URL(next);
  added.searchParams.set('startDateTime', window(fake).startDateTime);
  assert.equal((await api(fake, token, 'GET', added.toString())).status, 400, 'parameters may not be added to a link');
  const edited = new URL(next);
  edited.searchParams.set('$skiptoken', `${next.searchParams.get('$skiptoken').slice(0, -2)}xx`);
  assert.equal((await api(fake, token, 'GET', edited.toString())).status, 400, 'an edited token is refused');
  const otherCalendar = fake.control.addCalendar('ada@contoso.example', { name: 'Other' }).id;
  const moved = next.toString().replace('/me/calendarView/delta', `/me/calendars/${otherCalendar}/calendarView/delta`);
  assert.equal((await api(fake, token, 'GET', moved)).status, 400, 'a token belongs to its calendar');
  assert.equal((await api(fake, token, 'GET', next.toString())).status, 200, 'the link as given works');
  await stopFake(fake);
});

test('the next round brings changes, deletions and items that left the window as @removed', async () => {
  const { fake, token, calendarId } = await startFake();
  const keep = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  const edit = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 2));
  const gone = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 3));
  const leaves = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 4));
  const first = await deltaRound(fake, token, { query: window(fake, 10) });
  assert.equal(first.items.length, 4);
  fake.control.userEditsEvent(edit.id, { subject: 'edited' });
  fake.control.userDeletesEvent(gone.id);
  const later = timedEvent(fake, 24 * 40);
  fake.control.userEditsEvent(leaves.id, { start: later.start, end: later.end });
  const added = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 5));
  const second = await deltaRound(fake, token, { link: first.deltaLink });
  const byId = new Map(second.items.map((e) => [e.id, e]));
  assert.equal(byId.get(edit.id).subject, 'edited');
  assert.deepEqual(byId.get(gone.id), { '@odata.type': '#microsoft.graph.event', id: gone.id, '@removed': { reason: 'deleted' } });
  assert.deepEqual(byId.get(leaves.id)['@removed'], { reason: 'deleted' }, 'an event moved out of the window is removed');
  assert.equal(byId.get(added.id).subject, added.subject);
  assert.equal(byId.has(keep.id), false, 'unchanged items are not sent again (replays off)');
  const third = await deltaRound(fake, token, { link: second.deltaLink });
  assert.deepEqual(third.items, []);
  await stopFake(fake);
});

test('a change made while the client pages shows in the next round', async () => {
  const { fake, token, calendarId } = await startFake({ defaultPageSize: 1 });
  const a = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 2));
  const first = await api(fake, token, 'GET', DELTA, { query: window(fake) });
  fake.control.userEditsEvent(a.id, { subject: 'late' });
  const rest = await deltaRound(fake, token, { link: first.body['@odata.nextLink'] });
  const second = await deltaRound(fake, token, { link: rest.deltaLink });
  assert.deepEqual(second.items.map((e) => [e.id, e.subject]), [[a.id, 'late']]);
  await stopFake(fake);
});

test('series: occurrences and exceptions, never the master; cancelled occurrences are removed', async () => {
  const { fake, token, calendarId } = await startFake();
  const master = fake.control.userCreatesEvent(calendarId, dailySeries(fake, 4));
  const first = await deltaRound(fake, token, { query: window(fake) });
  assert.deepEqual(first.items.map((e) => e.type), ['occurrence', 'occurrence', 'occurrence', 'occurrence']);
  assert.ok(first.items.every((e) => e.seriesMasterId === master.id && e.originalStart));
  const [o1, o2] = first.items.sort((x, y) => x.originalStart.localeCompare(y.originalStart));
  fake.control.userEditsEvent(o1.id, { subject: 'moved stand-up', start: { dateTime: o1.start.dateTime.replace('T09:00', 'T10:00'), timeZone: 'UTC' },
    end: { dateTime: o1.end.dateTime.replace('T09:15', 'T10:15'), timeZone: 'UTC' } });
  fake.control.userDeletesEvent(o2.id);
  const second = await deltaRound(fake, token, { link: first.deltaLink });
  const byId = new Map(second.items.map((e) => [e.id, e]));
  assert.equal(byId.get(o1.id).type, 'exception');
  assert.equal(byId.get(o1.id).originalStart, o1.originalStart, 'an exception keeps its original start after it moved');
  assert.match(byId.get(o1.id).start.dateTime, /T10:00:00/);
  assert.deepEqual(byId.get(o2.id)['@removed'], { reason: 'deleted' });
  const got = await api(fake, token, 'GET', `v1.0/me/events/${master.id}`);
  assert.equal(got.body.type, 'seriesMaster');
  assert.equal(got.body.cancelledOccurrences.length, 1);
  await stopFake(fake);
});

test('Prefer: outlook.timezone writes times in that zone (Windows or IANA name), UTC without it', async () => {
  const { fake, token, calendarId } = await startFake();
  fake.control.setClock({ now: '2026-07-01T08:00:00Z', frozen: true });
  fake.control.userCreatesEvent(calendarId, { subject: 's', start: { dateTime: '2026-07-02T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-07-02T10:00:00', timeZone: 'UTC' } });
  const utc = await deltaRound(fake, token, { query: window(fake) });
  assert.deepEqual(utc.items[0].start, { dateTime: '2026-07-02T09:00:00.0000000', timeZone: 'UTC' });
  const berlin = await deltaRound(fake, token, { query: window(fake), headers: { Prefer: 'outlook.timezone="W. Europe Standard Time"' } });
  assert.deepEqual(berlin.items[0].start, { dateTime: '2026-07-02T11:00:00.0000000', timeZone: 'W. Europe Standard Time' });
  const bad = await api(fake, token, 'GET', DELTA, { query: window(fake), headers: { Prefer: 'outlook.timezone="Mars/Olympus"' } });
  assert.equal(bad.status, 400);
  assert.equal(code(bad), 'TimeZoneNotSupportedException');
  await stopFake(fake);
});

test('expired delta links answer 410 Gone with a Location that starts over', async () => {
  const { fake, token, calendarId } = await startFake();
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  const first = await deltaRound(fake, token, { query: window(fake) });
  fake.control.expireDelta(calendarId);
  const r = await api(fake, token, 'GET', first.deltaLink);
  assert.equal(r.status, 410);
  assert.equal(code(r), 'syncStateNotFound');
  const location = r.headers.get('location');
  assert.ok(location, 'a Location header');
  assert.equal(new URL(location).searchParams.get('$deltatoken'), '');
  const again = await deltaRound(fake, token, { link: location });
  assert.equal(again.items.length, 1, 'the Location starts a full round over the same window');
  await stopFake(fake);
});

for (const answer of ['syncStateNotFound', 'resyncRequired']) {
  test(`expired delta links can answer 400 ${answer}`, async () => {
    const { fake, token, calendarId } = await startFake({ expiredDeltaAnswer: answer });
    const first = await deltaRound(fake, token, { query: window(fake) });
    fake.control.expireDelta(calendarId);
    const r = await api(fake, token, 'GET', first.deltaLink);
    assert.equal(r.status, 400);
    assert.equal(code(r), answer);
    await stopFake(fake);
  });
}

test('delta links age out after deltaTokenLifetimeMs', async () => {
  const { fake, token } = await startFake({ deltaTokenLifetimeMs: 60000 });
  fake.control.setClock({ frozen: true });
  const first = await deltaRound(fake, token, { query: window(fake) });
  fake.control.setClock({ advanceMs: 61000 });
  assert.equal((await api(fake, token, 'GET', first.deltaLink)).status, 410);
  await stopFake(fake);
});

test('a delta link can be used again unless deltaLinkSingleUse', async () => {
  for (const single of [false, true]) {
    const { fake, token } = await startFake({ deltaLinkSingleUse: single });
    const first = await deltaRound(fake, token, { query: window(fake) });
    await deltaRound(fake, token, { link: first.deltaLink });
    assert.equal((await api(fake, token, 'GET', first.deltaLink)).status, single ? 410 : 200);
    await stopFake(fake);
  }
});

test('replays, duplicates, empty pages and shuffled order when switched on', async () => {
  const { fake, token, calendarId } = await startFake({ replayRate: 1, duplicateRate: 0.5, emptyPages: true, shuffle: true, defaultPageSize: 2, seed: 3 });
  for (let i = 1; i <= 6; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i));
  const first = await deltaRound(fake, token, { query: window(fake) });
  const ids = first.items.map((e) => e.id);
  assert.ok(ids.length > new Set(ids).size, 'some item came twice within the round');
  assert.ok(first.pages.some((p) => p.value.length === 0 && p['@odata.nextLink']), 'an empty page with a nextLink');
  const second = await deltaRound(fake, token, { link: first.deltaLink });
  assert.equal(new Set(second.items.map((e) => e.id)).size, 6, 'unchanged items were replayed');
  await stopFake(fake);
});

test('delta per calendar: /me/calendars/{id}/calendarView/delta sees only that calendar', async () => {
  const { fake, token, calendarId } = await startFake();
  const other = fake.control.addCalendar('ada@contoso.example', { name: 'Side' }).id;
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  const side = fake.control.userCreatesEvent(other, timedEvent(fake, 2));
  const round = await deltaRound(fake, token, { query: window(fake), path: `v1.0/me/calendars/${other}/calendarView/delta` });
  assert.deepEqual(round.items.map((e) => e.id), [side.id]);
  await stopFake(fake);
});
