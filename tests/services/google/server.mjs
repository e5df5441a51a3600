// A strict contract fake of Google Calendar API v3 and Google's OAuth 2.0 side, on loopback HTTP.
// The rules are CONTRACT.md §1 and the discovery document (tests/data/contracts/google/); where
// the contract marks a point unverified the fake is stricter and the point is a switch (DEFAULTS).
//
//   import { createGoogleFake } from './server.mjs';
//   const fake = await createGoogleFake({ shortPages: false });   // options: DEFAULTS below
//   fake.url          root URL, e.g. http://127.0.0.1:PORT/  (googleapis: rootUrl)
//   fake.control      acting as users, faults, switches, clock, inspection (control.mjs); over HTTP
//                     at /__control/ when started with a controlToken (main.mjs)
//   fake.violations   responses the fake sent that broke the discovery document (must stay empty)
//   await fake.close()
//
// Routes: /calendar/v3/... (the API, per the discovery document), /batch/calendar/v3, the OAuth
// endpoints of oauth.mjs, /__control/... . Request bodies are limited to options.maxBodyBytes (413).
import { createServer } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { ApiError, invalid, notFound, sampleError, unsupported } from './errors.mjs';
import { batchPath, checkQuery, checkRequest, matchMethod, responseProblems, scopeAllows, servicePath } from './discovery.mjs';
import * as events from './events.mjs';
import { formatBatch, parseBatch } from './batch.mjs';
import { Limits } from './limits.mjs';
import { OAuth } from './oauth.mjs';
import { Push } from './push.mjs';
import { Clock, FakeState } from './state.mjs';
import { Control, serveControl } from './control.mjs';
import { readBody, send } from '../common/http.mjs';

const DAY = 86400000;
export const DEFAULTS = {
  shortPages: true,                     // pages shorter than maxResults, some empty, nextPageToken still set
  cancelledOccurrencesInFullSync: true, // Google's quirk: cancelled occurrences of live series listed without showDeleted
  syncTokenBoundToQuery: true,          // [U] a sync token used with other singleEvents/eventTypes -> 400
  syncTokenLifetimeMs: null,            // sync tokens expire after this (410); null: only on demand
  updatedMinHorizonMs: 28 * DAY,        // an older updatedMin -> 410 updatedMinTooLongAgo
  insertKeepsICalUID: false,            // [U] events.insert ignores a client iCalUID (use import for that)
  maxChannelLifetimeMs: 7 * DAY,        // [U] a watch channel's lifetime is capped at this
  syncBeforeWatchResponse: true,        // the "sync" message arrives before the watch answer
  messageNumberGaps: true,              // message numbers jump (1 + 0..2)
  deliveryRetries: 2,                   // retries of a delivery answered 500/502/503/504 or failed
  deliveryBackoffMs: 100,
  notificationDropRate: 0,              // share of change notifications never sent (Google: "not 100 % reliable")
  notificationRepeatRate: 0,            // share of change notifications sent twice
  deliveryCa: undefined,                // PEM of the CA the HTTPS receiver's certificate chains to
  rotateRefreshTokens: false,           // Google keeps the refresh token; true: a new one each refresh
  accessTokenLifetimeS: 3599,
  userRatePerMinute: null,              // requests per user and minute; null: unlimited
  rateLimitStatus: 403,                 // 403 userRateLimitExceeded or 429 rateLimitExceeded
  dailyQuota: null,                     // requests per OAuth client and day; null: unlimited
  retryAfterSeconds: null,              // Google sends no Retry-After for Calendar
  seed: 1,                              // of the generator behind rate-based faults
  maxBodyBytes: 1024 * 1024,
  controlToken: null,                   // bearer token of /__control/; null: no HTTP control
};

const HANDLERS = {
  'calendar.events.list': events.list,
  'calendar.events.get': events.get,
  'calendar.events.insert': events.insert,
  'calendar.events.update': events.update,
  'calendar.events.patch': events.patch,
  'calendar.events.delete': events.remove,
  'calendar.events.instances': events.instances,
  'calendar.calendarList.list': events.calendarListList,
  'calendar.calendarList.get': events.calendarListGet,
  'calendar.calendars.get': events.calendarsGet,
};
const IGNORED_GLOBALS = ['alt', 'prettyPrint', 'quotaUser', 'userIp'];

function errorShapeProblems(body) {
  const e = body?.error;
  const ok = e && Number.isInteger(e.code) && typeof e.message === 'string' && Array.isArray(e.errors) && e.errors.length > 0 &&
    e.errors.every((x) => typeof x.domain === 'string' && typeof x.reason === 'string' && typeof x.message === 'string');
  return ok ? [] : ['error body does not have Google\'s shape'];
}

class Api {
  constructor(fake) { this.fake = fake; }

