// The fake's push rules (CONTRACT.md §1 "Push (watch)", push.mjs): events.watch validation, the
// sync message before the watch answer, exists messages on every change, message numbers,
// delivery retries, channels.stop and who may call it, expiry, one calendar per channel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT, SCOPES, USER, api, events, httpsReceiver, reason, startFake, stopFake, timedEvent } from './helpers.mjs';

const BOB = 'bob@example.com';

/// Runs `fn({fake, token, receiver, watch, stop})` with a fresh fake whose deliveries go to an HTTPS receiver.
async function withPush(options, fn) {
  const receiver = await httpsReceiver();
  const { fake, token } = await startFake({ deliveryCa: receiver.ca, ...options });
  const watch = (body, { calendarId = 'primary', as = token } = {}) =>
    api(fake, as, 'POST', `${events(calendarId)}/watch`, { body: { type: 'web_hook', address: receiver.url, ...body } });
  const stop = (body, as = token) => api(fake, as, 'POST', 'calendar/v3/channels/stop', { body });
  try {
    await fn({ fake, token, receiver, watch, stop });
  } finally {
    try { await stopFake(fake); } finally { await receiver.close(); }
  }
}

const location = (r) => r.body?.error?.errors?.[0]?.location;
const numbers = (receiver) => receiver.requests.map((r) => Number(r.headers['x-goog-message-number']));

// watch: id is required
test('watch without id -> 400 required (id)', () => withPush({}, async ({ watch, receiver }) => {
  const r = await watch({});
  assert.equal(r.status, 400);
  assert.equal(reason(r), 'required');
  assert.equal(location(r), 'id');
  assert.equal(receiver.requests.length, 0);
}));

// watch: id at most 64 characters
test('watch with a 65-character id -> 400 invalid; 64 characters pass', () => withPush({}, async ({ watch }) => {
  const long = await watch({ id: 'a'.repeat(65) });
  assert.equal(long.status, 400);
  assert.equal(reason(long), 'invalid');
  assert.equal(location(long), 'id');
  assert.equal((await watch({ id: 'b'.repeat(64) })).status, 200);
}));

// watch: id only of [A-Za-z0-9-_+/=]
test('watch with characters outside [A-Za-z0-9-_+/=] in the id -> 400 invalid', () => withPush({}, async ({ watch }) => {
  for (const id of ['chan 1', 'chan#1', 'chän-1', 'chan.1']) {
    const r = await watch({ id });
    assert.equal(r.status, 400, id);
    assert.equal(reason(r), 'invalid', id);
  }
  assert.equal((await watch({ id: 'Az09-_+/=' })).status, 200);
}));

// watch: a channel id is never used twice, not even after channels.stop
test('watch with a reused channel id -> 400 channelIdNotUnique, also after stop', () => withPush({}, async ({ watch, stop }) => {
  const first = await watch({ id: 'chan-reused' });
  assert.equal(first.status, 200);
  const again = await watch({ id: 'chan-reused' });
  assert.equal(again.status, 400);
  assert.equal(reason(again), 'channelIdNotUnique');
  assert.equal((await stop({ id: 'chan-reused', resourceId: first.body.resourceId })).status, 204);
  const afterStop = await watch({ id: 'chan-reused' });
  assert.equal(afterStop.status, 400);
  assert.equal(reason(afterStop), 'channelIdNotUnique');
}));

// watch: type must be web_hook (or webhook)
test('watch type: web_hook and webhook accepted, anything else -> 400', () => withPush({}, async ({ watch }) => {
  assert.equal((await watch({ id: 'chan-t1', type: 'web_hook' })).status, 200);
  assert.equal((await watch({ id: 'chan-t2', type: 'webhook' })).status, 200);
  for (const [id, type] of [['chan-t3', 'email'], ['chan-t4', 'WEB_HOOK'], ['chan-t5', undefined]]) {
    const r = await watch({ id, type });
    assert.equal(r.status, 400, String(type));
    assert.equal(location(r), 'type', String(type));
  }
}));

