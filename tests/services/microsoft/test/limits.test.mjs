// Throttling, injected faults and $batch (CONTRACT.md §2 "Errors/throttling/batch").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, code, startFake, stopFake, timedEvent, USER } from './helpers.mjs';

const batch = (fake, token, requests) => api(fake, token, 'POST', 'v1.0/$batch', { body: { requests } });

test('429 TooManyRequests with a fractional Retry-After past the per-mailbox request budget', async () => {
  const { fake, token } = await startFake({ mailboxRequestsPer10Min: 3 });
  fake.control.setClock({ frozen: true });
  for (let i = 0; i < 3; i++) assert.equal((await api(fake, token, 'GET', 'v1.0/me/calendars')).status, 200);
  const r = await api(fake, token, 'GET', 'v1.0/me/calendars');
  assert.equal(r.status, 429);
  assert.equal(code(r), 'TooManyRequests');
  assert.equal(r.headers.get('retry-after'), '2.128');
  fake.control.setClock({ advanceMs: 600000 });
  assert.equal((await api(fake, token, 'GET', 'v1.0/me/calendars')).status, 200, 'the next 10-minute window is open again');
  await stopFake(fake);
});

test('a 429 may come without Retry-After', async () => {
  const { fake, token } = await startFake({ mailboxRequestsPer10Min: 1, retryAfterSeconds: null });
  await api(fake, token, 'GET', 'v1.0/me/calendars');
  const r = await api(fake, token, 'GET', 'v1.0/me/calendars');
  assert.equal(r.status, 429);
  assert.equal(r.headers.get('retry-after'), null);
  await stopFake(fake);
});

test('at most 4 requests per mailbox at once; the fifth is throttled', async () => {
  const { fake, token } = await startFake({ latencyMs: 200 });
  const results = await Promise.all(Array.from({ length: 6 }, () => api(fake, token, 'GET', 'v1.0/me/calendars')));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  assert.equal((await api(fake, token, 'GET', 'v1.0/me/calendars')).status, 200, 'free again once they answered');
  await stopFake(fake);
});

test('scripted faults: the next N requests of a route fail as told, others pass', async () => {
  const { fake, token } = await startFake();
  fake.control.setFaults([{ route: 'events.create', status: 503, times: 2 }]);
  assert.equal((await api(fake, token, 'GET', 'v1.0/me/calendars')).status, 200);
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) });
  assert.equal(a.status, 503);
  assert.equal(a.headers.get('retry-after'), '2.128');
  assert.equal((await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) })).status, 503);
  assert.equal((await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) })).status, 201);
  await stopFake(fake);
});

test('rate faults repeat run after run with the same seed', async () => {
  const run = async () => {
    const { fake, token } = await startFake({ seed: 42 });
    fake.control.setFaults([{ status: 500, rate: 0.5 }]);
    const out = [];
    for (let i = 0; i < 12; i++) out.push((await api(fake, token, 'GET', 'v1.0/me/calendars')).status);
    await stopFake(fake);
    return out;
  };
  const first = await run();
  assert.deepEqual(await run(), first);
  assert.ok(first.includes(500) && first.includes(200));
});

test('$batch runs up to 20 requests and answers each with its own status', async () => {
  const { fake, token } = await startFake();
  const existing = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1) });
  const r = await batch(fake, token, [
    { id: '1', method: 'POST', url: '/me/events', headers: { 'Content-Type': 'application/json' }, body: timedEvent(fake, 2) },
    { id: '2', method: 'GET', url: `/me/events/${existing.body.id}` },
    { id: '3', method: 'GET', url: '/me/events/nope' },
    { id: '4', method: 'DELETE', url: `/me/events/${existing.body.id}`, dependsOn: ['2'] },
  ]);
  assert.equal(r.status, 200, r.text);
  const byId = Object.fromEntries(r.body.responses.map((x) => [x.id, x]));
  assert.equal(byId['1'].status, 201);
  assert.equal(byId['2'].status, 200);
  assert.equal(byId['2'].body.id, existing.body.id);
  assert.equal(byId['3'].status, 404);
  assert.equal(byId['3'].body.error.code, 'ErrorItemNotFound');
  assert.equal(byId['4'].status, 204);
  await stopFake(fake);
});

test('$batch: a request whose dependency failed answers 424', async () => {
  const { fake, token } = await startFake();
  const r = await batch(fake, token, [
    { id: 'a', method: 'GET', url: '/me/events/nope' },
    { id: 'b', method: 'GET', url: '/me/calendars', dependsOn: ['a'] },
  ]);
  const byId = Object.fromEntries(r.body.responses.map((x) => [x.id, x]));
  assert.equal(byId.b.status, 424);
  await stopFake(fake);
});

test('$batch envelope rules: at most 20, unique ids, a body needs Content-Type, relative urls', async () => {
  const { fake, token } = await startFake();
  const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me/calendars' }));
  assert.equal((await batch(fake, token, many)).status, 400);
  assert.equal((await batch(fake, token, [{ id: '1', method: 'GET', url: '/me/calendars' }, { id: '1', method: 'GET', url: '/me/calendars' }])).status, 400);
  assert.equal((await batch(fake, token, [{ id: '1', method: 'POST', url: '/me/events', body: timedEvent(fake, 1) }])).status, 400);
  assert.equal((await batch(fake, token, [{ id: '1', method: 'GET', url: `${fake.url}v1.0/me/calendars` }])).status, 400);
  assert.equal((await batch(fake, token, [{ id: '1', method: 'GET', url: '/me/calendars', dependsOn: ['9'] }])).status, 400);
  await stopFake(fake);
});

test('$batch: each request meets throttling on its own; at most batchParallelism run at once', async () => {
  const { fake, token } = await startFake({ latencyMs: 50, batchParallelism: 4, maxConcurrentPerMailbox: 4 });
  const requests = Array.from({ length: 12 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me/calendars' }));
  const r = await batch(fake, token, requests);
  assert.deepEqual(r.body.responses.map((x) => x.status), Array(12).fill(200), 'four at a time stay within the mailbox limit');
  fake.control.setOptions({ batchParallelism: 8 });
  const crowded = await batch(fake, token, requests);
  assert.ok(crowded.body.responses.some((x) => x.status === 429), 'eight at once meet the 4-concurrent limit per request');
  await stopFake(fake);
});

test('$batch responses come in an order of their own when shuffled', async () => {
  const { fake, token } = await startFake({ shuffle: true, seed: 5 });
  const requests = Array.from({ length: 10 }, (_, i) => ({ id: String(i), method: 'GET', url: '/me/calendars' }));
  const r = await batch(fake, token, requests);
  assert.notDeepEqual(r.body.responses.map((x) => x.id), requests.map((x) => x.id));
  assert.deepEqual(r.body.responses.map((x) => x.id).sort(), requests.map((x) => x.id).sort());
  await stopFake(fake);
});

test('$batch needs a token the fake issued; each request carries the outer Authorization', async () => {
  const { fake, token } = await startFake();
  const none = await batch(fake, null, [{ id: '1', method: 'GET', url: '/me/calendars' }]);
  assert.equal(none.status, 401);
  assert.equal(code(none), 'InvalidAuthenticationToken');
  const ok = await batch(fake, token, [{ id: '1', method: 'GET', url: '/me/calendars' }]);
  assert.equal(ok.body.responses[0].status, 200);
  assert.equal(USER, 'ada@contoso.example');
  await stopFake(fake);
});
