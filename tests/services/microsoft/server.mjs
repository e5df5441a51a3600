// A strict contract fake of Microsoft Graph v1.0 (calendars, events, calendarView delta,
// subscriptions, $batch) and of the Microsoft identity platform, on loopback HTTP. The rules are
// CONTRACT.md §2, the CSDL (tests/data/contracts/microsoft/) and the samples; where the contract
// marks a point unverified, the fake is stricter and the point is a switch (DEFAULTS).
//
//   import { createGraphFake } from './server.mjs';
//   const fake = await createGraphFake({ defaultPageSize: 3 });   // options: DEFAULTS below
//   fake.url          root URL, e.g. http://127.0.0.1:PORT/ ; the API is at <url>v1.0/, the
//                     identity platform at <url><tenant>/oauth2/v2.0/... (oauth.mjs)
//   fake.control      acting as users, faults, switches, clock, inspection (control.mjs); over HTTP
//                     at /__control/ when started with a controlToken (main.mjs)
//   fake.violations   answers of the fake that broke the CSDL or Graph's error shape (must stay empty)
//   await fake.close()
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { badRequest, decoded, errorShapeOk, GraphError, notFound } from './errors.mjs';
import { responseProblems } from './csdl.mjs';
import * as events from './events.mjs';
import { Delta } from './delta.mjs';
import { parseBatch, runBatch } from './batch.mjs';
import { Limits } from './limits.mjs';
import { MicrosoftOAuth } from './oauth.mjs';
import { Subscriptions } from './subscriptions.mjs';
import { FakeState } from './state.mjs';
import { Control, serveControl } from './control.mjs';
import { Clock } from '../common/clock.mjs';
import { readBody, send } from '../common/http.mjs';
import { generator } from '../common/random.mjs';

export const DEFAULTS = {
  defaultPageSize: 10,                 // delta page size without Prefer: odata.maxpagesize
  maxPageSize: 1000,
  emptyPages: true,                    // now and then an empty page that still carries a nextLink
  replayRate: 0.1,                     // share of unchanged items a later round sends again
  duplicateRate: 0.05,                 // share of items sent twice within a round
  shuffle: true,                       // delta items and $batch responses in an order of their own
  expiredDeltaAnswer: '410',           // '410' (Gone + Location) | 'syncStateNotFound' | 'resyncRequired' (400)
  deltaTokenLifetimeMs: null,          // delta links expire after this; null: only on demand
  deltaLinkSingleUse: false,           // [U] a used delta link is forgotten
  transactionIdWindowMs: 3600000,      // [U] how long a transactionId deduplicates a create
  mailboxRequestsPer10Min: 10000,      // per app and mailbox; null: unlimited
  maxConcurrentPerMailbox: 4,
  retryAfterSeconds: 2.128,            // Retry-After of a 429 (fractional, as Graph sends); null: none
  latencyMs: 0,                        // each API request takes this long (makes concurrency visible)
  batchParallelism: 4,                 // [U] requests of one $batch run at once
  maxSubscriptionMinutes: 4230,        // [U] 4230 (stored docs) rather than 10080
  maxSubscriptionsPerMailbox: 1000,
  validationTimeoutMs: 10000,
  notificationTimeoutMs: 3000,
  deliveryRetries: 2,
  notificationDropRate: 0,             // share of change notifications never sent
  notificationRepeatRate: 0,           // share of change notifications sent twice
  deliveryBackoffMs: 100,
  deliveryCa: undefined,               // PEM of the CA the HTTPS receivers' certificates chain to
  accessTokenLifetimeS: 3599,
  refreshTokenIdleMs: 90 * 86400000,
  rotateRefreshTokens: true,
  oldRefreshTokenValidAfterRotation: false,
  requirePkce: true,
  seed: 1,
  maxBodyBytes: 4 * 1024 * 1024,
  controlToken: null,
};

const READ = ['Calendars.Read', 'Calendars.ReadWrite'];
const WRITE = ['Calendars.ReadWrite'];
const CONTENT_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

