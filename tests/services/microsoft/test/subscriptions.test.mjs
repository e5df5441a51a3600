// Change-notification subscriptions (CONTRACT.md §2 "Subscriptions"), against an HTTPS receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, CLIENT, code, startFake, stopFake, timedEvent } from './helpers.mjs';
import { httpsReceiver } from '../../common/https-receiver.mjs';

/// A receiver that passes the validation handshake (200 text/plain, the decoded token) and
/// answers notifications 202.
async function receiver() {
  const r = await httpsReceiver('/webhooks/microsoft');
  r.answer = (req) => {
    const token = new URL(req.url, 'https://x').searchParams.get('validationToken');
    return token !== null ? { status: 200, contentType: 'text/plain; charset=utf-8', body: token } : { status: 202 };
  };
  return r;
}

async function setup(options = {}) {
  const rx = await receiver();
  const { fake, token, calendarId } = await startFake({ deliveryCa: rx.ca, deliveryBackoffMs: 10, ...options });
  const body = (extra = {}) => ({ changeType: 'created,updated,deleted', notificationUrl: rx.url, lifecycleNotificationUrl: `${rx.url}/lifecycle`,
    resource: '/me/events', expirationDateTime: new Date(fake.clock.now() + 2 * 86400000).toISOString(), clientState: 'state-1', ...extra });
  const done = async () => { await stopFake(fake); await rx.close(); };
  return { rx, fake, token, calendarId, body, done };
}

test('create validates both URLs before answering 201', async () => {
  const { rx, fake, token, body, done } = await setup();
  const r = await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.body.clientState, 'state-1');
  assert.equal(r.body.resource, '/me/events');
  const checks = rx.requests.filter((q) => q.url.includes('validationToken='));
  assert.deepEqual(checks.map((q) => new URL(q.url, 'https://x').pathname).sort(), ['/webhooks/microsoft', '/webhooks/microsoft/lifecycle']);
  assert.match(checks[0].headers['content-type'], /^text\/plain/);
  await done();
});

for (const [name, answer] of [
  ['a wrong status', () => ({ status: 202 })],
  ['a wrong body', () => ({ status: 200, contentType: 'text/plain', body: 'nope' })],
  ['a wrong content type', (req) => ({ status: 200, contentType: 'application/json', body: new URL(req.url, 'https://x').searchParams.get('validationToken') })],
]) {
  test(`create fails when the handshake gets ${name}`, async () => {
    const { rx, fake, token, body, done } = await setup();
    rx.answer = answer;
    const r = await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() });
    assert.equal(r.status, 400);
    assert.equal(code(r), 'ValidationError');
    assert.equal((await fake.control.state()).subscriptions.length, 0);
    await done();
  });
}

test('create fails when the handshake is not answered in time', async () => {
  const { rx, fake, token, body, done } = await setup({ validationTimeoutMs: 200 });
  const inner = rx.answer;
  rx.answer = async (req) => ({ ...(await inner(req)), delayMs: 500 });
  const r = await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() });
  assert.equal(r.status, 400);
  await done();
});

test('create rules: HTTPS only, clientState ≤ 128, expiration ≤ 4230 minutes and in the future, a known changeType', async () => {
  const { fake, token, body, done } = await setup();
  const bad = async (extra) => (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body(extra) })).status;
  assert.equal(await bad({ notificationUrl: 'http://127.0.0.1:9/hook' }), 400);
  assert.equal(await bad({ clientState: 'x'.repeat(129) }), 400);
  assert.equal(await bad({ expirationDateTime: new Date(fake.clock.now() + 4231 * 60000).toISOString() }), 400);
  assert.equal(await bad({ expirationDateTime: new Date(fake.clock.now() - 1000).toISOString() }), 400);
  assert.equal(await bad({ changeType: 'created,moved' }), 400);
  assert.equal(await bad({ resource: '/users/bob@contoso.example/events' }), 403, 'only the signed-in user\'s mailbox');
  assert.equal(await bad({ clientState: 'x'.repeat(128), expirationDateTime: new Date(fake.clock.now() + 4229 * 60000).toISOString() }), 201);
  await done();
});

test('changes are delivered with subscriptionId, clientState and the event resource', async () => {
  const { rx, fake, token, calendarId, body, done } = await setup();
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() })).body;
  const event = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  fake.control.userDeletesEvent(event.id);
  await fake.subscriptions.settle();
  const notes = rx.requests.filter((q) => q.method === 'POST' && !q.url.includes('validationToken')).map((q) => JSON.parse(q.body).value[0]);
  assert.deepEqual(notes.map((n) => n.changeType), ['created', 'deleted']);
  for (const n of notes) {
    assert.equal(n.subscriptionId, sub.id);
    assert.equal(n.clientState, 'state-1');
    assert.equal(n.resourceData.id, event.id);
    assert.match(n.resource, /^Users\/[0-9a-f-]+\/Events\//);
    assert.ok(n.tenantId);
  }
  await done();
});

test('only the subscribed change types are delivered; failed deliveries are retried', async () => {
  const { rx, fake, token, calendarId, body, done } = await setup();
  await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body({ changeType: 'deleted' }) });
  let failures = 1;
  const inner = rx.answer;
  rx.answer = (req) => (req.url.includes('validationToken') || failures-- <= 0 ? inner(req) : { status: 500 });
  const event = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  fake.control.userDeletesEvent(event.id);
  await fake.subscriptions.settle();
  const state = await fake.control.state();
  assert.deepEqual(state.deliveries.map((d) => [d.notification.changeType, d.status]), [['deleted', 500], ['deleted', 202]]);
  await done();
});