  /// One API call: {status, headers, body (object or null)}.
  async call(httpMethod, rawPath, headers, rawBody = '') {
    const { fake } = this;
    let match = null;
    let url = null;
    const seen = { httpMethod, path: null, query: {}, ifMatch: headers['if-match'] ?? null };
    try {
      try { url = new URL(rawPath.startsWith('/') ? rawPath : '/', 'http://fake'); } catch { throw invalid('Malformed request path.', 'path'); }
      seen.path = url.pathname;
      seen.query = Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')]));
      if (!url.pathname.startsWith(servicePath)) throw notFound();
      match = matchMethod(httpMethod, url.pathname.slice(servicePath.length));
      if (!match) throw notFound();
      const handler = match.id === 'calendar.events.watch' ? (ctx) => fake.push.watch(ctx)
        : match.id === 'calendar.channels.stop' ? (ctx) => fake.push.stop(ctx) : HANDLERS[match.id];
      if (!handler) throw unsupported(`the method ${match.id}`);
      const grant = this.#authenticate(headers);
      if (!scopeAllows(match, grant.scopes)) {
        throw new ApiError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.');
      }
      fake.limits.check(match.id, grant.user, grant.clientId);
      const ctx = this.#context(match, url, headers, rawBody, grant);
      ctx.rawPath = rawPath;
      const result = await handler(ctx);
      return this.#answer(match, result, seen);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const body = e.body();
      this.#record(match, e.status, errorShapeProblems(body), seen);
      const extra = e.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' } : {};
      return { status: e.status, headers: { ...e.headers, ...extra }, body };
    }
  }

  #authenticate(headers) {
    const auth = headers.authorization ?? '';
    const grant = auth.startsWith('Bearer ') ? this.fake.oauth.accessToken(auth.slice(7)) : null;
    if (!grant) throw sampleError(401, 'authError');
    return grant;
  }

  #context(match, url, headers, rawBody, grant) {
    const query = checkQuery(match, url.searchParams);
    for (const g of IGNORED_GLOBALS) delete query[g];
    if (query.fields !== undefined) throw unsupported('partial responses (fields)');
    if (query.key !== undefined || query.oauth_token !== undefined) throw invalid('Credentials go in the Authorization header.', 'key');
    let body = null;
    if (rawBody !== '') {
      if (!match.method.request) throw invalid(`${match.id} takes no request body.`, 'body', 'body');
      if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) throw invalid('The request body must be application/json.', 'Content-Type', 'header');
      try { body = JSON.parse(rawBody); } catch { throw new ApiError(400, 'parseError', 'Parse Error'); }
      checkRequest(match.method.request.$ref, match.httpMethod === 'PATCH' ? events.withoutNulls(body) : body);
    } else if (match.method.request) {
      throw invalid('A request body is required.', 'body', 'body', 'required');
    }
    const ctx = { state: this.fake.state, options: this.fake.options, clock: this.fake.clock, user: grant.user,
      clientId: grant.clientId, params: match.params, query, body, header: (name) => headers[name] };
    if (match.params.calendarId !== undefined) {
      ctx.calendar = this.fake.state.calendarOf(grant.user, match.params.calendarId);
      if (!ctx.calendar) throw notFound();
    }
    return ctx;
  }

  #answer(match, result, seen) {
    const { status, body } = result;
    const schema = match.method.response?.$ref;
    const problems = body !== null && schema ? responseProblems(schema, body) : [];
    if (body !== null && !schema) problems.push(`${match.id} has no response schema but the fake sent a body`);
    this.#record(match, status, problems, seen);
    if (problems.length) {
      const e = sampleError(500, 'backendError');
      return { status: 500, headers: {}, body: e.body() };
    }
    const etag = body?.etag ?? (status === 304 ? result.etag : undefined);
    const headers = etag ? { ETag: etag } : {};
    return { status, headers, body };
  }

  #record(match, status, problems, seen) {
    // what was asked (path, query, If-Match) and answered, for tests that assert request shapes
    this.fake.requests.push({ method: match?.id ?? null, status, at: this.fake.clock.now(), ...seen });
    for (const p of problems) this.fake.violations.push({ method: match?.id ?? null, status, problem: p });
  }
}

const form = (text) => Object.fromEntries(new URLSearchParams(text));

