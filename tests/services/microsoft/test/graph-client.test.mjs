// Microsoft's official JavaScript client (npm `@microsoft/microsoft-graph-client` 3.0.7) speaks to
// the Graph contract fake: calendarView delta paged to a deltaLink (by hand and with the client's
// PageIterator, also with Graph's looseness switched on), a create retried with a transactionId,
// PATCH and DELETE with If-Match, DELETE then 404, JSON batching built with BatchRequestContent and
// read with BatchResponseContent (dependsOn -> 424, the limit of 20), change-notification
// subscriptions with the validation handshake over HTTPS, and an access token that died, refreshed at
// the identity platform's /token endpoint. It proves that the fake takes what Microsoft's own client
// sends (its Authorization, client-request-id, SdkVersion and Prefer headers, its query strings, its
// batch envelopes) and answers in a form that client reads (JSON bodies and links, Graph's error
// shape turned into GraphError with statusCode and code). Every test ends with stopFake, which fails
// when the fake recorded an answer outside the contract.
//
// How the client reaches the fake. The client as shipped sends the bearer token only to https URLs
// of Graph's own hosts (or of `customHosts`, https too): to the fake's plain-HTTP loopback URL it
// sends no Authorization at all (the first test shows this), and it only understands absolute links
// that start with https:// (an http:// nextLink would be glued onto the base URL). So the client runs
// with its default middleware chain and its default base URL https://graph.microsoft.com/, and only
// the last link of the chain (HTTPMessageHandler, a bare fetch) is replaced by LoopbackTransport,
// which sends the request to the fake instead and shows the fake's answer under
// https://graph.microsoft.com/ again, as if that host name resolved to the fake behind a TLS
// terminator that knows its public name. Everything above the wire (authentication, retry, redirect,
// telemetry headers, URL building, error handling) is the client's own code.
//
// BatchResponseContent decodes an inner body only when the inner headers say "Content-Type:
// application/json" (Graph's do, see tests/data/contracts/microsoft/graph-batch-response.json); the
// test of inner bodies below holds the fake to that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchRequestContent, BatchResponseContent, Client, GraphError, HTTPMessageHandler, MiddlewareFactory, PageIterator,
} from '@microsoft/microsoft-graph-client';
import { CLIENT, USER, startFake, stopFake, timedEvent, window } from './helpers.mjs';
import { httpsReceiver } from '../../common/https-receiver.mjs';

const GRAPH = 'https://graph.microsoft.com/';
const PAGE = 'odata.maxpagesize=3';

/// The last link of the client's middleware chain: the request goes to the fake (the fake's root for
/// https://graph.microsoft.com/), the answer comes back with the fake's root written as
/// https://graph.microsoft.com/ (its @odata.context, nextLink and deltaLink). `log` keeps every
/// exchange as it went over the wire: {method, url, headers (sent), status, responseHeaders, body (raw text)}.
class LoopbackTransport {
  constructor(fake) {
    this.fake = fake;
    this.log = [];
  }

  async execute(context) {
    assert.equal(typeof context.request, 'string', 'GraphRequest hands the middleware a URL string');
    assert.ok(context.request.startsWith(GRAPH), `the client asked for ${context.request}`);
    const url = this.fake.url + context.request.slice(GRAPH.length);
    const res = await fetch(url, context.options);
    const text = await res.text();
    this.log.push({ method: context.options.method, url, headers: { ...context.options.headers }, status: res.status,
      responseHeaders: Object.fromEntries(res.headers), body: text });
    const headers = new Headers(res.headers);
    headers.delete('content-length');
    const body = res.status === 204 || res.status === 304 ? null : text.replaceAll(this.fake.url, GRAPH);
    context.response = new Response(body, { status: res.status, statusText: res.statusText, headers });
  }

  setNext() { throw new Error('the transport is the last link of the chain'); }
}

/// The official client with its default middleware chain for `auth` (an access token, or an
/// authentication provider {getAccessToken}), the transport in place of HTTPMessageHandler.
function graphClient(fake, auth) {
  const provider = typeof auth === 'string' ? { getAccessToken: async () => auth } : auth;
  const middleware = MiddlewareFactory.getDefaultMiddlewareChain(provider);
  assert.ok(middleware.at(-1) instanceof HTTPMessageHandler, 'the default chain ends in the fetch');
  const transport = new LoopbackTransport(fake);
  middleware[middleware.length - 1] = transport;
  return { client: Client.initWithMiddleware({ middleware, defaultVersion: 'v1.0' }), transport };
}