// watch: the address must be HTTPS
test('watch with an http address -> 400 push.webhookUrlNotHttps', () => withPush({}, async ({ watch, receiver }) => {
  const r = await watch({ id: 'chan-http', address: receiver.url.replace('https:', 'http:') });
  assert.equal(r.status, 400);
  assert.equal(reason(r), 'push.webhookUrlNotHttps');
  assert.equal(receiver.requests.length, 0);
}));

// watch: token at most 256 characters
test('watch with a 257-character token -> 400 invalid; 256 pass', () => withPush({}, async ({ watch }) => {
  const r = await watch({ id: 'chan-tok1', token: 'x'.repeat(257) });
  assert.equal(r.status, 400);
  assert.equal(reason(r), 'invalid');
  assert.equal(location(r), 'token');
  const ok = await watch({ id: 'chan-tok2', token: 'x'.repeat(256) });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.token, 'x'.repeat(256));
}));

// watch: payloads are not supported for events
test('watch with payload: true -> 400 invalid', () => withPush({}, async ({ watch }) => {
  const r = await watch({ id: 'chan-payload', payload: true });
  assert.equal(r.status, 400);
  assert.equal(reason(r), 'invalid');
  assert.equal(location(r), 'payload');
}));

// watch: an expiration in the past is refused
test('watch with an expiration in the past -> 400 invalid', () => withPush({}, async ({ fake, watch }) => {
  for (const [id, expiration] of [['chan-past1', fake.clock.now() - 1000], ['chan-past2', String(fake.clock.now() - 1000)]]) {
    const r = await watch({ id, expiration });
    assert.equal(r.status, 400, id);
    assert.equal(reason(r), 'invalid', id);
    assert.equal(location(r), 'expiration', id);
  }
}));

// watch: the server shortens the expiration to maxChannelLifetimeMs
test('watch expiration is capped at maxChannelLifetimeMs', () => withPush({ maxChannelLifetimeMs: 60000 }, async ({ fake, watch }) => {
  fake.control.setClock({ frozen: true });
  const now = fake.clock.now();
  assert.equal((await watch({ id: 'chan-cap1', expiration: now + 3600000 })).body.expiration, String(now + 60000));
  assert.equal((await watch({ id: 'chan-cap2' })).body.expiration, String(now + 60000));
  assert.equal((await watch({ id: 'chan-cap3', expiration: now + 30000 })).body.expiration, String(now + 30000));
}));

// watch: the answer is a Channel with expiration as an int64 string
test('watch answers a Channel whose expiration is a string', () => withPush({}, async ({ fake, watch }) => {
  const expiration = fake.clock.now() + 3600000;
  const r = await watch({ id: 'chan-str', expiration, token: 'tok' });
  assert.equal(r.status, 200);
  assert.equal(r.body.kind, 'api#channel');
  assert.equal(r.body.id, 'chan-str');
  assert.equal(r.body.token, 'tok');
  assert.equal(typeof r.body.resourceId, 'string');
  assert.equal(typeof r.body.resourceUri, 'string');
  assert.equal(typeof r.body.expiration, 'string');
  assert.equal(r.body.expiration, String(expiration));
}));