async function route(fake, req, res) {
  const url = new URL(req.url, 'http://fake');
  const path = url.pathname;
  let raw;
  try { raw = await readBody(req, fake.options.maxBodyBytes); } catch (e) {
    if (e.tooLarge) return send(res, 413, { Connection: 'close' }, new ApiError(413, 'uploadTooLarge', 'Request Entity Too Large').body());
    throw e;
  }
  const headers = req.headers;
  if (path.startsWith('/__control/')) return serveControl(fake, req.method, path, req.headers, raw, res, send);
  if (path.startsWith(servicePath)) {
    const r = await fake.api.call(req.method, req.url, headers, raw);
    return send(res, r.status, r.headers, r.body);
  }
  if (path === batchPath && req.method === 'POST') return batch(fake, headers, raw, res);
  const base = fake.options.issuer;
  if (req.method === 'GET' && path === '/.well-known/openid-configuration') return send(res, 200, {}, fake.oauth.discovery(base));
  if (req.method === 'GET' && path === '/oauth2/v3/certs') return send(res, 200, {}, fake.oauth.jwks());
  if (req.method === 'GET' && path === '/oauth2/v1/certs') return send(res, 200, {}, fake.oauth.pemKeys());
  if (req.method === 'GET' && path === '/o/oauth2/v2/auth') {
    return htmlOrRedirect(res, fake.oauth.authorize(Object.fromEntries(url.searchParams)));
  }
  if (req.method === 'POST' && path === '/o/oauth2/v2/auth/decision') return htmlOrRedirect(res, fake.oauth.decide(form(raw)));
  if (req.method === 'POST' && path === '/token') {
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      return send(res, 400, {}, { error: 'invalid_request', error_description: 'The token request must be application/x-www-form-urlencoded.' });
    }
    const r = fake.oauth.token(form(raw), req.headers.authorization);
    return send(res, r.status, { 'Cache-Control': 'no-store' }, r.body);
  }
  if (req.method === 'POST' && path === '/revoke') {
    const r = fake.oauth.revoke(url.searchParams.get('token') ?? form(raw).token);
    return send(res, r.status, {}, r.body);
  }
  if (req.method === 'GET' && (path === '/v1/userinfo' || path === '/oauth2/v3/userinfo')) {
    const auth = req.headers.authorization ?? '';
    const r = fake.oauth.userinfo(auth.startsWith('Bearer ') ? auth.slice(7) : null);
    return send(res, r.status, {}, r.body);
  }
  return send(res, 404, {}, notFound().body());
}

function htmlOrRedirect(res, r) {
  if (r.status === 302) return send(res, 302, { Location: r.location }, null);
  const formAction = r.formTarget ? `'self' ${r.formTarget}` : "'self'";
  return send(res, r.status, { 'Content-Security-Policy': `default-src 'none'; form-action ${formAction}` }, r.html, 'text/html; charset=utf-8');
}

async function batch(fake, headers, raw, res) {
  let parts;
  try { parts = parseBatch(headers['content-type'], raw); } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return send(res, e.status, {}, e.body());
  }
  // the batch request itself, for tests that count HTTP requests (its parts are logged as calls)
  fake.batches.push({ parts: parts.length, at: fake.clock.now() });
  const responses = [];
  for (const part of parts) {
    // the outer request's headers apply to every part unless the part sets its own (its body's
    // Content-* headers are its own)
    const inner = { ...part.headers };
    for (const [k, v] of Object.entries(headers)) {
      if (!k.startsWith('content-') && !['host', 'connection', 'transfer-encoding', 'accept-encoding'].includes(k) && inner[k] === undefined) inner[k] = v;
    }
    if (!part.path.startsWith(servicePath)) {
      const e = invalid('A batch part must address the Calendar API (/calendar/v3/...).', 'path', 'body');
      responses.push({ contentId: part.contentId, status: 400, reason: 'Bad Request', headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: JSON.stringify(e.body()) });
      continue;
    }
    const r = await fake.api.call(part.method, part.path, inner, part.body);
    const h = { ...r.headers };
    if (r.body !== null) h['Content-Type'] = 'application/json; charset=UTF-8';
    responses.push({ contentId: part.contentId, status: r.status, reason: STATUS_CODES[r.status] ?? '', headers: h,
      body: r.body === null ? '' : JSON.stringify(r.body) });
  }
  const out = formatBatch(responses);
  return send(res, 200, {}, out.body, out.contentType);
}

export async function createGoogleFake(options = {}, { port = 0, host = '127.0.0.1' } = {}) {
  const fake = { options: { ...DEFAULTS, ...options }, clock: new Clock(), requests: [], batches: [], violations: [] };
  fake.state = new FakeState(fake.clock);
  fake.limits = new Limits(fake.clock, fake.options);
  fake.api = new Api(fake);
  const server = createServer((req, res) => {
    route(fake, req, res).catch((e) => {
      fake.violations.push({ method: null, status: 500, problem: `fake crashed: ${e.stack}` });
      if (!res.headersSent) send(res, 500, {}, sampleError(500, 'backendError').body());
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => server.listen(port, host, resolve).on('error', reject));
  const base = `http://${host}:${server.address().port}`;
  fake.url = `${base}/`;
  fake.options.issuer ??= base;
  fake.oauth = new OAuth(fake.state, fake.options);
  fake.push = new Push(fake.state, fake.options, fake.url);
  fake.control = new Control(fake);
  fake.close = async () => {
    await fake.push.settle();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}