/// The GraphError `promise` rejects with (fails if it resolves or rejects with anything else).
async function graphError(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof GraphError, `expected a GraphError, got ${e?.stack ?? e}`);
    return e;
  }
  return assert.fail('expected the client to throw a GraphError');
}

/// One delta round by hand: the first page (a request or a link), then every @odata.nextLink given
/// back to client.api() verbatim with the same Prefer header, up to the @odata.deltaLink.
async function deltaRound(client, first) {
  const pages = [];
  let page = await first;
  for (let i = 0; i < 100; i++) {
    pages.push(page);
    const next = page['@odata.nextLink'];
    assert.notEqual(next !== undefined, page['@odata.deltaLink'] !== undefined, 'exactly one of nextLink and deltaLink');
    if (next === undefined) return { pages, items: pages.flatMap((p) => p.value), deltaLink: page['@odata.deltaLink'] };
    assert.ok(next.startsWith(`${GRAPH}v1.0/me/calendarView/delta?`), next);
    page = await client.api(next).header('Prefer', PAGE).get();
  }
  return assert.fail('paging did not end');
}

/// A BatchRequestStep for `method` `path` (relative to the version root), as the 3.0.7 client needs
/// it in Node: an absolute URL WITHOUT the version segment (see the $batch test).
function step(id, method, path, { body, dependsOn } = {}) {
  const init = { method };
  if (body !== undefined) {
    init.headers = { 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  return { id, request: new Request(`${GRAPH}${path.replace(/^\//, '')}`, init), ...(dependsOn ? { dependsOn } : {}) };
}

/// Posts `content` to /$batch with the client: {raw (the answer), read (BatchResponseContent), status(id), body(id)}.
async function sendBatch(client, content) {
  const raw = await client.api('/$batch').post(content);
  const read = new BatchResponseContent(raw);
  assert.deepEqual([...read.getResponses().keys()].sort(), content.requests.map((r) => r.id).sort(), 'one answer per request');
  return { raw, read, status: (id) => read.getResponseById(id).status, body: (id) => raw.responses.find((r) => r.id === id).body };
}

test('the client as shipped sends no token to a plain-HTTP host: the fake answers 401 and the client reads it', async () => {
  const { fake, token } = await startFake();
  try {
    const plain = Client.init({ baseUrl: fake.url, defaultVersion: 'v1.0', authProvider: (done) => done(null, token) });
    const e = await graphError(plain.api('/me/events').get());
    assert.equal(e.statusCode, 401);
    assert.equal(e.code, 'InvalidAuthenticationToken');
    assert.equal(e.message, 'Access token is empty.');
    assert.match(e.requestId, /^[0-9a-f-]{36}$/, 'innerError.request-id reaches GraphError.requestId');
    assert.match(e.headers.get('www-authenticate'), /^Bearer /);
    const seen = fake.requests.at(-1);
    assert.equal(seen.path, '/v1.0/me/events', 'the client built <baseUrl>v1.0/me/events from baseUrl with a trailing slash');
  } finally {
    await stopFake(fake);
  }
});

test('delta: nextLinks followed with the client up to the deltaLink; the next round brings the change and the @removed', async () => {
  const { fake, token, calendarId } = await startFake();
  try {
    const { client, transport } = graphClient(fake, token);
    const created = [];
    for (let i = 1; i <= 7; i++) created.push(fake.control.userCreatesEvent(calendarId, timedEvent(fake, i)).id);

    const first = await deltaRound(client, client.api('/me/calendarView/delta').query(window(fake)).header('Prefer', PAGE).get());
    assert.deepEqual(first.pages.map((p) => p.value.length), [3, 3, 1]);
    assert.deepEqual(first.items.map((e) => e.id).sort(), [...created].sort());
    assert.ok(first.items.every((e) => e['@odata.etag'] === `W/"${e.changeKey}"` && e.type === 'singleInstance'));
    assert.ok(first.deltaLink.startsWith(`${GRAPH}v1.0/me/calendarView/delta?$deltatoken=`), first.deltaLink);

    // on the wire: the client's own headers went out and were taken; the fake's links point at itself
    const wire = transport.log.filter((x) => x.url.includes('/calendarView/delta'));
    assert.equal(wire.length, 3);
    for (const x of wire) {
      assert.equal(x.status, 200);
      assert.equal(x.headers.Prefer, PAGE);
      assert.match(x.headers.Authorization, /^Bearer EwB/);
      assert.match(x.headers.SdkVersion, /^graph-js\/3\.0\.7/);
      assert.match(x.headers['client-request-id'], /^[0-9a-f-]{36}$/);
      assert.equal(x.responseHeaders['client-request-id'], x.headers['client-request-id'], 'client-request-id echoed');
      assert.equal(x.responseHeaders['preference-applied'], PAGE);
      const link = JSON.parse(x.body)['@odata.nextLink'] ?? JSON.parse(x.body)['@odata.deltaLink'];
      assert.ok(link.startsWith(`${fake.url}v1.0/me/calendarView/delta?$`), link);
    }
    assert.ok(wire[0].url.includes('startDateTime=') && wire[0].url.includes('endDateTime='));
    assert.ok(!wire[1].url.includes('startDateTime='), 'a nextLink is given back as it came, nothing added');

    const changed = created[2];
    const deleted = created[5];
    fake.control.userEditsEvent(changed, { subject: 'moved by Ada' });
    fake.control.userDeletesEvent(deleted);
    const second = await deltaRound(client, client.api(first.deltaLink).header('Prefer', PAGE).get());
    assert.equal(second.items.length, 2, JSON.stringify(second.items));
    const byId = new Map(second.items.map((e) => [e.id, e]));
    assert.equal(byId.get(changed).subject, 'moved by Ada');
    assert.equal(byId.get(changed)['@removed'], undefined);
    assert.deepEqual(byId.get(deleted), { '@odata.type': '#microsoft.graph.event', id: deleted, '@removed': { reason: 'deleted' } });

    const third = await deltaRound(client, client.api(second.deltaLink).header('Prefer', PAGE).get());
    assert.deepEqual(third.items, [], 'nothing changed since the last round');
    assert.ok(third.deltaLink);
  } finally {
    await stopFake(fake);
  }
});

test('delta with the client\'s PageIterator, Graph\'s looseness on: empty pages, duplicates, replays, any order', async () => {
  const { fake, token, calendarId } = await startFake({ emptyPages: true, duplicateRate: 0.3, replayRate: 0.3, shuffle: true });
  try {
    const { client, transport } = graphClient(fake, token);
    const created = [];
    for (let i = 1; i <= 9; i++) created.push(fake.control.userCreatesEvent(calendarId, timedEvent(fake, i)).id);
    const options = { headers: { Prefer: PAGE } };

    const iterate = async (firstPage) => {
      const items = [];
      const it = new PageIterator(client, firstPage, (e) => { items.push(e); return true; }, options);
      await it.iterate();
      assert.equal(it.isComplete(), true);
      return { items, deltaLink: it.getDeltaLink() };
    };
    const before = transport.log.length;
    const first = await iterate(await client.api('/me/calendarView/delta').query(window(fake)).header('Prefer', PAGE).get());
    assert.deepEqual([...new Set(first.items.map((e) => e.id))].sort(), [...created].sort(), 'every event at least once');
    assert.ok(first.items.length > created.length, 'some items came twice (duplicateRate)');
    const pages = transport.log.slice(before).map((x) => JSON.parse(x.body).value.length);
    assert.ok(pages.includes(0), `an empty page with a nextLink came and the iterator went on: ${pages}`);
    assert.ok(first.deltaLink.startsWith(`${GRAPH}v1.0/me/calendarView/delta?$deltatoken=`));

    fake.control.userEditsEvent(created[4], { subject: 'edited' });
    fake.control.userDeletesEvent(created[7]);
    const second = await iterate(await client.api(first.deltaLink).header('Prefer', PAGE).get());
    const removed = second.items.filter((e) => e['@removed']);
    assert.deepEqual([...new Set(removed.map((e) => e.id))], [created[7]]);
    assert.ok(second.items.some((e) => e.id === created[4] && e.subject === 'edited'));
    assert.ok(second.items.every((e) => created.includes(e.id)), 'only known events: the change, the removal, replays');
    assert.ok(second.deltaLink && second.deltaLink !== first.deltaLink);
  } finally {
    await stopFake(fake);
  }
});

test('create with a transactionId, sent twice: the same event, stored once', async () => {
  const { fake, token } = await startFake();
  try {
    const { client, transport } = graphClient(fake, token);
    const body = timedEvent(fake, 4, { subject: 'retried create', transactionId: 'calgate-tx-0001' });
    const a = await client.api('/me/events').post(body);
    const b = await client.api('/me/events').post(body);
    assert.deepEqual(transport.log.map((x) => [x.method, x.status]), [['POST', 201], ['POST', 201]]);
    assert.equal(transport.log[0].headers['Content-Type'], 'application/json', 'the client names its JSON body');
    assert.equal(b.id, a.id);
    assert.equal(a.transactionId, 'calgate-tx-0001');
    assert.equal(a.subject, 'retried create');
    const state = await fake.control.state();
    const events = state.calendars.find((c) => c.owner === USER && c.isDefault).events;
    assert.equal(events.length, 1);
    assert.equal(events[0].id, a.id);
    assert.equal(events[0].transactionId, 'calgate-tx-0001');
  } finally {
    await stopFake(fake);
  }
});

test('PATCH with If-Match: the current etag wins, the stale one is a GraphError 412', async () => {
  const { fake, token } = await startFake();
  try {
    const { client, transport } = graphClient(fake, token);
    const made = await client.api('/me/events').post(timedEvent(fake, 2));
    const etag = made['@odata.etag'];
    assert.match(etag, /^W\/".+"$/);

    const patched = await client.api(`/me/events/${made.id}`).header('If-Match', etag).patch({ subject: 'renamed' });
    assert.equal(patched.id, made.id);
    assert.equal(patched.subject, 'renamed');
    assert.notEqual(patched['@odata.etag'], etag);
    assert.equal(transport.log.at(-1).headers['If-Match'], etag);
    assert.equal(transport.log.at(-1).status, 200);

    const e = await graphError(client.api(`/me/events/${made.id}`).header('If-Match', etag).patch({ subject: 'lost update' }));
    assert.equal(e.statusCode, 412);
    assert.equal(e.code, 'resourceModified');
    assert.equal(transport.log.filter((x) => x.method === 'PATCH').length, 2, 'the client does not retry a 412');
    const now = await client.api(`/me/events/${made.id}`).get();
    assert.equal(now.subject, 'renamed');
    assert.equal(now['@odata.etag'], patched['@odata.etag']);
  } finally {
    await stopFake(fake);
  }
});

test('DELETE (a stale If-Match refused first), then GET is a GraphError 404 ErrorItemNotFound', async () => {
  const { fake, token } = await startFake();
  try {
    const { client, transport } = graphClient(fake, token);
    const made = await client.api('/me/events').post(timedEvent(fake, 3));
    const patched = await client.api(`/me/events/${made.id}`).patch({ subject: 'changed once' });

    const stale = await graphError(client.api(`/me/events/${made.id}`).header('If-Match', made['@odata.etag']).delete());
    assert.equal(stale.statusCode, 412);
    assert.equal(stale.code, 'resourceModified');

    const gone = await client.api(`/me/events/${made.id}`).header('If-Match', patched['@odata.etag']).delete();
    assert.equal(gone, undefined, '204: the client gives no body');
    assert.equal(transport.log.at(-1).status, 204);
    assert.equal(transport.log.at(-1).body, '');

    const e = await graphError(client.api(`/me/events/${made.id}`).get());
    assert.equal(e.statusCode, 404);
    assert.equal(e.code, 'ErrorItemNotFound');
    const again = await graphError(client.api(`/me/events/${made.id}`).delete());
    assert.equal(again.statusCode, 404);
    assert.equal((await fake.control.state()).calendars[0].events.length, 0);
  } finally {
    await stopFake(fake);
  }
});

test('$batch built with BatchRequestContent, read with BatchResponseContent: statuses, dependsOn -> 424', async () => {
  const { fake, token, calendarId } = await startFake({ shuffle: true });
  try {
    const { client, transport } = graphClient(fake, token);
    const kept = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 10, { subject: 'kept' })).id;
    const doomed = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 11, { subject: 'doomed' })).id;

    // parallel: a create (Content-Type and body), a read, a delete, a read of what is not there
    const parallel = new BatchRequestContent([
      step('create', 'POST', '/me/events', { body: timedEvent(fake, 12, { subject: 'made in a batch' }) }),
      step('read', 'GET', `/me/events/${kept}`),
      step('remove', 'DELETE', `/me/events/${doomed}`),
      step('missing', 'GET', '/me/events/AAMkAGnothinghere'),
    ]);
    const content = await parallel.getContent();
    assert.deepEqual(content.requests.map((r) => [r.id, r.method, r.url]), [['create', 'POST', '/me/events'],
      ['read', 'GET', `/me/events/${kept}`], ['remove', 'DELETE', `/me/events/${doomed}`], ['missing', 'GET', '/me/events/AAMkAGnothinghere']]);
    assert.deepEqual(content.requests[0].headers, { 'content-type': 'application/json' });
    assert.equal(content.requests[0].body.subject, 'made in a batch');
    const one = await sendBatch(client, content);
    assert.equal(transport.log.at(-1).url, `${fake.url}v1.0/$batch`);
    assert.equal(transport.log.at(-1).status, 200);
    assert.deepEqual(['create', 'read', 'remove', 'missing'].map(one.status), [201, 200, 204, 404]);
    const made = one.body('create');
    assert.equal(made.subject, 'made in a batch');
    assert.equal(one.body('read').id, kept);
    assert.equal(one.body('read').subject, 'kept');
    assert.equal(one.body('remove'), undefined, 'a 204 has no body');
    assert.equal(one.body('missing').error.code, 'ErrorItemNotFound');
    const ids = (await fake.control.state()).calendars[0].events.map((e) => e.id).sort();
    assert.deepEqual(ids, [kept, made.id].sort());

    // "same" dependency: both depend on a request that fails -> 424, and the DELETE did not run
    const same = new BatchRequestContent([
      step('gate', 'GET', '/me/events/AAMkAGnothinghere'),
      step('after-read', 'GET', `/me/events/${kept}`, { dependsOn: ['gate'] }),
    ]);
    same.addRequest(step('after-delete', 'DELETE', `/me/events/${kept}`));
    same.addDependency('after-delete', 'gate');
    const two = await sendBatch(client, await same.getContent());
    assert.deepEqual(['gate', 'after-read', 'after-delete'].map(two.status), [404, 424, 424]);
    assert.equal(two.body('after-read').error.code, 'FailedDependency');
    assert.equal((await client.api(`/me/events/${kept}`).get()).subject, 'kept', 'what failed its dependency never ran');

    // serial: a dependency that succeeds lets the next request run
    const serial = new BatchRequestContent([
      step('first', 'POST', '/me/events', { body: timedEvent(fake, 13, { subject: 'serial' }) }),
      step('second', 'GET', `/me/events/${kept}`, { dependsOn: ['first'] }),
    ]);
    const three = await sendBatch(client, await serial.getContent());
    assert.deepEqual(['first', 'second'].map(three.status), [201, 200]);
    assert.equal(three.body('first').subject, 'serial');

    // the 3.0.7 client keeps the version segment of an absolute URL ("/v1.0/me/events/..."), which
    // Graph refuses inside a batch (microsoftgraph/msgraph-sdk-javascript#1178), and so does the fake
    const versioned = new BatchRequestContent([{ id: 'v', request: new Request(`${GRAPH}v1.0/me/events/${kept}`, { method: 'GET' }) }]);
    const versionedContent = await versioned.getContent();
    assert.equal(versionedContent.requests[0].url, `/v1.0/me/events/${kept}`);
    const four = await sendBatch(client, versionedContent);
    assert.equal(four.status('v'), 400);
    assert.equal(four.body('v').error.code, 'BadRequest');
    assert.match(four.body('v').error.message, /segment 'v1\.0'/);
  } finally {
    await stopFake(fake);
  }
});

