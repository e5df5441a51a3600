// Inputs no honest client sends, and the rules a review found no test for: each answered with a
// clear 4xx (never a crash of the fake: stopFake fails on any "fake crashed" violation), and each
// rule failing a test without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { api, CLIENT, code, dailySeries, deltaRound, OTHER, startFake, stopFake, timedEvent, USER, window } from './helpers.mjs';
import { httpsReceiver } from '../../common/https-receiver.mjs';

test('malformed percent-escapes anywhere in a path are 400, also inside a batch', async () => {
  const { fake, token } = await startFake();
  for (const path of ['v1.0/me/events/%ZZ', 'v1.0/users/%E0%A4/calendars', 'v1.0/me/calendars/%ZZ/events', 'v1.0/subscriptions/%ZZ']) {
    const r = await api(fake, token, 'GET', path);
    assert.equal(r.status, 400, path);
  }
  const b = await api(fake, token, 'POST', 'v1.0/$batch', { body: { requests: [{ id: '1', method: 'GET', url: '/me/events/%ZZ' }] } });
  assert.equal(b.status, 200);
  assert.equal(b.body.responses[0].status, 400);
  await stopFake(fake);
});

test('a raw request target that is no URL is 400', async () => {
  const { fake } = await startFake();
  const { hostname, port } = new URL(fake.url);
  const status = await new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path: 'http://%', method: 'GET' }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 400);
  await stopFake(fake);
});

