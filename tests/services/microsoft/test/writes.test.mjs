// Event writes and reads, one test per rule of CONTRACT.md §2 "Event entity" and the ETag rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, code, dailySeries, OTHER, startFake, stopFake, timedEvent, USER, window } from './helpers.mjs';

const PROP = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name calgateOrigin';

test('create answers 201 with the event as Graph writes it', async () => {
  const { fake, token } = await startFake();
  const r = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1, { sensitivity: 'private', showAs: 'oof' }) });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.type, 'singleInstance');
  assert.equal(r.body.sensitivity, 'private');
  assert.equal(r.body.showAs, 'oof');
  assert.match(r.body['@odata.etag'], /^W\/".+"$/);
  assert.equal(r.body['@odata.etag'], `W/"${r.body.changeKey}"`);
  assert.match(r.body.start.dateTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.0000000$/);
  await stopFake(fake);
});

test('a retried create with the same transactionId answers the first event, within the window', async () => {
  const { fake, token, calendarId } = await startFake({ transactionIdWindowMs: 60000 });
  fake.control.setClock({ frozen: true });
  const body = timedEvent(fake, 1, { transactionId: 'calgate-7f3a' });
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body });
  const b = await api(fake, token, 'POST', `v1.0/me/calendars/${calendarId}/events`, { body });
  assert.equal(b.status, 201);
  assert.equal(b.body.id, a.body.id);
  assert.equal(b.body.transactionId, 'calgate-7f3a');
  fake.control.setClock({ advanceMs: 61000 });
  const c = await api(fake, token, 'POST', 'v1.0/me/events', { body });
  assert.notEqual(c.body.id, a.body.id, 'past the window a transactionId no longer deduplicates');
  assert.equal((await fake.control.state()).calendars[0].events.length, 2);
  await stopFake(fake);
});

test('transactionId cannot change afterwards', async () => {
  const { fake, token } = await startFake();
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1, { transactionId: 't1' }) });
  const r = await api(fake, token, 'PATCH', `v1.0/me/events/${a.body.id}`, { body: { transactionId: 't2' } });
  assert.equal(r.status, 400);
  await stopFake(fake);
});

test('PATCH honours If-Match: the current etag passes, a stale one is 412', async () => {
  const { fake, token } = await startFake();
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) });
  const ok = await api(fake, token, 'PATCH', `v1.0/me/events/${a.body.id}`, { body: { subject: 'one' }, headers: { 'If-Match': a.body['@odata.etag'] } });
  assert.equal(ok.status, 200, ok.text);
  assert.notEqual(ok.body.changeKey, a.body.changeKey, 'every change makes a new changeKey');
  const stale = await api(fake, token, 'PATCH', `v1.0/me/events/${a.body.id}`, { body: { subject: 'two' }, headers: { 'If-Match': a.body['@odata.etag'] } });
  assert.equal(stale.status, 412);
  assert.equal(code(stale), 'resourceModified');
  const del = await api(fake, token, 'DELETE', `v1.0/me/events/${a.body.id}`, { headers: { 'If-Match': a.body['@odata.etag'] } });
  assert.equal(del.status, 412, 'DELETE too');
  assert.equal((await api(fake, token, 'GET', `v1.0/me/events/${a.body.id}`)).body.subject, 'one');
  await stopFake(fake);
});

test('delete answers 204, then 404 ErrorItemNotFound', async () => {
  const { fake, token } = await startFake();
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) });
  assert.equal((await api(fake, token, 'DELETE', `v1.0/me/events/${a.body.id}`)).status, 204);
  const again = await api(fake, token, 'DELETE', `v1.0/me/events/${a.body.id}`);
  assert.equal(again.status, 404);
  assert.equal(code(again), 'ErrorItemNotFound');
  await stopFake(fake);
});

test('extended properties: written on create, returned only when expanded, found by $filter', async () => {
  const { fake, token } = await startFake();
  const body = timedEvent(fake, 1, { singleValueExtendedProperties: [{ id: PROP, value: 'copy-1' }] });
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body });
  const plain = await api(fake, token, 'GET', `v1.0/me/events/${a.body.id}`);
  assert.equal(plain.body.singleValueExtendedProperties, undefined, 'not returned unless expanded');
  const expanded = await api(fake, token, 'GET', `v1.0/me/events/${a.body.id}`, { query: { $expand: `singleValueExtendedProperties($filter=id eq '${PROP}')` } });
  assert.deepEqual(expanded.body.singleValueExtendedProperties, [{ id: PROP, value: 'copy-1' }]);
  await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 2) });
  const found = await api(fake, token, 'GET', 'v1.0/me/events', { query: { $filter: `singleValueExtendedProperties/Any(ep: ep/id eq '${PROP}' and ep/value eq 'copy-1')` } });
  assert.deepEqual(found.body.value.map((e) => e.id), [a.body.id]);
  const bad = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 3, { singleValueExtendedProperties: [{ id: 'calgateOrigin', value: 'x' }] }) });
  assert.equal(bad.status, 400, 'an extended property id has the documented format');
  await stopFake(fake);
});