test('$batch: 21 requests are refused by BatchRequestContent, and by the fake with 400 when sent raw; 20 pass', async () => {
  const { fake, token } = await startFake();
  try {
    const { client } = graphClient(fake, token);
    const steps = Array.from({ length: 21 }, (_, i) => step(String(i + 1), 'GET', '/me/events'));
    assert.throws(() => new BatchRequestContent(steps), (e) => e.name === 'Limit Exceeded Error');
    const twenty = new BatchRequestContent(steps.slice(0, 20));
    assert.throws(() => twenty.addRequest(steps[20]), (e) => e.name === 'Limit Exceeded Error');

    const ok = await sendBatch(client, await twenty.getContent());
    assert.deepEqual([...ok.read.getResponses().values()].map((r) => r.status), Array(20).fill(200));

    const raw = { requests: Array.from({ length: 21 }, (_, i) => ({ id: String(i + 1), method: 'GET', url: '/me/events' })) };
    const e = await graphError(client.api('/$batch').post(raw));
    assert.equal(e.statusCode, 400);
    assert.equal(e.code, 'BadRequest');
    assert.match(e.message, /20/);
  } finally {
    await stopFake(fake);
  }
});

test('$batch: BatchResponseContent gives back each inner body', async () => {
  const { fake, token, calendarId } = await startFake();
  try {
    const { client } = graphClient(fake, token);
    const kept = fake.control.userCreatesEvent(calendarId, timedEvent(fake, 10, { subject: 'kept' })).id;
    const batch = new BatchRequestContent([step('read', 'GET', `/me/events/${kept}`), step('missing', 'GET', '/me/events/AAMkAGnothinghere')]);
    const { read } = await sendBatch(client, await batch.getContent());
    assert.match(read.getResponseById('read').headers.get('content-type') ?? '', /^application\/json/);
    assert.equal((await read.getResponseById('read').json()).subject, 'kept');
    assert.equal((await read.getResponseById('missing').json()).error.code, 'ErrorItemNotFound');
  } finally {
    await stopFake(fake);
  }
});