// delivery: the sync message (number 1, every X-Goog-* header, empty POST) arrives before the watch answer
test('sync message: number 1 with all headers arrives before the watch answer', () => withPush({}, async ({ watch, receiver }) => {
  const r = await watch({ id: 'chan-sync', token: 'target=calgate' });
  assert.equal(r.status, 200);
  assert.equal(receiver.requests.length, 1, 'the sync message arrived before the watch answer');
  const m = receiver.requests[0];
  assert.equal(m.method, 'POST');
  assert.equal(m.url, new URL(receiver.url).pathname);
  assert.equal(m.body, '');
  assert.match(m.headers['user-agent'], /^APIs-Google\b/);
  assert.equal(m.headers['x-goog-channel-id'], 'chan-sync');
  assert.equal(m.headers['x-goog-message-number'], '1');
  assert.equal(m.headers['x-goog-resource-state'], 'sync');
  assert.equal(m.headers['x-goog-resource-id'], r.body.resourceId);
  assert.equal(m.headers['x-goog-resource-uri'], r.body.resourceUri);
  assert.equal(m.headers['x-goog-channel-token'], 'target=calgate');
  assert.equal(m.headers['x-goog-channel-expiration'], new Date(Number(r.body.expiration)).toUTCString());
  assert.match(m.headers['x-goog-channel-expiration'], /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
}));

// delivery: X-Goog-Channel-Token only when the channel has a token
test('no X-Goog-Channel-Token header without a token', () => withPush({}, async ({ watch, receiver }) => {
  assert.equal((await watch({ id: 'chan-notoken' })).status, 200);
  assert.equal(receiver.requests.length, 1);
  assert.equal('x-goog-channel-token' in receiver.requests[0].headers, false);
}));

// delivery: an "exists" message on every create, edit and delete by the user
test('exists messages on create, edit and delete', () => withPush({}, async ({ fake, watch, receiver }) => {
  const w = await watch({ id: 'chan-exists', token: 't1' });
  const created = fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  await fake.push.settle();
  fake.control.userEditsEvent(USER, created.id, { summary: 'edited' });
  await fake.push.settle();
  fake.control.userDeletesEvent(USER, created.id);
  await fake.push.settle();
  assert.deepEqual(receiver.requests.map((m) => m.headers['x-goog-resource-state']), ['sync', 'exists', 'exists', 'exists']);
  for (const m of receiver.requests.slice(1)) {
    assert.equal(m.method, 'POST');
    assert.equal(m.body, '');
    assert.equal(m.headers['x-goog-channel-id'], 'chan-exists');
    assert.equal(m.headers['x-goog-resource-id'], w.body.resourceId);
    assert.equal(m.headers['x-goog-resource-uri'], w.body.resourceUri);
    assert.equal(m.headers['x-goog-channel-token'], 't1');
  }
}));

// message numbers: consecutive when messageNumberGaps is off
test('messageNumberGaps false: message numbers are 1, 2, 3, ...', () => withPush({ messageNumberGaps: false }, async ({ fake, watch, receiver }) => {
  await watch({ id: 'chan-seq' });
  for (let i = 0; i < 10; i++) {
    fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
    await fake.push.settle();
  }
  assert.deepEqual(numbers(receiver), Array.from({ length: 11 }, (_, i) => i + 1));
}));

// message numbers: strictly increasing and not sequential (default messageNumberGaps)
test('messageNumberGaps (default): numbers strictly increase and jump', () => withPush({}, async ({ fake, watch, receiver }) => {
  await watch({ id: 'chan-gaps' });
  for (let i = 0; i < 30; i++) {
    fake.control.userCreatesEvent(USER, timedEvent(fake, i + 1));
    await fake.push.settle();
  }
  const n = numbers(receiver);
  assert.equal(n.length, 31);
  assert.equal(n[0], 1);
  for (let i = 1; i < n.length; i++) {
    assert.ok(n[i] > n[i - 1], `message ${i}: ${n[i]} after ${n[i - 1]}`);
    assert.ok(n[i] >= i + 1);
  }
  // each step is 1..3 at random: all 30 steps being 1 has probability 3^-30
  assert.ok(n.at(-1) > 31, `some step jumps: ${n.join(',')}`);
}));

// delivery: 503 is retried (the same message again)
test('a delivery answered 503 is retried with the same message', () => withPush({ deliveryBackoffMs: 10 }, async ({ fake, watch, receiver }) => {
  await watch({ id: 'chan-retry' });
  let calls = 0;
  receiver.status = () => (++calls === 1 ? 503 : 200);
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  await fake.push.settle();
  const d = fake.push.deliveries.at(-1);
  assert.equal(d.state, 'exists');
  assert.equal(d.attempts, 2);
  assert.equal(d.status, 200);
  assert.equal(receiver.requests.length, 3);
  assert.equal(receiver.requests[1].headers['x-goog-message-number'], receiver.requests[2].headers['x-goog-message-number']);
}));

// delivery: retries end after deliveryRetries
test('a delivery answered 503 every time is tried 1 + deliveryRetries times', () => withPush({ deliveryBackoffMs: 10, deliveryRetries: 2 }, async ({ fake, watch, receiver }) => {
  await watch({ id: 'chan-retry3' });
  receiver.status = 503;
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  await fake.push.settle();
  const d = fake.push.deliveries.at(-1);
  assert.equal(d.attempts, 3);
  assert.equal(d.status, 503);
  assert.equal(receiver.requests.length, 1 + 3);
}));

// delivery: 404 is a failure, not retried
test('a delivery answered 404 is not retried', () => withPush({ deliveryBackoffMs: 10 }, async ({ fake, watch, receiver }) => {
  await watch({ id: 'chan-404' });
  receiver.status = 404;
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  await fake.push.settle();
  const d = fake.push.deliveries.at(-1);
  assert.equal(d.attempts, 1);
  assert.equal(d.status, 404);
  assert.equal(receiver.requests.length, 2);
}));

// channels.stop: id and resourceId are required
test('channels.stop without id or resourceId -> 400 required', () => withPush({}, async ({ watch, stop }) => {
  const w = await watch({ id: 'chan-stopreq' });
  const noId = await stop({ resourceId: w.body.resourceId });
  assert.equal(noId.status, 400);
  assert.equal(reason(noId), 'required');
  assert.equal(location(noId), 'id');
  const noResource = await stop({ id: 'chan-stopreq' });
  assert.equal(noResource.status, 400);
  assert.equal(reason(noResource), 'required');
  assert.equal(location(noResource), 'resourceId');
  assert.equal((await stop({ id: 'chan-stopreq', resourceId: w.body.resourceId })).status, 204);
}));

// channels.stop: a wrong resourceId or an unknown id -> 404
test('channels.stop with a wrong resourceId or unknown id -> 404 notFound', () => withPush({}, async ({ watch, stop }) => {
  const w = await watch({ id: 'chan-stop404' });
  const wrong = await stop({ id: 'chan-stop404', resourceId: `${w.body.resourceId}x` });
  assert.equal(wrong.status, 404);
  assert.equal(reason(wrong), 'notFound');
  const unknown = await stop({ id: 'chan-never', resourceId: w.body.resourceId });
  assert.equal(unknown.status, 404);
  assert.equal(reason(unknown), 'notFound');
  assert.equal((await stop({ id: 'chan-stop404', resourceId: w.body.resourceId })).status, 204);
}));

// channels.stop: only the user who opened the channel may stop it
test('channels.stop of another user\'s channel -> 404', () => withPush({}, async ({ fake, watch, stop }) => {
  const w = await watch({ id: 'chan-ada' });
  fake.control.addUser({ email: BOB });
  const bob = fake.control.issueTokens({ user: BOB, clientId: CLIENT.clientId, scopes: [SCOPES.events, SCOPES.list] }).access_token;
  const r = await stop({ id: 'chan-ada', resourceId: w.body.resourceId }, bob);
  assert.equal(r.status, 404);
  assert.equal(reason(r), 'notFound');
  assert.equal((await stop({ id: 'chan-ada', resourceId: w.body.resourceId })).status, 204);
}));

// channels.stop: only the OAuth client that opened the channel may stop it
test('channels.stop through another OAuth client -> 404', () => withPush({}, async ({ fake, watch, stop }) => {
  const w = await watch({ id: 'chan-client' });
  const other = { ...CLIENT, clientId: 'other-app.apps.googleusercontent.com' };
  fake.control.registerClient(other);
  const otherToken = fake.control.issueTokens({ user: USER, clientId: other.clientId, scopes: [SCOPES.events, SCOPES.list] }).access_token;
  const r = await stop({ id: 'chan-client', resourceId: w.body.resourceId }, otherToken);
  assert.equal(r.status, 404);
  assert.equal(reason(r), 'notFound');
  assert.equal((await stop({ id: 'chan-client', resourceId: w.body.resourceId })).status, 204);
}));

// channels.stop: no deliveries after it
test('no deliveries after channels.stop', () => withPush({}, async ({ fake, watch, stop, receiver }) => {
  const w = await watch({ id: 'chan-stopped' });
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  await fake.push.settle();
  assert.equal(receiver.requests.length, 2);
  assert.equal((await stop({ id: 'chan-stopped', resourceId: w.body.resourceId })).status, 204);
  fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  await fake.push.settle();
  assert.equal(receiver.requests.length, 2);
}));

// expiry: an expired channel gets no deliveries
test('no deliveries to an expired channel', () => withPush({}, async ({ fake, watch, receiver }) => {
  await watch({ id: 'chan-expiring', expiration: fake.clock.now() + 60000 });
  fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
  await fake.push.settle();
  assert.equal(receiver.requests.length, 2);
  fake.control.setClock({ advanceMs: 120000 });
  fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
  await fake.push.settle();
  assert.equal(receiver.requests.length, 2);
}));

// scope: a channel hears only the calendar it watches
test('changes in another calendar do not reach the channel', () => withPush({}, async ({ fake, watch, receiver }) => {
  const other = fake.control.addCalendar(USER, { summary: 'Other' });
  await watch({ id: 'chan-primary' });
  fake.control.userCreatesEvent(other.id, timedEvent(fake, 1));
  await fake.push.settle();
  assert.deepEqual(receiver.requests.map((m) => m.headers['x-goog-channel-id']), ['chan-primary']);
  await watch({ id: 'chan-other' }, { calendarId: other.id });
  fake.control.userCreatesEvent(other.id, timedEvent(fake, 2));
  await fake.push.settle();
  assert.deepEqual(receiver.requests.map((m) => m.headers['x-goog-channel-id']), ['chan-primary', 'chan-other', 'chan-other']);
}));

// Google's notifications are not 100 % reliable: some are lost, some come twice
test('notificationDropRate: a dropped change is recorded, never sent; notificationRepeatRate: the same message twice',
  () => withPush({ notificationDropRate: 1 }, async ({ fake, watch, receiver }) => {
    await watch({ id: 'chan-drop', token: 't' });
    fake.control.userCreatesEvent(USER, timedEvent(fake, 2));
    await fake.push.settle();
    assert.deepEqual(receiver.requests.map((m) => m.headers['x-goog-resource-state']), ['sync']);
    const dropped = (await fake.control.state()).deliveries.filter((d) => d.dropped);
    assert.equal(dropped.length, 1);
    fake.control.setOptions({ notificationDropRate: 0, notificationRepeatRate: 1 });
    fake.control.userCreatesEvent(USER, timedEvent(fake, 3));
    await fake.push.settle();
    const exists = receiver.requests.filter((m) => m.headers['x-goog-resource-state'] === 'exists');
    assert.equal(exists.length, 2);
    assert.equal(exists[0].headers['x-goog-message-number'], exists[1].headers['x-goog-message-number']);
    // the dropped message's number was used: the next one jumped past it
    assert.ok(Number(exists[0].headers['x-goog-message-number']) > dropped[0].number);
  }));

test('forge: a wrong token, a wrong resource id or an unknown channel id reaches the address',
  () => withPush({}, async ({ fake, watch, receiver }) => {
    const w = await watch({ id: 'chan-forge', token: 'right' });
    for (const kind of ['wrong_token', 'wrong_resource', 'unknown_channel']) {
      assert.equal((await fake.control.forge('chan-forge', kind)).status, 200, kind);
    }
    const [token, resource, unknown] = receiver.requests.slice(1).map((m) => m.headers);
    assert.notEqual(token['x-goog-channel-token'], 'right');
    assert.equal(token['x-goog-channel-id'], 'chan-forge');
    assert.notEqual(resource['x-goog-resource-id'], w.body.resourceId);
    assert.equal(resource['x-goog-channel-token'], 'right');
    assert.notEqual(unknown['x-goog-channel-id'], 'chan-forge');
    await assert.rejects(() => fake.control.forge('chan-forge', 'nonsense'));
  }));