test('$batch: a method that is not a string is 400; only POST; the outer body must be JSON', async () => {
  const { fake, token } = await startFake();
  assert.equal((await api(fake, token, 'POST', 'v1.0/$batch', { body: { requests: [{ id: '1', method: ['GET'], url: '/me/calendars' }] } })).status, 400);
  assert.equal((await api(fake, token, 'PUT', 'v1.0/$batch', { body: { requests: [] } })).status, 405);
  const text = await api(fake, token, 'POST', 'v1.0/$batch', { rawBody: '{"requests":[]}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
  await stopFake(fake);
});

test('the control interface refuses junk clocks, faults and switches with 400, and the fake keeps working', async () => {
  const { fake, token } = await startFake();
  assert.throws(() => fake.control.setClock({ now: 'garbage' }), /clock/);
  assert.throws(() => fake.control.setClock({ advanceMs: '5' }), /clock/);
  assert.throws(() => fake.control.setFaults([{ status: 99, code: 'X' }]), /status/);
  assert.throws(() => fake.control.setFaults([{ status: 503, rate: 2 }]), /rate/);
  assert.throws(() => fake.control.setOptions({ defaultPageSize: 0 }), /at least 1/);
  assert.throws(() => fake.control.setOptions({ maxConcurrentPerMailbox: 'x' }), /number/);
  assert.throws(() => fake.control.setOptions({ expiredDeltaAnswer: 'nope' }), /expiredDeltaAnswer/);
  assert.equal((await api(fake, token, 'GET', 'v1.0/me/events/nope')).status, 404);
  await stopFake(fake);
});

test('windows far from any calendar, and occurrence ids far from their series, are refused at once', async () => {
  const { fake, token, calendarId } = await startFake();
  const series = dailySeries(fake, 3);
  delete series.recurrence.range.numberOfOccurrences;
  series.recurrence.range.type = 'noEnd';
  const master = fake.control.userCreatesEvent(calendarId, series);
  const started = Date.now();
  const far = await api(fake, token, 'GET', 'v1.0/me/calendarView/delta', { query: { startDateTime: '9990-01-01T00:00:00Z', endDateTime: '9990-01-02T00:00:00Z' } });
  assert.equal(far.status, 400);
  const farId = `AAMkAOcc${Buffer.from(`${master.id}|8639999999999999`).toString('base64url')}`;
  assert.equal((await api(fake, token, 'GET', `v1.0/me/events/${farId}`)).status, 404);
  assert.ok(Date.now() - started < 2000, 'answered without expanding the series for years');
  const impossible = await api(fake, token, 'GET', 'v1.0/me/calendarView/delta', { query: { startDateTime: '2026-02-30T00:00:00Z', endDateTime: '2026-03-05T00:00:00Z' } });
  assert.equal(impossible.status, 400, 'February 30 is not a day');
  await stopFake(fake);
});

test('delta takes only the window or one token: other options in any spelling are 400', async () => {
  const { fake, token } = await startFake();
  for (const extra of [{ $skip: '1' }, { $count: 'true' }, { $format: 'json' }, { $Select: 'subject' }, { select: 'subject' }, { foo: '1' }]) {
    const r = await api(fake, token, 'GET', 'v1.0/me/calendarView/delta', { query: { ...window(fake), ...extra } });
    assert.equal(r.status, 400, JSON.stringify(extra));
    assert.equal(code(r), 'ErrorInvalidUrlQuery');
  }
  await stopFake(fake);
});

test('a delta link belongs to its user: another user who can read the calendar cannot replay it', async () => {
  const { fake, token, calendarId } = await startFake();
  fake.control.share(calendarId, { user: OTHER, role: 'read' });
  const first = await deltaRound(fake, token, { query: window(fake), path: `v1.0/me/calendars/${calendarId}/calendarView/delta` });
  const bobs = fake.control.issueTokens({ user: OTHER, clientId: CLIENT.clientId, scopes: ['Calendars.Read'] }).access_token;
  assert.equal((await api(fake, bobs, 'GET', first.deltaLink)).status, 400);
  await stopFake(fake);
});

test('a skip token is not a delta token', async () => {
  const { fake, token, calendarId } = await startFake({ defaultPageSize: 1 });
  for (let i = 1; i <= 2; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i));
  const first = await api(fake, token, 'GET', 'v1.0/me/calendarView/delta', { query: window(fake) });
  const skip = new URL(first.body['@odata.nextLink']).searchParams.get('$skiptoken');
  const r = await api(fake, token, 'GET', 'v1.0/me/calendarView/delta', { query: { $deltatoken: skip } });
  assert.equal(r.status, 400);
  await stopFake(fake);
});

test('the page size is capped at maxPageSize', async () => {
  const { fake, token, calendarId } = await startFake({ maxPageSize: 2 });
  for (let i = 1; i <= 3; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i));
  const round = await deltaRound(fake, token, { query: window(fake), headers: { Prefer: 'odata.maxpagesize=50' } });
  assert.deepEqual(round.pages.map((p) => p.value.length), [2, 1]);
  await stopFake(fake);
});

test('delta items come in an order of their own when shuffled', async () => {
  const order = async (shuffle) => {
    const { fake, token, calendarId } = await startFake({ shuffle, seed: 4 });
    for (let i = 1; i <= 8; i++) fake.control.userCreatesEvent(calendarId, timedEvent(fake, i, { subject: `e${i}` }));
    const round = await deltaRound(fake, token, { query: window(fake) });
    await stopFake(fake);
    return round.items.map((e) => e.subject);
  };
  const plain = await order(false);
  assert.deepEqual(plain, ['e1', 'e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8']);
  const shuffled = await order(true);
  assert.notDeepEqual(shuffled, plain);
  assert.deepEqual([...shuffled].sort(), plain);
});

test('a query parameter given twice is 400', async () => {
  const { fake, token } = await startFake();
  const r = await api(fake, token, 'GET', `v1.0/me/events?$top=1&$top=2`);
  assert.equal(r.status, 400);
  await stopFake(fake);
});

test('transactionId deduplicates within one mailbox only', async () => {
  const { fake, token } = await startFake();
  const bobs = fake.control.issueTokens({ user: OTHER, clientId: CLIENT.clientId, scopes: ['Calendars.ReadWrite'] }).access_token;
  const body = timedEvent(fake, 1, { transactionId: 'same-key' });
  const a = await api(fake, token, 'POST', 'v1.0/me/events', { body });
  const b = await api(fake, bobs, 'POST', 'v1.0/me/events', { body });
  assert.equal(b.status, 201);
  assert.notEqual(b.body.id, a.body.id);
  await stopFake(fake);
});