test('subscriptions: create after the HTTPS validation handshake, a notification with clientState, renew, delete -> 404', async () => {
  const receiver = await httpsReceiver();
  receiver.answer = (req) => {
    const token = new URL(req.url, 'https://receiver').searchParams.get('validationToken');
    return token !== null ? { status: 200, contentType: 'text/plain; charset=utf-8', body: token } : { status: 202 };
  };
  const { fake, token } = await startFake({ deliveryCa: receiver.ca });
  try {
    const { client, transport } = graphClient(fake, token);
    const expiration = new Date(fake.clock.now() + 2 * 86400000).toISOString();
    const sub = await client.api('/subscriptions').post({ changeType: 'created,updated,deleted', notificationUrl: receiver.url,
      lifecycleNotificationUrl: `${receiver.url}/lifecycle`, resource: '/me/events', expirationDateTime: expiration, clientState: 'secret-state' });
    assert.equal(transport.log.at(-1).status, 201);
    assert.match(sub.id, /^[0-9a-f-]{36}$/);
    assert.equal(sub.resource, '/me/events');
    assert.equal(sub.clientState, 'secret-state');
    assert.equal(sub.changeType, 'created,updated,deleted');
    assert.equal(Date.parse(sub.expirationDateTime), Date.parse(expiration));
    const handshakes = receiver.requests.filter((r) => r.url.includes('validationToken='));
    assert.deepEqual(handshakes.map((r) => [r.method, new URL(r.url, 'https://receiver').pathname]),
      [['POST', '/webhooks'], ['POST', '/webhooks/lifecycle']], 'both URLs were validated before the 201');

    const made = await client.api('/me/events').post(timedEvent(fake, 5, { subject: 'watched' }));
    await fake.subscriptions.settle();
    const notes = receiver.requests.filter((r) => !r.url.includes('validationToken=')).flatMap((r) => JSON.parse(r.body).value);
    assert.equal(notes.length, 1);
    assert.equal(notes[0].subscriptionId, sub.id);
    assert.equal(notes[0].clientState, 'secret-state');
    assert.equal(notes[0].changeType, 'created');
    assert.equal(notes[0].resourceData.id, made.id);

    const later = new Date(fake.clock.now() + 2.5 * 86400000).toISOString();
    const renewed = await client.api(`/subscriptions/${sub.id}`).patch({ expirationDateTime: later });
    assert.equal(renewed.id, sub.id);
    assert.equal(Date.parse(renewed.expirationDateTime), Date.parse(later));
    assert.equal(Date.parse((await client.api(`/subscriptions/${sub.id}`).get()).expirationDateTime), Date.parse(later));
    const tooFar = await graphError(client.api(`/subscriptions/${sub.id}`).patch({ expirationDateTime: new Date(fake.clock.now() + 4231 * 60000).toISOString() }));
    assert.equal(tooFar.statusCode, 400);
    assert.equal(tooFar.code, 'InvalidRequest');

    assert.equal(await client.api(`/subscriptions/${sub.id}`).delete(), undefined);
    assert.equal(transport.log.at(-1).status, 204);
    const e = await graphError(client.api(`/subscriptions/${sub.id}`).get());
    assert.equal(e.statusCode, 404);
    assert.equal(e.code, 'ResourceNotFound');
    const delivered = receiver.requests.length;
    await client.api(`/me/events/${made.id}`).delete();
    await fake.subscriptions.settle();
    assert.equal(receiver.requests.length, delivered, 'no notification after the delete');
  } finally {
    try { await stopFake(fake); } finally { await receiver.close(); }
  }
});

