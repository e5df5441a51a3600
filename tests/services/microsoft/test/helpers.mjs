// Test plumbing for the Graph contract fake's own tests: a fake with one work user and one app
// registration, a raw API client (fetch), a delta walker and event bodies.
import assert from 'node:assert/strict';
import { createGraphFake } from '../server.mjs';

export const USER = 'ada@contoso.example';
export const OTHER = 'bob@contoso.example';
export const CLIENT = { clientId: '11111111-2222-4333-8444-555555555555', clientSecret: 'test~secret', redirectUris: ['http://127.0.0.1:9/oauth/callback'] };
export const SCOPES = ['openid', 'email', 'profile', 'offline_access', 'Calendars.ReadWrite'];

/// A fake with USER and OTHER (work accounts), CLIENT, and an access token for USER.
export async function startFake(options = {}, { scopes = SCOPES } = {}) {
  const fake = await createGraphFake({ emptyPages: false, replayRate: 0, duplicateRate: 0, shuffle: false, ...options });
  fake.control.addUser({ email: USER, name: 'Ada' });
  fake.control.addUser({ email: OTHER, name: 'Bob' });
  fake.control.registerClient(CLIENT);
  const tokens = fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId, scopes });
  const calendarId = fake.state.defaultCalendar(USER).id;
  return { fake, token: tokens.access_token, tokens, calendarId };
}

/// Fails when the fake sent any answer that breaks the CSDL or Graph's error shape, then closes it.
export async function stopFake(fake) {
  await fake.subscriptions.settle();
  const violations = fake.violations;
  await fake.close();
  assert.deepEqual(violations, [], 'the fake sent answers outside the contract');
}

/// A raw API call: {status, headers, body (parsed JSON or null), text}. `path` is relative to the
/// fake's root ("v1.0/me/events") or an absolute link the fake gave.
export async function api(fake, token, method, path, { query, body, headers = {}, rawBody } = {}) {
  const url = /^https?:/.test(path) ? new URL(path) : new URL(path.replace(/^\//, ''), fake.url);
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.append(k, String(v));
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = rawBody;
  if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] ??= 'application/json'; }
  const res = await fetch(url, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const code = (r) => r.body?.error?.code;

/// A window around the fake's now: [now - days, now + days].
export function window(fake, days = 30) {
  const now = fake.clock.now();
  return { startDateTime: new Date(now - days * 86400000).toISOString(), endDateTime: new Date(now + days * 86400000).toISOString() };
}

/// One delta round from `link` (or the initial request with `query`), following nextLinks to the
/// deltaLink: {items, pages, deltaLink}.
export async function deltaRound(fake, token, { link, query, headers = {}, path = 'v1.0/me/calendarView/delta' } = {}) {
  const items = [];
  const pages = [];
  let next = link ?? null;
  for (let i = 0; i < 1000; i++) {
    const r = next ? await api(fake, token, 'GET', next, { headers }) : await api(fake, token, 'GET', path, { query, headers });
    assert.equal(r.status, 200, r.text);
    pages.push(r.body);
    items.push(...r.body.value);
    const hasNext = r.body['@odata.nextLink'] !== undefined;
    assert.notEqual(hasNext, r.body['@odata.deltaLink'] !== undefined, 'exactly one of nextLink and deltaLink');
    if (!hasNext) return { items, pages, deltaLink: r.body['@odata.deltaLink'] };
    next = r.body['@odata.nextLink'];
  }
  throw new Error('paging did not end');
}

/// A timed event body starting `hoursFromNow` hours from the fake's now (UTC wall times).
export function timedEvent(fake, hoursFromNow, extra = {}) {
  const start = fake.clock.now() + hoursFromNow * 3600000;
  const wall = (ms) => new Date(ms).toISOString().slice(0, 19);
  return { subject: `event at +${hoursFromNow}h`, start: { dateTime: wall(start), timeZone: 'UTC' },
    end: { dateTime: wall(start + 3600000), timeZone: 'UTC' }, ...extra };
}

/// A daily series of `count` occurrences at 09:00 UTC from the day after the fake's now.
export function dailySeries(fake, count, extra = {}) {
  const day = new Date(Math.floor(fake.clock.now() / 86400000) * 86400000 + 86400000).toISOString().slice(0, 10);
  return { subject: 'stand-up', start: { dateTime: `${day}T09:00:00`, timeZone: 'UTC' }, end: { dateTime: `${day}T09:15:00`, timeZone: 'UTC' },
    recurrence: { pattern: { type: 'daily', interval: 1 }, range: { type: 'numbered', startDate: day, numberOfOccurrences: count } }, ...extra };
}
