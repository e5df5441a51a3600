// Writes as CONTRACT.md §1 states them, one rule per test: client-chosen ids (base32hex, 5-1024)
// and 409 duplicate, If-Match (412) and If-None-Match (304), PATCH vs PUT semantics, immutable
// fields, sequence, 410 on deleting a deleted event, body validation against the discovery
// document (unknown fields and wrong types are 400) and the event rules beyond it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT, SCOPES, USER, api, events, reason, startFake, stopFake, timedEvent } from './helpers.mjs';

async function withFake(options, body) {
  const { fake, token } = await startFake(options);
  try { await body(fake, token); } finally { await stopFake(fake); }
}
const insert = (fake, token, body) => api(fake, token, 'POST', events(), { body });

test('a client-chosen id is kept; a second insert with it is 409 duplicate', () => withFake({}, async (fake, token) => {
  const first = await insert(fake, token, { id: 'abcde01234', ...timedEvent(fake, 1) });
  assert.equal(first.status, 200);
  assert.equal(first.body.id, 'abcde01234');
  const again = await insert(fake, token, { id: 'abcde01234', ...timedEvent(fake, 1) });
  assert.equal(again.status, 409);
  assert.equal(reason(again), 'duplicate');
}));

test('the id of a deleted event stays taken (409)', () => withFake({}, async (fake, token) => {
  await insert(fake, token, { id: 'abcde01234', ...timedEvent(fake, 1) });
  assert.equal((await api(fake, token, 'DELETE', `${events()}/abcde01234`)).status, 204);
  assert.equal((await insert(fake, token, { id: 'abcde01234', ...timedEvent(fake, 1) })).status, 409);
}));

for (const bad of ['abcd', 'ABCDEFGH', 'wxyz01234', 'abc-12345', 'a'.repeat(1025)]) {
  test(`an id outside base32hex 5-1024 is 400 (${bad.slice(0, 12)}, ${bad.length} chars)`, () => withFake({}, async (fake, token) => {
    assert.equal((await insert(fake, token, { id: bad, ...timedEvent(fake, 1) })).status, 400);
  }));
}

test('without an id the server makes one in base32hex', () => withFake({}, async (fake, token) => {
  const r = await insert(fake, token, timedEvent(fake, 1));
  assert.match(r.body.id, /^[a-v0-9]{5,1024}$/);
  assert.equal(r.body.iCalUID, `${r.body.id}@google.com`);
  assert.equal(r.headers.get('etag'), r.body.etag);
}));

test('insert ignores a client iCalUID unless insertKeepsICalUID', async () => {
  await withFake({}, async (fake, token) => {
    const r = await insert(fake, token, { ...timedEvent(fake, 1), iCalUID: 'mine@example.com' });
    assert.notEqual(r.body.iCalUID, 'mine@example.com');
  });
  await withFake({ insertKeepsICalUID: true }, async (fake, token) => {
    const r = await insert(fake, token, { ...timedEvent(fake, 1), iCalUID: 'mine@example.com' });
    assert.equal(r.body.iCalUID, 'mine@example.com');
  });
});

test('If-Match with a stale etag is 412 on patch, update and delete; the current one passes', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  const path = `${events()}/${created.id}`;
  const changed = (await api(fake, token, 'PATCH', path, { body: { summary: 'one' } })).body;
  for (const [method, body] of [['PATCH', { summary: 'x' }], ['PUT', timedEvent(fake, 1)], ['DELETE', undefined]]) {
    const r = await api(fake, token, method, path, { body, headers: { 'If-Match': created.etag } });
    assert.equal(r.status, 412, method);
    assert.equal(reason(r), 'conditionNotMet');
  }
  assert.equal((await api(fake, token, 'PATCH', path, { body: { summary: 'two' }, headers: { 'If-Match': changed.etag } })).status, 200);
}));

test('If-None-Match with the current etag on get is 304', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  const r = await api(fake, token, 'GET', `${events()}/${created.id}`, { headers: { 'If-None-Match': created.etag } });
  assert.equal(r.status, 304);
  assert.equal((await api(fake, token, 'GET', `${events()}/${created.id}`, { headers: { 'If-None-Match': '"0"' } })).status, 200);
}));