test('token refresh: a dead access token is a 401 GraphError; refreshed at /token the client goes on; the rotated-out refresh token is invalid_grant', async () => {
  const { fake } = await startFake();
  try {
    // startFake registered CLIENT; its own tokens are not used here
    const issued = fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId,
      scopes: ['openid', 'profile', 'email', 'offline_access', 'Calendars.ReadWrite'] });
    assert.ok(issued.access_token && issued.refresh_token);

    // an authentication provider as an app would write it: it hands out the current access token and
    // refreshes on demand at the identity platform (form POST, client_secret_post)
    const provider = {
      accessToken: issued.access_token,
      refreshToken: issued.refresh_token,
      handedOut: [],
      async getAccessToken() { this.handedOut.push(this.accessToken); return this.accessToken; },
      async redeem(refreshToken) {
        const res = await fetch(`${fake.url}common/oauth2/v2.0/token`, { method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: CLIENT.clientId,
            client_secret: CLIENT.clientSecret, scope: 'https://graph.microsoft.com/Calendars.ReadWrite openid profile offline_access' }) });
        return { status: res.status, body: await res.json() };
      },
      async refresh() {
        const r = await this.redeem(this.refreshToken);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        this.accessToken = r.body.access_token;
        this.refreshToken = r.body.refresh_token;
        return r.body;
      },
    };
    const { client, transport } = graphClient(fake, provider);

    const before = await client.api('/me/events').post(timedEvent(fake, 6, { subject: 'before expiry' }));
    fake.control.expireAccessTokens(USER);
    const e = await graphError(client.api(`/me/events/${before.id}`).get());
    assert.equal(e.statusCode, 401);
    assert.equal(e.code, 'InvalidAuthenticationToken');
    assert.match(e.headers.get('www-authenticate'), /^Bearer /);
    assert.equal(transport.log.at(-1).headers.Authorization, `Bearer ${issued.access_token}`);

    const oldRefresh = provider.refreshToken;
    const refreshed = await provider.refresh();
    assert.equal(refreshed.token_type, 'Bearer');
    assert.ok(refreshed.access_token && refreshed.access_token !== issued.access_token);
    assert.ok(refreshed.refresh_token && refreshed.refresh_token !== oldRefresh, 'the refresh token rotated');
    assert.ok(refreshed.scope.split(' ').includes('https://graph.microsoft.com/Calendars.ReadWrite'), refreshed.scope);
    assert.ok(refreshed.expires_in > 0);

    const after = await client.api(`/me/events/${before.id}`).get();
    assert.equal(after.subject, 'before expiry');
    assert.equal(transport.log.at(-1).headers.Authorization, `Bearer ${refreshed.access_token}`);
    assert.deepEqual([...new Set(provider.handedOut)], [issued.access_token, refreshed.access_token]);

    const replay = await provider.redeem(oldRefresh);
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.deepEqual(replay.body.error_codes, [70000]);
    const next = await provider.refresh();
    assert.ok(next.access_token, 'the rotated refresh token itself still works');
  } finally {
    await stopFake(fake);
  }
});