// [method, path pattern after /v1.0/<mailbox>, route name, scopes, handler(fake, ctx), response entity]
// <mailbox> is me | users/{id or UPN}; {cal} resolves the calendar (default calendar without it).
const CAL = '(?:/calendars/([^/]+)|/calendar)?';
const MAILBOX_ROUTES = [
  ['GET', /^\/calendars$/, 'calendars.list', READ, (f, c) => events.listCalendars(c), 'calendar[]'],
  ['GET', /^\/calendars\/([^/]+)$/, 'calendars.get', READ, (f, c) => events.getCalendar(c), 'calendar'],
  ['GET', /^\/calendar$/, 'calendars.get', READ, (f, c) => events.getCalendar(c), 'calendar'],
  ['GET', new RegExp(`^${CAL}/calendarView/delta$`), 'delta', READ, (f, c) => f.delta.handle(c), 'event[]'],
  ['GET', new RegExp(`^${CAL}/events$`), 'events.list', READ, (f, c) => events.listEvents(c), 'event[]'],
  ['POST', new RegExp(`^${CAL}/events$`), 'events.create', WRITE, (f, c) => events.createEvent(c), 'event'],
  ['GET', new RegExp(`^${CAL}/events/([^/]+)/instances$`), 'events.instances', READ, (f, c) => events.instances(c), 'event[]'],
  ['GET', new RegExp(`^${CAL}/events/([^/]+)$`), 'events.get', READ, (f, c) => events.getEvent(c), 'event'],
  ['PATCH', new RegExp(`^${CAL}/events/([^/]+)$`), 'events.update', WRITE, (f, c) => events.updateEvent(c), 'event'],
  ['DELETE', new RegExp(`^${CAL}/events/([^/]+)$`), 'events.delete', WRITE, (f, c) => events.deleteEvent(c), null],
];
const ROOT_ROUTES = [
  ['POST', /^\/subscriptions$/, 'subscriptions.create', READ, (f, c) => f.subscriptions.create(c), 'subscription'],
  ['GET', /^\/subscriptions\/([^/]+)$/, 'subscriptions.get', READ, (f, c) => f.subscriptions.get(c), 'subscription'],
  ['PATCH', /^\/subscriptions\/([^/]+)$/, 'subscriptions.renew', READ, (f, c) => f.subscriptions.renew(c), 'subscription'],
  ['DELETE', /^\/subscriptions\/([^/]+)$/, 'subscriptions.delete', READ, (f, c) => f.subscriptions.remove(c), null],
  ['POST', /^\/subscriptions\/([^/]+)\/reauthorize$/, 'subscriptions.reauthorize', READ, (f, c) => f.subscriptions.reauthorize(c), null],
];

/// The request-id of an answer (header and error body alike) and the echoed client-request-id.
function requestIds(headers) {
  const out = { 'request-id': randomUUID() };
  if (headers['client-request-id']) out['client-request-id'] = headers['client-request-id'];
  return out;
}

class Api {
  constructor(fake) { this.fake = fake; }

  /// One API call: {status, headers, body (object or null)}.
  async call(method, rawPath, headers, rawBody = '') {
    const { fake } = this;
    const seen = { method, path: null, query: {}, ifMatch: headers['if-match'] ?? null, prefer: headers.prefer ?? null };
    let route = null;
    let mailbox = null;
    const ids = requestIds(headers);
    try {
      let url;
      try { url = new URL(rawPath, 'http://fake'); } catch { throw badRequest('Malformed request path.', 'BadRequest'); }
      seen.path = url.pathname;
      const query = {};
      for (const k of new Set(url.searchParams.keys())) {
        const all = url.searchParams.getAll(k);
        if (all.length > 1) throw badRequest(`The query parameter '${k}' is given more than once.`, 'BadRequest');
        query[k] = all[0];
      }
      seen.query = query;
      if (!url.pathname.startsWith('/v1.0/')) throw new GraphError(400, 'BadRequest', 'Invalid version: use /v1.0/.');
      const rest = url.pathname.slice('/v1.0'.length);
      const grant = this.#authenticate(headers);
      const ctx = { state: fake.state, options: fake.options, user: grant.user, clientId: grant.clientId, query, body: null,
        header: (name) => headers[name], base: `${fake.url}v1.0/`, requestBase: `${fake.url.replace(/\/$/, '')}${url.pathname}` };
      let match = null;
      let params = [];
      for (const r of ROOT_ROUTES) {
        const m = r[1].exec(rest);
        if (m && r[0] === method) { match = r; params = m; ctx.params = { subscriptionId: decoded(m[1]) }; }
      }
      if (!match) {
        const mb = /^\/(me|users\/([^/]+))(\/.*)?$/i.exec(rest);
        if (!mb) throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${rest.split('/')[1] ?? ''}'.`);
        const target = mb[1].toLowerCase() === 'me' ? fake.state.user(grant.user) : fake.state.user(decoded(mb[2]));
        if (!target) throw new GraphError(404, 'ErrorInvalidUser', `The requested user '${decoded(mb[2] ?? '')}' is invalid.`);
        // delegated access: only the signed-in user's own mailbox
        if (target.email.toLowerCase() !== grant.user) throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
        mailbox = grant.user;
        const tail = mb[3] ?? '';
        if (tail === '' && method === 'GET') {
          match = ['GET', null, 'me', ['User.Read'], (f, c) => ({ status: 200, body: { '@odata.context': `${c.base}$metadata#users/$entity`,
            id: target.id, userPrincipalName: target.email, mail: target.email, displayName: target.name } }), null];
        }
        for (const r of MAILBOX_ROUTES) {
          if (match) break;
          const m = r[1].exec(tail);
          if (m && r[0] === method) { match = r; params = m; }
        }
        if (!match) throw new GraphError(400, 'BadRequest', `Unsupported request: ${method} ${rest}`);
        const calendarId = params[1];
        ctx.calendar = calendarId ? fake.state.calendars.get(decoded(calendarId)) : fake.state.defaultCalendar(grant.user);
        if (!ctx.calendar || !fake.state.accessOf(grant.user, ctx.calendar)) throw notFound('The specified calendar was not found.');
        if (params[2] !== undefined) ctx.params = { eventId: decoded(params[2]) };
      }
      route = match[2];
      if (!match[3].some((s) => grant.scopes.includes(s))) throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
      if (rawBody !== '') {
        if (!['POST', 'PATCH', 'PUT'].includes(method)) throw badRequest(`${method} takes no body.`, 'BadRequest');
        if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) throw new GraphError(415, 'UnsupportedMediaType', 'The request body must be application/json.');
        try { ctx.body = JSON.parse(rawBody); } catch { throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.', 'BadRequest'); }
      } else if (['POST', 'PATCH'].includes(method) && !route.endsWith('reauthorize')) {
        throw badRequest('Empty Payload. JSON content expected.', 'BadRequest');
      }
      const app = grant.clientId;
      const limitKey = mailbox ?? grant.user;
      fake.limits.admit(route, app, limitKey);
      let result;
      try {
        if (fake.options.latencyMs) await new Promise((r) => setTimeout(r, fake.options.latencyMs));
        result = await match[4](fake, ctx);
      } finally {
        fake.limits.release(limitKey);
      }
      return this.#answer(route, match[5], result, seen, ids);
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      const body = e.body(fake.clock.now(), headers['client-request-id'], ids['request-id']);
      this.#record(route, e.status, errorShapeOk(body) ? [] : ['error body does not have Graph\'s shape'], seen);
      const extra = e.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"' } : {};
      return { status: e.status, headers: { ...e.headers, ...extra, ...ids }, body };
    }
  }

