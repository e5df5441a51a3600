// Rules of the fake that the other files do not reach: the switches' other positions, filters and
// orderings, instances' parameters, what EXDATE/RDATE/EXRULE do to an expansion, all-day series,
// and If-Match on an occurrence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { USER, api, events, listAll, startFake, stopFake, timedEvent } from './helpers.mjs';

async function withFake(options, body) {
  const { fake, token } = await startFake(options);
  try { await body(fake, token); } finally { await stopFake(fake); }
}
const series = (recurrence, extra = {}) => ({ summary: 's', start: { dateTime: '2027-01-04T09:00:00Z', timeZone: 'UTC' },
  end: { dateTime: '2027-01-04T10:00:00Z', timeZone: 'UTC' }, recurrence, ...extra });
const starts = (items) => items.map((x) => x.start.dateTime ?? x.start.date).sort();

test('cancelledOccurrencesInFullSync off: a cancelled occurrence needs showDeleted', () => withFake({ cancelledOccurrencesInFullSync: false, shortPages: false }, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, series(['RRULE:FREQ=DAILY;COUNT=3']));
  fake.control.userDeletesEvent(USER, `${master.id}_20270105T090000Z`);
  assert.equal((await listAll(fake, token)).items.filter((x) => x.status === 'cancelled').length, 0);
  assert.equal((await listAll(fake, token, { showDeleted: true })).items.filter((x) => x.status === 'cancelled').length, 1);
}));

test('syncTokenBoundToQuery off: a token works with another singleEvents', () => withFake({ syncTokenBoundToQuery: false }, async (fake, token) => {
  const { syncToken } = await listAll(fake, token, { singleEvents: true });
  assert.equal((await api(fake, token, 'GET', events(), { query: { syncToken } })).status, 200);
}));

test('eventTypes filters; orderBy=updated orders by modification', () => withFake({ shortPages: false }, async (fake, token) => {
  fake.control.setClock({ frozen: true });
  const a = fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  fake.control.setClock({ advanceMs: 1000 });
  const b = fake.control.userCreatesEvent(USER, { ...timedEvent(fake, 2), eventType: 'focusTime' });
  fake.control.setClock({ advanceMs: 1000 });
  fake.control.userEditsEvent(USER, a.id, { summary: 'edited last' });
  assert.deepEqual((await listAll(fake, token, { eventTypes: 'focusTime' })).items.map((x) => x.id), [b.id]);
  assert.deepEqual((await listAll(fake, token, { orderBy: 'updated' })).items.map((x) => x.id), [b.id, a.id]);
}));

test('iCalUID lists a series\' master with its exceptions', () => withFake({ shortPages: false }, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, series(['RRULE:FREQ=DAILY;COUNT=3']));
  fake.control.userEditsEvent(USER, `${master.id}_20270105T090000Z`, { summary: 'changed' });
  fake.control.userDeletesEvent(USER, `${master.id}_20270106T090000Z`);
  const { items } = await listAll(fake, token, { iCalUID: master.iCalUID, showDeleted: true });
  assert.deepEqual(items.map((x) => x.id).sort(), [master.id, `${master.id}_20270105T090000Z`, `${master.id}_20270106T090000Z`].sort());
}));

test('instances: paging, showDeleted, originalStart, a window', () => withFake({ shortPages: false }, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, series(['RRULE:FREQ=DAILY;COUNT=5']));
  fake.control.userDeletesEvent(USER, `${master.id}_20270106T090000Z`);
  const path = `${events()}/${master.id}/instances`;
  const paged = await listAll(fake, token, { maxResults: 2 }, path);
  assert.deepEqual(paged.pages.map((p) => p.items.length), [2, 2]);
  assert.equal(paged.syncToken, undefined, 'instances end without a sync token');
  assert.equal((await listAll(fake, token, { showDeleted: true }, path)).items.length, 5);
  const one = await listAll(fake, token, { originalStart: '2027-01-07T09:00:00Z' }, path);
  assert.deepEqual(one.items.map((x) => x.id), [`${master.id}_20270107T090000Z`]);
  const windowed = await listAll(fake, token, { timeMin: '2027-01-07T00:00:00Z', timeMax: '2027-01-09T00:00:00Z' }, path);
  assert.deepEqual(starts(windowed.items), ['2027-01-07T09:00:00Z', '2027-01-08T09:00:00Z']);
}));

test('EXDATE, RDATE and EXRULE shape the expansion', () => withFake({ shortPages: false }, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, series(['RRULE:FREQ=DAILY;COUNT=4', 'EXDATE:20270105T090000Z',
    'RDATE:20270110T090000Z', 'EXRULE:FREQ=DAILY;INTERVAL=3;COUNT=1']));
  const { items } = await listAll(fake, token, {}, `${events()}/${master.id}/instances`);
  // 4th..7th minus the 5th (EXDATE) and the 4th (EXRULE's first), plus the 10th
  assert.deepEqual(starts(items), ['2027-01-06T09:00:00Z', '2027-01-07T09:00:00Z', '2027-01-10T09:00:00Z']);
}));

test('an all-day series: instance ids end in the date; a cancelled one is sparse', () => withFake({ shortPages: false }, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, { summary: 'days', start: { date: '2027-01-04' }, end: { date: '2027-01-05' },
    recurrence: ['RRULE:FREQ=DAILY;COUNT=3'] });
  const { items } = await listAll(fake, token, {}, `${events()}/${master.id}/instances`);
  assert.deepEqual(items.map((x) => x.id), ['20270104', '20270105', '20270106'].map((d) => `${master.id}_${d}`));
  assert.deepEqual(items[1].originalStartTime, { date: '2027-01-05' });
  assert.equal((await api(fake, token, 'DELETE', `${events()}/${master.id}_20270105`)).status, 204);
  const cancelled = (await listAll(fake, token)).items.find((x) => x.status === 'cancelled');
  assert.deepEqual(cancelled.originalStartTime, { date: '2027-01-05' });
}));

test('If-Match on an occurrence: its own ETag', () => withFake({}, async (fake, token) => {
  const master = fake.control.userCreatesEvent(USER, series(['RRULE:FREQ=DAILY;COUNT=3']));
  const id = `${master.id}_20270105T090000Z`;
  const instance = (await api(fake, token, 'GET', `${events()}/${id}`)).body;
  assert.equal((await api(fake, token, 'PATCH', `${events()}/${id}`, { body: { summary: 'x' }, headers: { 'If-Match': '"1"' } })).status, 412);
  assert.equal((await api(fake, token, 'PATCH', `${events()}/${id}`, { body: { summary: 'x' }, headers: { 'If-Match': instance.etag } })).status, 200);
  assert.equal((await api(fake, token, 'PATCH', `${events()}/${id}`, { body: { summary: 'y' }, headers: { 'If-Match': '*' } })).status, 200);
}));

test('sendUpdates must be all, externalOnly or none', () => withFake({}, async (fake, token) => {
  assert.equal((await api(fake, token, 'POST', events(), { query: { sendUpdates: 'some' }, body: timedEvent(fake, 1) })).status, 400);
  assert.equal((await api(fake, token, 'POST', events(), { query: { sendUpdates: 'none' }, body: timedEvent(fake, 1) })).status, 200);
}));