async function receiver(path = '/hook') {
  const r = await httpsReceiver(path);
  r.answer = (req) => {
    const token = new URL(req.url, 'https://x').searchParams.get('validationToken');
    return token !== null ? { status: 200, contentType: 'text/plain', body: token } : { status: 202 };
  };
  return r;
}
const subscription = (fake, rx, extra = {}) => ({ changeType: 'created,updated,deleted', notificationUrl: rx.url, resource: '/me/events',
  expirationDateTime: new Date(fake.clock.now() + 86400000).toISOString(), clientState: 's', ...extra });

test('subscriptions: at most maxSubscriptionsPerMailbox; an inaccessible calendar is 404; no resource data', async () => {
  const rx = await receiver();
  const { fake, token } = await startFake({ deliveryCa: rx.ca, maxSubscriptionsPerMailbox: 2 });
  const bobsCalendar = fake.control.addCalendar(OTHER, { name: 'Bob' }).id;
  assert.equal((await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx, { resource: `/me/calendars/${bobsCalendar}/events` }) })).status, 404);
  assert.equal((await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx, { includeResourceData: true }) })).status, 400);
  assert.equal((await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx) })).status, 201);
  assert.equal((await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx) })).status, 201);
  const third = await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx) });
  assert.equal(third.status, 403);
  await stopFake(fake);
  await rx.close();
});

test('subscriptions: the lifecycle URL cannot be added by PATCH; a new notificationUrl is validated; query strings stay', async () => {
  const rx = await receiver();
  const { fake, token, calendarId } = await startFake({ deliveryCa: rx.ca });
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx, { notificationUrl: `${rx.url}?tenant=acme` }) })).body;
  const lifecycle = await api(fake, token, 'PATCH', `v1.0/subscriptions/${sub.id}`, {
    body: { expirationDateTime: new Date(fake.clock.now() + 3600000).toISOString(), lifecycleNotificationUrl: `${rx.url}/life` } });
  assert.equal(lifecycle.status, 400);
  assert.match(lifecycle.body.error.message, /lifecycleNotificationUrl/);
  assert.equal((await api(fake, token, 'PATCH', `v1.0/subscriptions/${sub.id}`, { body: { notificationUrl: 'http://127.0.0.1:9/x' } })).status, 400);
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  await fake.subscriptions.settle();
  const delivered = rx.requests.filter((q) => !q.url.includes('validationToken'));
  assert.equal(delivered.length, 1);
  assert.equal(delivered[0].url, '/hook?tenant=acme', 'the query string of notificationUrl is kept');
  await stopFake(fake);
  await rx.close();
});

test('subscriptions: a delivery not answered within the notification timeout fails; expired subscriptions stop delivering', async () => {
  const rx = await receiver();
  const { fake, token, calendarId } = await startFake({ deliveryCa: rx.ca, notificationTimeoutMs: 200, deliveryRetries: 0 });
  await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx) });
  const inner = rx.answer;
  rx.answer = async (req) => ({ ...(await inner(req)), delayMs: 600 });
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  await fake.subscriptions.settle();
  const state = await fake.control.state();
  assert.deepEqual(state.deliveries.map((d) => [d.ok, d.error]), [[false, 'timeout']]);
  rx.answer = inner;
  fake.control.setClock({ advanceMs: 2 * 86400000 });
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  await fake.subscriptions.settle();
  assert.equal((await fake.control.state()).deliveries.length, 1, 'nothing delivered for an expired subscription');
  assert.equal(USER, 'ada@contoso.example');
  await stopFake(fake);
  await rx.close();
});