test('PATCH merges objects, replaces arrays, null clears; PUT replaces the whole event', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, { ...timedEvent(fake, 1), location: 'Room 1', description: 'notes',
    extendedProperties: { private: { a: '1', b: '2' } }, attendees: [{ email: 'x@example.com' }, { email: 'y@example.com' }] })).body;
  const path = `${events()}/${created.id}`;
  const patched = (await api(fake, token, 'PATCH', path, { body: { extendedProperties: { private: { b: '3' } },
    attendees: [{ email: 'z@example.com' }], location: null } })).body;
  assert.deepEqual(patched.extendedProperties.private, { a: '1', b: '3' });
  assert.deepEqual(patched.attendees.map((a) => a.email), ['z@example.com']);
  assert.equal(patched.location, undefined);
  assert.equal(patched.description, 'notes');
  const put = (await api(fake, token, 'PUT', path, { body: timedEvent(fake, 2) })).body;
  assert.equal(put.description, undefined);
  assert.equal(put.extendedProperties, undefined);
  assert.equal(put.id, created.id);
}));

test('id, eventType, recurringEventId cannot change (400)', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  const path = `${events()}/${created.id}`;
  assert.equal((await api(fake, token, 'PATCH', path, { body: { id: 'zzzzz00000' } })).status, 400);
  assert.equal((await api(fake, token, 'PATCH', path, { body: { eventType: 'focusTime' } })).status, 400);
  assert.equal((await api(fake, token, 'PATCH', path, { body: { recurringEventId: 'abcdefgh' } })).status, 400);
}));

test('a sequence below the current one is 400; a time change bumps it', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, { ...timedEvent(fake, 1), sequence: 3 })).body;
  const path = `${events()}/${created.id}`;
  assert.equal((await api(fake, token, 'PATCH', path, { body: { sequence: 2 } })).status, 400);
  const moved = (await api(fake, token, 'PATCH', path, { body: { start: timedEvent(fake, 2).start, end: timedEvent(fake, 2).end } })).body;
  assert.equal(moved.sequence, 4);
}));

test('deleting a deleted event is 410 deleted; an unknown one 404', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  assert.equal((await api(fake, token, 'DELETE', `${events()}/${created.id}`)).status, 204);
  const again = await api(fake, token, 'DELETE', `${events()}/${created.id}`);
  assert.equal(again.status, 410);
  assert.equal(reason(again), 'deleted');
  assert.equal((await api(fake, token, 'DELETE', `${events()}/abcdefghij`)).status, 404);
}));

test('get returns a deleted event, sparse', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  await api(fake, token, 'DELETE', `${events()}/${created.id}`);
  const r = await api(fake, token, 'GET', `${events()}/${created.id}`);
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.body).sort(), ['etag', 'id', 'kind', 'status']);
}));

test('deleting a series master cancels its exceptions', () => withFake({}, async (fake, token) => {
  const master = (await insert(fake, token, { summary: 's', start: { dateTime: '2027-01-04T09:00:00Z', timeZone: 'UTC' },
    end: { dateTime: '2027-01-04T10:00:00Z', timeZone: 'UTC' }, recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] })).body;
  await api(fake, token, 'PATCH', `${events()}/${master.id}_20270105T090000Z`, { body: { summary: 'changed' } });
  await api(fake, token, 'DELETE', `${events()}/${master.id}`);
  const stored = (await fake.control.state()).calendars[0].events;
  assert.ok(stored.every((e) => e.status === 'cancelled'));
}));

test('a body field the discovery document does not know is 400; so is a wrong type', () => withFake({}, async (fake, token) => {
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), colour: 'red' })).status, 400);
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), start: { dateTime: '2027-01-01T09:00:00Z', zone: 'UTC' } })).status, 400);
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), sequence: '1' })).status, 400);
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), extendedProperties: { private: { a: 1 } } })).status, 400);
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), summary: null })).status, 400);
}));

test('a body that is not JSON, or not sent as JSON, is 400; a body where the method takes none is 400', () => withFake({}, async (fake, token) => {
  assert.equal((await api(fake, token, 'POST', events(), { rawBody: '{"summary":', headers: { 'Content-Type': 'application/json' } })).status, 400);
  assert.equal((await api(fake, token, 'POST', events(), { body: timedEvent(fake, 1), contentType: 'text/plain' })).status, 400);
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  assert.equal((await api(fake, token, 'DELETE', `${events()}/${created.id}`, { body: {} })).status, 400);
}));

test('start and end: required, same kind, end not before start, offset or zone, real zones', () => withFake({}, async (fake, token) => {
  const t = timedEvent(fake, 1);
  const cases = [
    { start: t.start },
    { end: t.end },
    { start: { date: '2027-01-01' }, end: t.end },
    { start: t.end, end: t.start },
    { start: { date: '2027-01-02' }, end: { date: '2027-01-02' } },
    { start: { dateTime: '2027-01-01T09:00:00' }, end: { dateTime: '2027-01-01T10:00:00' } },
    { start: { dateTime: '2027-01-01T09:00:00', timeZone: 'Mars/Olympus' }, end: { dateTime: '2027-01-01T10:00:00', timeZone: 'UTC' } },
    { start: { date: '2027-02-30' }, end: { date: '2027-03-01' } },
  ];
  for (const body of cases) assert.equal((await insert(fake, token, body)).status, 400, JSON.stringify(body));
  const local = await insert(fake, token, { start: { dateTime: '2027-01-01T09:00:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2027-01-01T10:00:00', timeZone: 'Europe/Berlin' } });
  assert.equal(local.status, 200);
  assert.equal(local.body.start.dateTime, '2027-01-01T09:00:00+01:00', 'answered with its offset');
}));

