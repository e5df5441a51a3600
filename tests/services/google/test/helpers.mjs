// Test plumbing for the Google contract fake's own tests: a fake with one Workspace user and one
// OAuth client, a scripted browser for the consent page, a raw API client (fetch) and an HTTPS
// receiver for push deliveries (certificate made by openssl for 127.0.0.1).
import assert from 'node:assert/strict';
import { createGoogleFake } from '../server.mjs';
import { httpsReceiver as baseReceiver } from '../../common/https-receiver.mjs';

export const USER = 'ada@acme.example';
export const CLIENT = { clientId: 'calgate-test.apps.googleusercontent.com', clientSecret: 'GOCSPX-test-secret', redirectUris: ['http://127.0.0.1:9/oauth/callback'] };
export const SCOPES = {
  events: 'https://www.googleapis.com/auth/calendar.events',
  list: 'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
  readonly: 'https://www.googleapis.com/auth/calendar.readonly',
};

/// A fake with USER (Workspace domain acme.example) and CLIENT, and (unless grant is false) an
/// access token for USER with both calendar scopes.
export async function startFake(options = {}, { grant = true } = {}) {
  const fake = await createGoogleFake(options);
  fake.control.addUser({ email: USER, hd: 'acme.example', name: 'Ada' });
  fake.control.registerClient(CLIENT);
  if (!grant) return { fake };  // USER has not consented yet: the first consent brings a refresh token
  const tokens = fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId, scopes: ['openid', 'email', SCOPES.events, SCOPES.list] });
  return { fake, token: tokens.access_token, tokens };
}

/// Fails when the fake sent any response that breaks the discovery document, then closes it.
export async function stopFake(fake) {
  await fake.push.settle();
  const violations = fake.violations;
  await fake.close();
  assert.deepEqual(violations, [], 'the fake sent responses outside the discovery document');
}

/// A raw API call: {status, headers, body (parsed JSON or null), text}.
export async function api(fake, token, method, path, { query, body, headers = {}, rawBody, contentType } = {}) {
  const url = new URL(path.replace(/^\//, ''), fake.url);
  for (const [k, v] of Object.entries(query ?? {})) {
    for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(one));
  }
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload = rawBody;
  if (body !== undefined) { payload = JSON.stringify(body); h['Content-Type'] = contentType ?? 'application/json'; }
  const res = await fetch(url, { method, headers: h, body: payload, redirect: 'manual' });
  const text = await res.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const events = (calendarId = 'primary') => `calendar/v3/calendars/${encodeURIComponent(calendarId)}/events`;
export const reason = (r) => r.body?.error?.errors?.[0]?.reason;

/// Every item of a listing, following nextPageToken with the same query: {items, pages, syncToken}.
export async function listAll(fake, token, query = {}, path = events()) {
  const items = [];
  const pages = [];
  let pageToken;
  for (let i = 0; i < 1000; i++) {
    const r = await api(fake, token, 'GET', path, { query: { ...query, ...(pageToken ? { pageToken } : {}) } });
    assert.equal(r.status, 200, r.text);
    pages.push(r.body);
    items.push(...r.body.items);
    if (!r.body.nextPageToken) return { items, pages, syncToken: r.body.nextSyncToken };
    assert.equal(r.body.nextSyncToken, undefined, 'nextSyncToken only on the last page');
    pageToken = r.body.nextPageToken;
  }
  throw new Error('paging did not end');
}

/// A timed event resource starting `hoursFromNow` hours from the fake's now.
export function timedEvent(fake, hoursFromNow, extra = {}) {
  const start = fake.clock.now() + hoursFromNow * 3600000;
  return { summary: `event at +${hoursFromNow}h`, start: { dateTime: new Date(start).toISOString() },
    end: { dateTime: new Date(start + 3600000).toISOString() }, ...extra };
}

/// The consent page as a browser: open `authUrl`, pick `account`, allow or deny; the redirect.
export async function consent(authUrl, account, decision = 'allow') {
  const page = await fetch(authUrl, { redirect: 'manual' });
  if (page.status === 302) return page.headers.get('location');
  const html = await page.text();
  const request = /name="request" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(request, `no consent form (${page.status}): ${html}`);
  const action = new URL('/o/oauth2/v2/auth/decision', authUrl);
  const answer = await fetch(action, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, account, decision }) });
  assert.equal(answer.status, 302, await answer.text());
  return answer.headers.get('location');
}

/// An HTTPS server on 127.0.0.1 recording push deliveries; `status` is what it answers.
export const httpsReceiver = () => baseReceiver('/webhooks/google');