test('a filtered, expanded event list keeps its $filter and $expand on every page, as Graph\'s nextLinks do', async () => {
  const { fake, token } = await startFake();
  for (let i = 1; i <= 3; i++) {
    await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, i, { singleValueExtendedProperties: [{ id: PROP, value: 'pair-1' }] }) });
  }
  await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 4) });
  let page = await api(fake, token, 'GET', 'v1.0/me/events', { query: { $top: 2, $filter: `singleValueExtendedProperties/Any(ep: ep/id eq '${PROP}' and ep/value eq 'pair-1')`,
    $expand: `singleValueExtendedProperties($filter=id eq '${PROP}')` } });
  const seen = [...page.body.value];
  while (page.body['@odata.nextLink']) {
    page = await api(fake, token, 'GET', page.body['@odata.nextLink']);
    seen.push(...page.body.value);
  }
  assert.equal(seen.length, 3);
  for (const e of seen) assert.deepEqual(e.singleValueExtendedProperties, [{ id: PROP, value: 'pair-1' }]);
  await stopFake(fake);
});

test('event lists page with $top and a sealed nextLink', async () => {
  const { fake, token } = await startFake();
  for (let i = 1; i <= 5; i++) await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, i) });
  const first = await api(fake, token, 'GET', 'v1.0/me/events', { query: { $top: 2 } });
  assert.equal(first.body.value.length, 2);
  const second = await api(fake, token, 'GET', first.body['@odata.nextLink']);
  assert.equal(second.body.value.length, 2);
  const tampered = new URL(first.body['@odata.nextLink']);
  tampered.searchParams.set('$top', '5');
  assert.equal((await api(fake, token, 'GET', tampered.toString())).status, 400);
  await stopFake(fake);
});

test('series: a master with patternedRecurrence, instances in a window, PATCH makes an exception, DELETE cancels', async () => {
  const { fake, token } = await startFake();
  const master = await api(fake, token, 'POST', 'v1.0/me/events', { body: dailySeries(fake, 5) });
  assert.equal(master.status, 201, master.text);
  assert.equal(master.body.type, 'seriesMaster');
  assert.equal(master.body.recurrence.pattern.type, 'daily');
  const list = await api(fake, token, 'GET', `v1.0/me/events/${master.body.id}/instances`, { query: window(fake) });
  assert.equal(list.body.value.length, 5);
  const [first, second] = list.body.value;
  assert.equal(first.type, 'occurrence');
  const ex = await api(fake, token, 'PATCH', `v1.0/me/events/${first.id}`, { body: { subject: 'special' } });
  assert.equal(ex.status, 200, ex.text);
  assert.equal(ex.body.type, 'exception');
  assert.equal((await api(fake, token, 'DELETE', `v1.0/me/events/${second.id}`)).status, 204);
  const after = await api(fake, token, 'GET', `v1.0/me/events/${master.body.id}/instances`, { query: window(fake) });
  assert.deepEqual(after.body.value.map((e) => e.type), ['exception', 'occurrence', 'occurrence', 'occurrence']);
  assert.equal(after.body.value[0].subject, 'special');
  assert.equal((await api(fake, token, 'GET', `v1.0/me/events/${second.id}`)).status, 404, 'a cancelled occurrence is gone');
  const noWindow = await api(fake, token, 'GET', `v1.0/me/events/${master.body.id}/instances`);
  assert.equal(noWindow.status, 400, 'instances need the window');
  await stopFake(fake);
});

test('a changed recurrence drops the exceptions and cancellations', async () => {
  const { fake, token } = await startFake();
  const master = await api(fake, token, 'POST', 'v1.0/me/events', { body: dailySeries(fake, 3) });
  const list = await api(fake, token, 'GET', `v1.0/me/events/${master.body.id}/instances`, { query: window(fake) });
  await api(fake, token, 'DELETE', `v1.0/me/events/${list.body.value[0].id}`);
  const recurrence = { ...master.body.recurrence, range: { ...master.body.recurrence.range, numberOfOccurrences: 4 } };
  const r = await api(fake, token, 'PATCH', `v1.0/me/events/${master.body.id}`, { body: { recurrence } });
  assert.equal(r.status, 200, r.text);
  const again = await api(fake, token, 'GET', `v1.0/me/events/${master.body.id}/instances`, { query: window(fake) });
  assert.equal(again.body.value.length, 4);
  await stopFake(fake);
});