  #authenticate(headers) {
    const auth = headers.authorization ?? '';
    const grant = auth.startsWith('Bearer ') ? this.fake.oauth.accessToken(auth.slice(7)) : null;
    if (!grant) {
      throw new GraphError(401, 'InvalidAuthenticationToken', auth ? 'Access token has expired or is not yet valid.' : 'Access token is empty.');
    }
    return { ...grant, user: grant.user.toLowerCase() };
  }

  #answer(route, entity, result, seen, ids) {
    const { status, body } = result;
    const problems = [];
    if (body !== null && entity) {
      const [type, many] = entity.endsWith('[]') ? [entity.slice(0, -2), true] : [entity, false];
      for (const item of many ? body.value ?? [] : [body]) {
        if (item['@removed']) continue;
        const { '@odata.context': ignored, ...rest } = item;
        problems.push(...responseProblems(type, rest));
      }
    }
    this.#record(route, status, problems, seen);
    if (problems.length) {
      const e = new GraphError(500, 'generalException', 'The fake broke its own contract; see violations.');
      return { status: 500, headers: ids, body: e.body(this.fake.clock.now(), ids['client-request-id'], ids['request-id']) };
    }
    return { status, headers: { ...(result.headers ?? {}), ...ids }, body };
  }

  #record(route, status, problems, seen) {
    this.fake.requests.push({ route, status, at: this.fake.clock.now(), ...seen });
    for (const p of problems) this.fake.violations.push({ route, status, problem: p });
  }
}

async function route(fake, req, res) {
  let url;
  try { url = new URL(req.url, 'http://fake'); } catch {
    return send(res, 400, {}, badRequest('Malformed request target.', 'BadRequest').body(fake.clock.now()));
  }
  let raw;
  try { raw = await readBody(req, fake.options.maxBodyBytes); } catch (e) {
    if (e.tooLarge) return send(res, 413, { Connection: 'close' }, new GraphError(413, 'RequestEntityTooLarge', 'The request body is too large.').body());
    throw e;
  }
  const path = url.pathname;
  if (path.startsWith('/__control/')) return serveControl(fake, req.method, path, req.headers, raw, res, send);
  if (path === '/v1.0/$batch') {
    if (req.method !== 'POST') return send(res, 405, { Allow: 'POST' }, new GraphError(405, 'BadRequest', 'A $batch is POSTed.').body(fake.clock.now()), CONTENT_TYPE);
    return batch(fake, req.headers, raw, res);
  }
  if (path.startsWith('/v1.0/')) {
    const r = await fake.api.call(req.method, req.url, req.headers, raw);
    return send(res, r.status, r.headers, r.body, CONTENT_TYPE);
  }
  const r = fake.oauth.route(req.method, new URL(req.url, fake.url), req.headers, raw);
  if (!r) return send(res, 404, {}, notFound('No such endpoint.').body());
  if (r.location) return send(res, r.status ?? 302, { ...(r.headers ?? {}), Location: r.location }, null);
  if (r.html !== undefined) {
    return send(res, r.status, { ...(r.headers ?? {}), 'Content-Security-Policy': "default-src 'none'; form-action 'self'" }, r.html, 'text/html; charset=utf-8');
  }
  return send(res, r.status, r.headers ?? {}, r.body ?? null, 'application/json; charset=utf-8');
}