test('enums: status, visibility, transparency, eventType', () => withFake({}, async (fake, token) => {
  for (const field of ['status', 'visibility', 'transparency', 'eventType']) {
    assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), [field]: 'sometimes' })).status, 400, field);
  }
  const ok = await insert(fake, token, { ...timedEvent(fake, 1), visibility: 'confidential', transparency: 'transparent' });
  assert.equal(ok.body.visibility, 'confidential');
}));

test('recurrence: RRULE/EXRULE/RDATE/EXDATE lines only, no DTSTART, a zone on the start', () => withFake({}, async (fake, token) => {
  const zoned = { start: { dateTime: '2027-01-04T09:00:00Z', timeZone: 'UTC' }, end: { dateTime: '2027-01-04T10:00:00Z', timeZone: 'UTC' } };
  assert.equal((await insert(fake, token, { ...zoned, recurrence: ['DTSTART:20270104T090000Z', 'RRULE:FREQ=DAILY'] })).status, 400);
  assert.equal((await insert(fake, token, { ...zoned, recurrence: ['RRULE:FREQ=SOMETIMES'] })).status, 400);
  assert.equal((await insert(fake, token, { ...zoned, recurrence: [] })).status, 400);
  assert.equal((await insert(fake, token, { start: { dateTime: '2027-01-04T09:00:00Z' }, end: { dateTime: '2027-01-04T10:00:00Z' },
    recurrence: ['RRULE:FREQ=DAILY'] })).status, 400);
  assert.equal((await insert(fake, token, { ...zoned, recurrence: ['RRULE:FREQ=DAILY;COUNT=2', 'EXDATE:20270105T090000Z'] })).status, 200);
}));

test('extended properties: name <= 44, value <= 1024 characters', () => withFake({}, async (fake, token) => {
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), extendedProperties: { private: { ['k'.repeat(45)]: 'v' } } })).status, 400);
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), extendedProperties: { private: { k: 'v'.repeat(1025) } } })).status, 400);
}));

test('reminders: default and overrides together is 400; at most 5 overrides', () => withFake({}, async (fake, token) => {
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), reminders: { useDefault: true, overrides: [{ method: 'popup', minutes: 5 }] } })).status, 400);
  const six = Array.from({ length: 6 }, (_, i) => ({ method: 'popup', minutes: i }));
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), reminders: { useDefault: false, overrides: six } })).status, 400);
}));

test('instance fields on insert are 400; a new event cannot be cancelled', () => withFake({}, async (fake, token) => {
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), recurringEventId: 'abcdefgh' })).status, 400);
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), status: 'cancelled' })).status, 400);
}));

test('server fields a client sends are ignored, not stored', () => withFake({}, async (fake, token) => {
  const r = await insert(fake, token, { ...timedEvent(fake, 1), etag: '"1"', htmlLink: 'https://evil.example/', created: '2000-01-01T00:00:00Z' });
  assert.equal(r.status, 200);
  assert.notEqual(r.body.etag, '"1"');
  assert.notEqual(r.body.htmlLink, 'https://evil.example/');
}));

test('bodies above maxBodyBytes are 413', () => withFake({ maxBodyBytes: 2048 }, async (fake, token) => {
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), description: 'x'.repeat(4096) })).status, 413);
}));

test('methods the fake does not implement answer 501, not a fake success', () => withFake({}, async (fake, token) => {
  assert.equal((await api(fake, token, 'POST', `${events()}/quickAdd`, { query: { text: 'lunch' } })).status, 501);
}));

test('impossible dates in event times are 400', () => withFake({}, async (fake, token) => {
  assert.equal((await insert(fake, token, { start: { dateTime: '2027-02-30T09:00:00Z' }, end: { dateTime: '2027-03-02T10:00:00Z' } })).status, 400);
  assert.equal((await insert(fake, token, { start: { dateTime: '2027-02-30T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-03-02T10:00:00', timeZone: 'UTC' } })).status, 400);
}));