test('more junk the control interface refuses: infinite or non-boolean clock values, fault fields, null, mistyped and negative switches', async () => {
  const { fake } = await startFake();
  assert.throws(() => fake.control.setClock({ advanceMs: Infinity }), /clock/);
  assert.throws(() => fake.control.setClock({ frozen: 'yes' }), /clock/);
  assert.throws(() => fake.control.setFaults([{ status: 418 }]), /code/);
  assert.throws(() => fake.control.setFaults([{ status: 503, times: -1 }]), /times/);
  assert.throws(() => fake.control.setFaults([{ status: 503, retryAfter: 'soon' }]), /retryAfter/);
  assert.throws(() => fake.control.setOptions({ shuffle: null }), /null/);
  assert.throws(() => fake.control.setOptions({ shuffle: 'yes' }), /boolean/);
  assert.throws(() => fake.control.setOptions({ latencyMs: -5 }), /from 0/);
  await stopFake(fake);
});

test('windows before 1900 are refused too', async () => {
  const { fake, token } = await startFake();
  const r = await api(fake, token, 'GET', 'v1.0/me/calendarView/delta', { query: { startDateTime: '1800-01-01T00:00:00Z', endDateTime: '1800-02-01T00:00:00Z' } });
  assert.equal(r.status, 400);
  await stopFake(fake);
});

test('$batch: a token the fake did not issue is 401 for the whole batch; a 424 has Graph\'s error shape', async () => {
  const { fake, token } = await startFake();
  const made = await api(fake, 'made-up', 'POST', 'v1.0/$batch', { body: { requests: [{ id: '1', method: 'GET', url: '/me/calendars' }] } });
  assert.equal(made.status, 401);
  const r = await api(fake, token, 'POST', 'v1.0/$batch', { body: { requests: [
    { id: 'a', method: 'GET', url: '/me/events/nope' }, { id: 'b', method: 'GET', url: '/me/calendars', dependsOn: ['a'] }] } });
  const failed = r.body.responses.find((x) => x.id === 'b');
  assert.equal(failed.status, 424);
  assert.equal(failed.body.error.code, 'FailedDependency');
  assert.match(failed.body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
  await stopFake(fake);
});

test('bodies: an Int32 out of range and impossible dates are 400 RequestBodyRead', async () => {
  const { fake, token } = await startFake();
  const big = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1, { reminderMinutesBeforeStart: 2 ** 31 }) });
  assert.equal(big.status, 400);
  assert.equal(code(big), 'RequestBodyRead');
  const series = dailySeries(fake, 2);
  series.recurrence.range.endDate = '2026-02-30';
  series.recurrence.range.type = 'endDate';
  delete series.recurrence.range.numberOfOccurrences;
  const date = await api(fake, token, 'POST', 'v1.0/me/events', { body: series });
  assert.equal(date.status, 400);
  assert.equal(code(date), 'RequestBodyRead');
  await stopFake(fake);
});

test('subscriptions: an unknown calendar or a bad escape in resource, a renewed URL that fails the handshake or is no URL', async () => {
  const rx = await receiver();
  const { fake, token } = await startFake({ deliveryCa: rx.ca });
  assert.equal((await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx, { resource: '/me/calendars/no-such-calendar/events' }) })).status, 404);
  assert.equal((await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx, { resource: '/users/%E0/events' }) })).status, 400);
  const expired = await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx, { expirationDateTime: '2026-02-30T00:00:00Z' }) });
  assert.equal(expired.status, 400, 'February 30 is no date');
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: subscription(fake, rx) })).body;
  const silent = await httpsReceiver('/silent');  // answers 200 without echoing the token
  fake.options.deliveryCa = [rx.ca, silent.ca].join('\n');
  const moved = await api(fake, token, 'PATCH', `v1.0/subscriptions/${sub.id}`, { body: { notificationUrl: silent.url } });
  assert.equal(moved.status, 400);
  assert.equal(code(moved), 'ValidationError');
  assert.equal((await api(fake, token, 'PATCH', `v1.0/subscriptions/${sub.id}`, { body: { notificationUrl: 'not a url' } })).status, 400);
  await stopFake(fake);
  await rx.close();
  await silent.close();
});