async function batch(fake, headers, raw, res) {
  const ids = requestIds(headers);
  const fail = (e) => send(res, e.status, ids, e.body(fake.clock.now(), ids['client-request-id'], ids['request-id']), CONTENT_TYPE);
  // the batch itself needs a token the fake issued (each request then meets its own checks)
  const auth = headers.authorization ?? '';
  if (!auth.startsWith('Bearer ') || !fake.oauth.accessToken(auth.slice(7))) {
    return fail(new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty or not valid.'));
  }
  if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) return fail(new GraphError(415, 'UnsupportedMediaType', 'A $batch body must be application/json.'));
  let requests;
  try {
    let body;
    try { body = JSON.parse(raw); } catch { throw badRequest('Unable to read JSON request payload.', 'BadRequest'); }
    requests = parseBatch(body);
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
    return fail(e);
  }
  // the batch request itself, for tests that count HTTP requests (its requests are logged as calls)
  fake.batches.push({ requests: requests.length, at: fake.clock.now() });
  const outer = {};
  for (const k of ['authorization', 'client-request-id']) if (headers[k]) outer[k] = headers[k];
  const responses = await runBatch(requests, (method, path, inner, body) => fake.api.call(method, path, { ...outer, ...inner }, body),
    { parallelism: fake.options.batchParallelism, shuffle: fake.options.shuffle, random: fake.batchRandom, contentType: CONTENT_TYPE });
  return send(res, 200, ids, { responses }, CONTENT_TYPE);
}

/// Refuses an unknown switch or a value of another type than its default's (numbers: finite and
/// not negative, page sizes at least 1); null is allowed where the default is null or a limit.
export function checkSwitches(values) {
  const nullable = new Set(['deltaTokenLifetimeMs', 'mailboxRequestsPer10Min', 'retryAfterSeconds', 'deliveryCa', 'controlToken']);
  for (const [k, v] of Object.entries(values)) {
    if (!(k in DEFAULTS)) throw new Error(`unknown switch ${k}`);
    if (v === null || v === undefined) {
      if (nullable.has(k)) continue;
      throw new Error(`switch ${k} cannot be null`);
    }
    const d = DEFAULTS[k];
    const type = d === null || d === undefined ? (k === 'deliveryCa' || k === 'controlToken' ? 'string' : 'number') : typeof d;
    if (typeof v !== type) throw new Error(`switch ${k} must be a ${type}`);
    if (type === 'number' && (!Number.isFinite(v) || v < 0)) throw new Error(`switch ${k} must be a number from 0`);
    if (['defaultPageSize', 'maxPageSize', 'maxConcurrentPerMailbox', 'batchParallelism'].includes(k) && v < 1) throw new Error(`switch ${k} must be at least 1`);
    if (k === 'expiredDeltaAnswer' && !['410', 'syncStateNotFound', 'resyncRequired'].includes(v)) throw new Error('switch expiredDeltaAnswer: 410, syncStateNotFound or resyncRequired');
  }
}

export async function createGraphFake(options = {}, { port = 0, host = '127.0.0.1' } = {}) {
  checkSwitches(options);
  const fake = { options: { ...DEFAULTS, ...options }, clock: new Clock(), requests: [], batches: [], violations: [] };
  fake.state = new FakeState(fake.clock);
  fake.limits = new Limits(fake.clock, fake.options);
  fake.delta = new Delta(fake.state, fake.options);
  fake.batchRandom = generator(fake.options.seed + 13);
  fake.api = new Api(fake);
  fake.oauth = new MicrosoftOAuth(fake.state, fake.options);
  fake.subscriptions = new Subscriptions(fake.state, fake.options);
  const server = createServer((req, res) => {
    route(fake, req, res).catch((e) => {
      fake.violations.push({ route: null, status: 500, problem: `fake crashed: ${e.stack}` });
      if (!res.headersSent) send(res, 500, {}, new GraphError(500, 'generalException', 'The fake crashed.').body());
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => server.listen(port, host, resolve).on('error', reject));
  const base = `http://${host}:${server.address().port}`;
  fake.url = `${base}/`;
  fake.options.issuerBase = base;
  fake.control = new Control(fake);
  fake.close = async () => {
    await fake.subscriptions.settle();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}