test('recurrence: an unknown TZID, COUNT=0, an end without zone are 400 (not a crash)', () => withFake({}, async (fake, token) => {
  const zoned = { start: { dateTime: '2027-01-04T09:00:00Z', timeZone: 'UTC' }, end: { dateTime: '2027-01-04T10:00:00Z', timeZone: 'UTC' } };
  assert.equal((await insert(fake, token, { ...zoned, recurrence: ['RRULE:FREQ=DAILY', 'EXDATE;TZID=Mars/Olympus:20270105T090000'] })).status, 400);
  assert.equal((await insert(fake, token, { ...zoned, recurrence: ['RRULE:FREQ=DAILY;COUNT=0'] })).status, 400);
  assert.equal((await insert(fake, token, { ...zoned, end: { dateTime: '2027-01-04T10:00:00Z' }, recurrence: ['RRULE:FREQ=DAILY'] })).status, 400);
}));

test('attendees: responseStatus must be Google\'s; organizer and self are Google\'s to say', () => withFake({}, async (fake, token) => {
  assert.equal((await insert(fake, token, { ...timedEvent(fake, 1), attendees: [{ email: 'x@example.com', responseStatus: 'maybe' }] })).status, 400);
  const r = await insert(fake, token, { ...timedEvent(fake, 1), attendees: [{ email: 'x@example.com', self: true, organizer: true }] });
  assert.deepEqual(r.body.attendees, [{ email: 'x@example.com' }]);
}));

test('a 304 carries the ETag', () => withFake({}, async (fake, token) => {
  const created = (await insert(fake, token, timedEvent(fake, 1))).body;
  const r = await api(fake, token, 'GET', `${events()}/${created.id}`, { headers: { 'If-None-Match': created.etag } });
  assert.equal(r.headers.get('etag'), created.etag);
}));

test('a path that is not a path, and a bad percent escape, are 400 or 404, never a crash', () => withFake({}, async (fake, token) => {
  const r = await api(fake, token, 'GET', `${events('%E0%A4%A')}`);
  assert.ok([400, 404].includes(r.status));
}));

test('a calendar shared read-only: listed with accessRole reader, readable, writes 403 requiredAccessLevel', () => withFake({}, async (fake, token) => {
  fake.control.addUser({ email: 'bob@example.com' });
  const shared = fake.control.addCalendar('bob@example.com', { summary: 'Bob' }).id;
  fake.control.userCreatesEvent(shared, timedEvent(fake, 1));
  fake.control.share(shared, { user: USER, role: 'reader' });
  const list = await api(fake, token, 'GET', 'calendar/v3/users/me/calendarList');
  assert.equal(list.body.items.find((c) => c.id === shared).accessRole, 'reader');
  const events = await api(fake, token, 'GET', `calendar/v3/calendars/${encodeURIComponent(shared)}/events`);
  assert.equal(events.status, 200);
  assert.equal(events.body.accessRole, 'reader');
  const r = await api(fake, token, 'POST', `calendar/v3/calendars/${encodeURIComponent(shared)}/events`, { body: timedEvent(fake, 2) });
  assert.equal(r.status, 403);
  assert.equal(reason(r), 'requiredAccessLevel');
  fake.control.share(shared, { user: USER, role: 'writer' });
  assert.equal((await api(fake, token, 'POST', `calendar/v3/calendars/${encodeURIComponent(shared)}/events`, { body: timedEvent(fake, 2) })).status, 200);
}));

test('status events (out of office, focus time, working location): API clients create them only on a Workspace user\'s primary calendar', () =>
  withFake({}, async (fake, token) => {
    const oof = { ...timedEvent(fake, 3), eventType: 'outOfOffice', outOfOfficeProperties: { autoDeclineMode: 'declineNone' } };
    const created = await insert(fake, token, oof);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.eventType, 'outOfOffice');
    // all day: refused
    assert.equal((await insert(fake, token, { ...oof, start: { date: '2026-06-03' }, end: { date: '2026-06-04' } })).status, 400);
    // a secondary calendar of the same user: refused
    const team = fake.control.addCalendar(USER, { summary: 'Team' }).id;
    const onTeam = await api(fake, token, 'POST', events(team), { body: oof });
    assert.equal(onTeam.status, 400);
    assert.match(onTeam.body.error.message, /primary calendar of a Google Workspace user/);
    // birthdays and events from Gmail are Google's own
    assert.equal((await insert(fake, token, { ...timedEvent(fake, 4), eventType: 'birthday' })).status, 400);
  }));

test('status events: a consumer account (no hosted domain) cannot create them at all', () =>
  withFake({}, async (fake) => {
    fake.control.addUser({ email: 'pat@gmail.com' });
    const token = fake.control.issueTokens({ user: 'pat@gmail.com', clientId: CLIENT.clientId, scopes: [SCOPES.events] }).access_token;
    const r = await api(fake, token, 'POST', events('pat@gmail.com'), { body: { ...timedEvent(fake, 3), eventType: 'focusTime' } });
    assert.equal(r.status, 400);
  }));