test('renew by PATCH; lifecycleNotificationUrl only at creation; delete; expired subscriptions are gone', async () => {
  const { fake, token, body, done } = await setup();
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() })).body;
  const later = new Date(fake.clock.now() + 2.5 * 86400000).toISOString();
  const renewed = await api(fake, token, 'PATCH', `v1.0/subscriptions/${sub.id}`, { body: { expirationDateTime: later } });
  assert.equal(renewed.status, 200, renewed.text);
  assert.equal(renewed.body.expirationDateTime, later);
  const addLifecycle = await api(fake, token, 'PATCH', `v1.0/subscriptions/${sub.id}`, { body: { lifecycleNotificationUrl: 'https://127.0.0.1/x' } });
  assert.equal(addLifecycle.status, 400);
  assert.equal((await api(fake, token, 'DELETE', `v1.0/subscriptions/${sub.id}`)).status, 204);
  assert.equal((await api(fake, token, 'GET', `v1.0/subscriptions/${sub.id}`)).status, 404);
  const other = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() })).body;
  fake.control.setClock({ advanceMs: 3 * 86400000 });
  const fresh = fake.control.issueTokens({ user: 'ada@contoso.example', clientId: CLIENT.clientId, scopes: ['Calendars.ReadWrite'] }).access_token;
  assert.equal((await api(fake, fresh, 'PATCH', `v1.0/subscriptions/${other.id}`, { body: { expirationDateTime: new Date(fake.clock.now() + 60000).toISOString() } })).status, 404);
  await done();
});

test('lifecycle events go to the lifecycle URL; subscriptionRemoved ends the subscription; reauthorize', async () => {
  const { rx, fake, token, body, done } = await setup();
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() })).body;
  fake.control.lifecycle(sub.id, 'reauthorizationRequired');
  assert.equal((await api(fake, token, 'POST', `v1.0/subscriptions/${sub.id}/reauthorize`)).status, 204);
  fake.control.lifecycle(sub.id, 'missed');
  fake.control.lifecycle(sub.id, 'subscriptionRemoved');
  await fake.subscriptions.settle();
  const events = rx.requests.filter((q) => q.url.startsWith('/webhooks/microsoft/lifecycle') && !q.url.includes('validationToken'))
    .map((q) => JSON.parse(q.body).value[0]);
  assert.deepEqual(events.map((e) => e.lifecycleEvent), ['reauthorizationRequired', 'missed', 'subscriptionRemoved']);
  assert.ok(events.every((e) => e.subscriptionId === sub.id && e.clientState === 'state-1' && e.resource === undefined));
  assert.equal((await api(fake, token, 'GET', `v1.0/subscriptions/${sub.id}`)).status, 404);
  await done();
});

test('another app cannot see or delete a subscription', async () => {
  const { fake, token, body, done } = await setup();
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() })).body;
  fake.control.registerClient({ clientId: '99999999-2222-4333-8444-555555555555', clientSecret: 's', redirectUris: ['http://127.0.0.1:9/cb'] });
  const other = fake.control.issueTokens({ user: 'ada@contoso.example', clientId: '99999999-2222-4333-8444-555555555555', scopes: ['Calendars.ReadWrite'] }).access_token;
  assert.equal((await api(fake, other, 'DELETE', `v1.0/subscriptions/${sub.id}`)).status, 404);
  assert.equal((await api(fake, token, 'GET', `v1.0/subscriptions/${sub.id}`)).status, 200);
  void token;
  await done();
});

test('notificationDropRate: a dropped change is recorded, never sent; notificationRepeatRate: sent twice', async () => {
  const { rx, fake, token, calendarId, body, done } = await setup({ notificationDropRate: 1 });
  await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() });
  fake.control.userCreatesEvent(calendarId, timedEvent(fake, 1));
  await fake.subscriptions.settle();
  const sent = () => rx.requests.filter((q) => !q.url.includes('validationToken'));
  assert.equal(sent().length, 0);
  assert.deepEqual((await fake.control.state()).deliveries.map((d) => d.dropped), [true]);
  fake.control.setOptions({ notificationDropRate: 0, notificationRepeatRate: 1 });
  const event = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 2));
  await fake.subscriptions.settle();
  assert.deepEqual(sent().map((q) => JSON.parse(q.body).value[0].resourceData.id), [event.id, event.id]);
  await done();
});

test('forge: a wrong clientState or an unknown subscription id reaches the notification URL', async () => {
  const { rx, fake, token, body, done } = await setup();
  const sub = (await api(fake, token, 'POST', 'v1.0/subscriptions', { body: body() })).body;
  assert.equal((await fake.control.forge(sub.id, 'wrong_client_state')).status, 202);
  assert.equal((await fake.control.forge(sub.id, 'unknown_subscription')).status, 202);
  const [wrong, unknown] = rx.requests.filter((q) => !q.url.includes('validationToken')).map((q) => JSON.parse(q.body).value[0]);
  assert.equal(wrong.subscriptionId, sub.id);
  assert.notEqual(wrong.clientState, 'state-1');
  assert.notEqual(unknown.subscriptionId, sub.id);
  assert.equal(unknown.clientState, 'state-1');
  await assert.rejects(() => fake.control.forge(sub.id, 'nonsense'));
  await done();
});
