// The fake's usage limits and injected faults (CONTRACT.md §1 "Errors", limits.mjs): scripted
// fault rules (count- and rate-based, seeded), Google's error reasons and domains, no Retry-After
// unless asked, the per-user rate per minute (403 or 429), the daily quota per OAuth client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT, SCOPES, USER, api, events, reason, startFake, stopFake, timedEvent } from './helpers.mjs';

const BOB = 'bob@example.com';
const list = (fake, token) => api(fake, token, 'GET', events(), { query: { maxResults: 10 } });
const domain = (r) => r.body?.error?.errors?.[0]?.domain;

async function withFake(options, fn) {
  const { fake, token } = await startFake({ shortPages: false, ...options });
  try { await fn({ fake, token }); } finally { await stopFake(fake); }
}

// a fixed instant for the window tests: noon UTC 2026-03-02 plus 30 s, so a minute or a day later is
// another window whatever the time the test runs; the token is issued anew at that instant
function pinClock(fake) {
  fake.control.setClock({ now: Date.UTC(2026, 2, 2, 12, 0, 30), frozen: true });
  return fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId, scopes: [SCOPES.events, SCOPES.list] }).access_token;
}

async function statuses(fake, token, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await list(fake, token)).status);
  return out;
}

// a rule with times: exactly the next `times` matching requests fail
test('fault 429 times 2: the next 2 events.list fail with rateLimitExceeded/usageLimits, then pass', () => withFake({}, async ({ fake, token }) => {
  fake.control.setFaults([{ method: 'calendar.events.list', status: 429, times: 2 }]);
  for (let i = 0; i < 2; i++) {
    const r = await list(fake, token);
    assert.equal(r.status, 429);
    assert.equal(reason(r), 'rateLimitExceeded');
    assert.equal(domain(r), 'usageLimits');
    assert.equal(r.body.error.code, 429);
  }
  assert.deepEqual(await statuses(fake, token, 3), [200, 200, 200]);
}));

// a rule only hits its method
test('a fault rule on another method does not hit events.list', () => withFake({}, async ({ fake, token }) => {
  fake.control.setFaults([{ method: 'calendar.events.insert', status: 500, times: 1 }]);
  assert.equal((await list(fake, token)).status, 200);
  const insert = await api(fake, token, 'POST', events(), { body: timedEvent(fake, 1) });
  assert.equal(insert.status, 500);
  assert.equal((await api(fake, token, 'POST', events(), { body: timedEvent(fake, 2) })).status, 200);
}));

// 500 -> backendError
test('fault 500 -> backendError', () => withFake({}, async ({ fake, token }) => {
  fake.control.setFaults([{ method: 'calendar.events.list', status: 500 }]);
  const r = await list(fake, token);
  assert.equal(r.status, 500);
  assert.equal(reason(r), 'backendError');
  assert.equal(domain(r), 'global');
  assert.equal((await list(fake, token)).status, 200, 'a rule without times fails once');
}));

// 403 -> rateLimitExceeded (Google sends it as 403 too)
test('fault 403 -> rateLimitExceeded in usageLimits', () => withFake({}, async ({ fake, token }) => {
  fake.control.setFaults([{ status: 403, times: 1 }]);
  const r = await list(fake, token);
  assert.equal(r.status, 403);
  assert.equal(reason(r), 'rateLimitExceeded');
  assert.equal(domain(r), 'usageLimits');
}));

// rate-based faults come from a seeded generator: the same seed, the same run
test('rate 0.5 faults repeat for the same seed', () => withFake({}, async ({ fake, token }) => {
  const run = async () => {
    fake.control.setOptions({ seed: 7 });
    fake.control.setFaults([{ method: 'calendar.events.list', status: 503, rate: 0.5 }]);
    return statuses(fake, token, 20);
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(second, first);
  assert.ok(first.includes(503) && first.includes(200), `a mix: ${first}`);
  assert.ok(first.every((s) => s === 200 || s === 503));
}));

// no Retry-After by default; sent when retryAfterSeconds is set
test('no Retry-After by default, present with retryAfterSeconds', () => withFake({}, async ({ fake, token }) => {
  fake.control.setFaults([{ method: 'calendar.events.list', status: 429, times: 2 }]);
  const plain = await list(fake, token);
  assert.equal(plain.status, 429);
  assert.equal(plain.headers.get('retry-after'), null);
  fake.control.setOptions({ retryAfterSeconds: 30 });
  const told = await list(fake, token);
  assert.equal(told.status, 429);
  assert.equal(told.headers.get('retry-after'), '30');
}));

// per-user rate: the (n+1)th request in a minute -> 403 userRateLimitExceeded; the next minute passes
test('userRatePerMinute 3: the 4th request -> 403 userRateLimitExceeded, the next minute passes', () => withFake({ userRatePerMinute: 3 }, async ({ fake }) => {
  const token = pinClock(fake);
  assert.deepEqual(await statuses(fake, token, 3), [200, 200, 200]);
  const r = await list(fake, token);
  assert.equal(r.status, 403);
  assert.equal(reason(r), 'userRateLimitExceeded');
  assert.equal(domain(r), 'usageLimits');
  assert.equal(r.headers.get('retry-after'), null);
  fake.control.setClock({ advanceMs: 60000 });
  assert.deepEqual(await statuses(fake, token, 3), [200, 200, 200]);
}));

// rateLimitStatus 429: the rate limit answers 429 rateLimitExceeded
test('rateLimitStatus 429: over the rate -> 429 rateLimitExceeded', () => withFake({ userRatePerMinute: 2, rateLimitStatus: 429 }, async ({ fake, token }) => {
  fake.control.setClock({ frozen: true });
  assert.deepEqual(await statuses(fake, token, 2), [200, 200]);
  const r = await list(fake, token);
  assert.equal(r.status, 429);
  assert.equal(reason(r), 'rateLimitExceeded');
  assert.equal(domain(r), 'usageLimits');
}));

// the rate limit is per user
test('userRatePerMinute is per user: another user still passes', () => withFake({ userRatePerMinute: 3 }, async ({ fake, token }) => {
  fake.control.setClock({ frozen: true });
  fake.control.addUser({ email: BOB });
  const bob = fake.control.issueTokens({ user: BOB, clientId: CLIENT.clientId, scopes: [SCOPES.events, SCOPES.list] }).access_token;
  assert.deepEqual(await statuses(fake, token, 4), [200, 200, 200, 403]);
  assert.deepEqual(await statuses(fake, bob, 3), [200, 200, 200]);
  assert.equal(reason(await list(fake, bob)), 'userRateLimitExceeded');
}));

// daily quota per OAuth client -> 403 quotaExceeded, reset the next day
test('dailyQuota 2: the 3rd request -> 403 quotaExceeded, the next day passes', () => withFake({ dailyQuota: 2 }, async ({ fake }) => {
  const token = pinClock(fake);
  assert.deepEqual(await statuses(fake, token, 2), [200, 200]);
  const r = await list(fake, token);
  assert.equal(r.status, 403);
  assert.equal(reason(r), 'quotaExceeded');
  assert.equal(domain(r), 'usageLimits');
  fake.control.setClock({ advanceMs: 86400000 });
  // the access token (1 h) died over the day: a fresh one for the same user and client
  const fresh = fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId, scopes: [SCOPES.events, SCOPES.list] }).access_token;
  assert.deepEqual(await statuses(fake, fresh, 2), [200, 200]);
  assert.equal((await list(fake, fresh)).status, 403);
}));