test('all-day events start and end at midnight and last whole days', async () => {
  const { fake, token } = await startFake();
  const ok = await api(fake, token, 'POST', 'v1.0/me/events', { body: { subject: 'off', isAllDay: true,
    start: { dateTime: '2026-12-24T00:00:00', timeZone: 'W. Europe Standard Time' }, end: { dateTime: '2026-12-26T00:00:00', timeZone: 'W. Europe Standard Time' } } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.start.dateTime, '2026-12-24T00:00:00.0000000');
  const bad = await api(fake, token, 'POST', 'v1.0/me/events', { body: { subject: 'off', isAllDay: true,
    start: { dateTime: '2026-12-24T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-25T09:00:00', timeZone: 'UTC' } } });
  assert.equal(bad.status, 400);
  await stopFake(fake);
});

test('times: dateTime without offset, a known zone; end not before start', async () => {
  const { fake, token } = await startFake();
  const withOffset = await api(fake, token, 'POST', 'v1.0/me/events', { body: { subject: 'x', start: { dateTime: '2026-12-24T09:00:00Z', timeZone: 'UTC' }, end: { dateTime: '2026-12-24T10:00:00', timeZone: 'UTC' } } });
  assert.equal(withOffset.status, 400);
  const unknownZone = await api(fake, token, 'POST', 'v1.0/me/events', { body: { subject: 'x', start: { dateTime: '2026-12-24T09:00:00', timeZone: 'Atlantis' }, end: { dateTime: '2026-12-24T10:00:00', timeZone: 'UTC' } } });
  assert.equal(code(unknownZone), 'TimeZoneNotSupportedException');
  const backwards = await api(fake, token, 'POST', 'v1.0/me/events', { body: { subject: 'x', start: { dateTime: '2026-12-24T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2026-12-24T08:00:00', timeZone: 'UTC' } } });
  assert.equal(backwards.status, 400);
  const noTimes = await api(fake, token, 'POST', 'v1.0/me/events', { body: { subject: 'x' } });
  assert.equal(noTimes.status, 400);
  await stopFake(fake);
});

test('calendars: canEdit tells writable ones; writes to a read-only shared calendar are refused', async () => {
  const { fake, token } = await startFake();
  const bobs = fake.control.addCalendar(OTHER, { name: 'Team' }).id;
  fake.control.share(bobs, { user: USER, role: 'read' });
  const list = await api(fake, token, 'GET', 'v1.0/me/calendars');
  const byName = Object.fromEntries(list.body.value.map((c) => [c.name, c]));
  assert.equal(byName.Calendar.canEdit, true);
  assert.equal(byName.Calendar.isDefaultCalendar, true);
  assert.equal(byName.Team.canEdit, false);
  assert.equal(byName.Team.owner.address, OTHER);
  const w = await api(fake, token, 'POST', `v1.0/me/calendars/${bobs}/events`, { body: timedEvent(fake, 1) });
  assert.equal(w.status, 403);
  assert.equal(code(w), 'ErrorAccessDenied');
  const unshared = fake.control.addCalendar(OTHER, { name: 'Private' }).id;
  assert.equal((await api(fake, token, 'GET', `v1.0/me/calendars/${unshared}`)).status, 404);
  await stopFake(fake);
});

test('delegated access: another user\'s mailbox is refused; /users/{own UPN} works', async () => {
  const { fake, token } = await startFake();
  assert.equal((await api(fake, token, 'GET', `v1.0/users/${OTHER}/calendars`)).status, 403);
  assert.equal((await api(fake, token, 'GET', `v1.0/users/${USER}/calendars`)).status, 200);
  assert.equal((await api(fake, token, 'GET', 'v1.0/users/nobody@contoso.example/calendars')).status, 404);
  await stopFake(fake);
});

test('scopes: Calendars.Read reads but cannot write', async () => {
  const { fake, token } = await startFake({}, { scopes: ['openid', 'Calendars.Read'] });
  assert.equal((await api(fake, token, 'GET', 'v1.0/me/calendars')).status, 200);
  const w = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) });
  assert.equal(w.status, 403);
  await stopFake(fake);
});

test('401 InvalidAuthenticationToken without a token the fake issued', async () => {
  const { fake, token } = await startFake();
  const none = await api(fake, null, 'GET', 'v1.0/me/calendars');
  assert.equal(none.status, 401);
  assert.equal(code(none), 'InvalidAuthenticationToken');
  assert.ok(none.headers.get('www-authenticate'));
  assert.equal((await api(fake, 'made-up', 'GET', 'v1.0/me/calendars')).status, 401);
  fake.control.expireAccessTokens(USER);
  assert.equal((await api(fake, token, 'GET', 'v1.0/me/calendars')).status, 401);
  await stopFake(fake);
});
