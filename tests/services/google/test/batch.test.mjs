// The fake's batch rules (CONTRACT.md §1 "Batch", batch.mjs): POST /batch/calendar/v3 with a
// multipart/mixed body of application/http parts; answers in request order with
// Content-ID <response-…>, each part a full HTTP response failing on its own; outer headers apply
// to parts unless overridden; at most 1000 parts; each part counts for the limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT, SCOPES, USER, api, reason, startFake, stopFake, timedEvent } from './helpers.mjs';

const BOUNDARY = 'batch_calgate_test';
const EVENTS = '/calendar/v3/calendars/primary/events';
const PRIMARY_ENTRY = '/calendar/v3/users/me/calendarList/primary';

/// A multipart/mixed batch body: requests [{id?, line, headers?, body?, partType?}].
function batchBody(requests, boundary = BOUNDARY) {
  let out = '';
  for (const r of requests) {
    out += `--${boundary}\r\nContent-Type: ${r.partType ?? 'application/http'}\r\n`;
    if (r.id) out += `Content-ID: <${r.id}>\r\n`;
    out += `\r\n${r.line}\r\n`;
    for (const [k, v] of Object.entries(r.headers ?? {})) out += `${k}: ${v}\r\n`;
    out += r.body !== undefined ? `Content-Type: application/json\r\n\r\n${JSON.stringify(r.body)}\r\n` : '\r\n';
  }
  return `${out}--${boundary}--\r\n`;
}

function sendBatch(fake, token, requests, { contentType = `multipart/mixed; boundary=${BOUNDARY}`, headers = {} } = {}) {
  return api(fake, token, 'POST', 'batch/calendar/v3', { rawBody: batchBody(requests), headers: { 'Content-Type': contentType, ...headers } });
}

const split = (text) => {
  const i = text.indexOf('\r\n\r\n');
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 4)];
};
const headerMap = (lines) => Object.fromEntries(lines.filter(Boolean).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));

/// The parts of a batch answer: [{contentId, partType, status, statusText, headers, json}].
function partsOf(res) {
  assert.equal(res.status, 200, res.text);
  const boundary = /^multipart\/mixed;\s*boundary="?([^";]+)"?$/.exec(res.headers.get('content-type'))?.[1];
  assert.ok(boundary, `multipart/mixed answer: ${res.headers.get('content-type')}`);
  const chunks = res.text.split(`--${boundary}`);
  assert.match(chunks.at(-1), /^--\r\n$/);
  return chunks.slice(1, -1).map((raw) => {
    const [head, http] = split(raw.replace(/^\r\n/, ''));
    const outer = headerMap(head.split('\r\n'));
    const [innerHead, body] = split(http);
    const [statusLine, ...lines] = innerHead.split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) (.+)$/.exec(statusLine);
    assert.ok(m, `status line: ${statusLine}`);
    const text = body.replace(/\r\n$/, '');
    return { contentId: outer['content-id'] ?? null, partType: outer['content-type'], status: Number(m[1]), statusText: m[2],
      headers: headerMap(lines), json: text ? JSON.parse(text) : null };
  });
}

const partReason = (p) => p.json?.error?.errors?.[0]?.reason;

async function withFake(options, fn) {
  const { fake, token } = await startFake({ shortPages: false, ...options });
  try { await fn({ fake, token }); } finally { await stopFake(fake); }
}

// answers in request order, Content-ID <response-X>, each part a full HTTP response
test('batch answers part by part in request order with Content-ID <response-…>', () => withFake({}, async ({ fake, token }) => {
  const res = await sendBatch(fake, token, [
    { id: 'zeta', line: `POST ${EVENTS}`, body: { id: 'batchorder1', ...timedEvent(fake, 1) } },
    { id: 'alpha:1@calgate', line: `GET ${EVENTS}/batchorder1` },
    { id: 'mid', line: `GET ${EVENTS}/nosuchevent1` },
    { id: 'beta', line: `DELETE ${EVENTS}/batchorder1 HTTP/1.1` },
  ]);
  const parts = partsOf(res);
  assert.deepEqual(parts.map((p) => p.contentId), ['<response-zeta>', '<response-alpha:1@calgate>', '<response-mid>', '<response-beta>']);
  assert.deepEqual(parts.map((p) => p.partType), Array(4).fill('application/http'));
  assert.deepEqual(parts.map((p) => [p.status, p.statusText]), [[200, 'OK'], [200, 'OK'], [404, 'Not Found'], [204, 'No Content']]);
  assert.equal(parts[0].json.id, 'batchorder1');
  assert.match(parts[0].headers['content-type'], /^application\/json/);
  assert.equal(parts[1].headers.etag, parts[1].json.etag);
  assert.equal(parts[1].json.kind, 'calendar#event');
  assert.equal(partReason(parts[2]), 'notFound');
  assert.equal(parts[3].json, null);
}));

// parts fail independently
test('a 409 duplicate part amid 200s: the other parts still run', () => withFake({}, async ({ fake, token }) => {
  const parts = partsOf(await sendBatch(fake, token, [
    { id: 'a', line: `POST ${EVENTS}`, body: { id: 'batchdup01', ...timedEvent(fake, 1) } },
    { id: 'b', line: `POST ${EVENTS}`, body: { id: 'batchdup01', ...timedEvent(fake, 2) } },
    { id: 'c', line: `POST ${EVENTS}`, body: { id: 'batchdup02', ...timedEvent(fake, 3) } },
  ]));
  assert.deepEqual(parts.map((p) => p.status), [200, 409, 200]);
  assert.equal(partReason(parts[1]), 'duplicate');
  assert.equal((await api(fake, token, 'GET', `${EVENTS}/batchdup02`)).status, 200);
  assert.equal((await api(fake, token, 'GET', `${EVENTS}/batchdup01`)).body.summary, timedEvent(fake, 1).summary);
}));

// the outer Authorization applies to every part; a part's own Authorization overrides it
test('outer Authorization applies to parts, a part\'s own Authorization wins', () => withFake({}, async ({ fake, token }) => {
  fake.control.addUser({ email: 'bob@example.com' });
  const bob = fake.control.issueTokens({ user: 'bob@example.com', clientId: CLIENT.clientId, scopes: [SCOPES.events, SCOPES.list] }).access_token;
  const parts = partsOf(await sendBatch(fake, token, [
    { id: 'outer', line: `GET ${PRIMARY_ENTRY}` },
    { id: 'bob', line: `GET ${PRIMARY_ENTRY}`, headers: { Authorization: `Bearer ${bob}` } },
    { id: 'bogus', line: `GET ${PRIMARY_ENTRY}`, headers: { Authorization: 'Bearer not-a-token' } },
  ]));
  assert.deepEqual(parts.map((p) => p.status), [200, 200, 401]);
  assert.equal(parts[0].json.id, USER);
  assert.equal(parts[1].json.id, 'bob@example.com');
  assert.equal(partReason(parts[2]), 'authError');
  // without an outer Authorization a part without its own is unauthenticated
  const bare = partsOf(await sendBatch(fake, null, [{ id: 'x', line: `GET ${PRIMARY_ENTRY}` }]));
  assert.equal(bare[0].status, 401);
}));

// outer headers (other than Content-*) apply to parts too, e.g. If-None-Match; a part's own wins
test('outer If-None-Match applies to parts unless a part sets its own', () => withFake({}, async ({ fake, token }) => {
  const created = (await api(fake, token, 'POST', EVENTS, { body: { id: 'batchetag1', ...timedEvent(fake, 1) } })).body;
  const parts = partsOf(await sendBatch(fake, token, [
    { id: 'a', line: `GET ${EVENTS}/batchetag1` },
    { id: 'b', line: `GET ${EVENTS}/batchetag1`, headers: { 'If-None-Match': '"other"' } },
  ], { headers: { 'If-None-Match': created.etag } }));
  assert.deepEqual(parts.map((p) => p.status), [304, 200]);
}));

// the body must be multipart/mixed with a boundary
test('a batch without boundary or not multipart -> 400', () => withFake({}, async ({ fake, token }) => {
  const one = [{ id: 'a', line: `GET ${PRIMARY_ENTRY}` }];
  for (const contentType of ['multipart/mixed', 'application/json', 'text/plain; boundary=batch_calgate_test', 'multipart/form-data; boundary=batch_calgate_test']) {
    const r = await sendBatch(fake, token, one, { contentType });
    assert.equal(r.status, 400, contentType);
    assert.equal(reason(r), 'invalid', contentType);
  }
  assert.equal(fake.requests.length, 0, 'no part ran');
}));

// every part must be application/http
test('a part that is not application/http -> 400 for the batch', () => withFake({}, async ({ fake, token }) => {
  const r = await sendBatch(fake, token, [
    { id: 'a', line: `GET ${PRIMARY_ENTRY}` },
    { id: 'b', line: `GET ${PRIMARY_ENTRY}`, partType: 'application/json' },
  ]);
  assert.equal(r.status, 400);
  assert.equal(reason(r), 'invalid');
  assert.equal(fake.requests.length, 0, 'no part ran');
}));

// a part may only address the Calendar API
test('a part addressing a path outside /calendar/v3 -> that part 400', () => withFake({}, async ({ fake, token }) => {
  const parts = partsOf(await sendBatch(fake, token, [
    { id: 'a', line: `GET ${PRIMARY_ENTRY}` },
    { id: 'b', line: 'GET /drive/v3/files' },
    { id: 'c', line: 'GET /batch/calendar/v3' },
    { id: 'd', line: `GET ${PRIMARY_ENTRY}` },
  ]));
  assert.deepEqual(parts.map((p) => p.status), [200, 400, 400, 200]);
  assert.equal(partReason(parts[1]), 'invalid');
  assert.equal(parts[1].contentId, '<response-b>');
}));

// at most 1000 parts
test('1000 parts pass, 1001 parts -> 400', () => withFake({}, async ({ fake, token }) => {
  const part = (i) => ({ id: `p${i}`, line: `GET ${PRIMARY_ENTRY}` });
  const tooMany = await sendBatch(fake, token, Array.from({ length: 1001 }, (_, i) => part(i)));
  assert.equal(tooMany.status, 400);
  assert.equal(reason(tooMany), 'invalid');
  assert.equal(fake.requests.length, 0, 'no part ran');
  const parts = partsOf(await sendBatch(fake, token, Array.from({ length: 1000 }, (_, i) => part(i))));
  assert.equal(parts.length, 1000);
  assert.ok(parts.every((p) => p.status === 200));
  assert.equal(parts[999].contentId, '<response-p999>');
}));

// each part counts as one request for the rate limit
test('each part counts for userRatePerMinute: the 4th of 4 parts -> 403 userRateLimitExceeded', () => withFake({ userRatePerMinute: 3 }, async ({ fake, token }) => {
  fake.control.setClock({ frozen: true });
  const parts = partsOf(await sendBatch(fake, token, Array.from({ length: 4 }, (_, i) => ({ id: `r${i}`, line: `GET ${PRIMARY_ENTRY}` }))));
  assert.deepEqual(parts.map((p) => p.status), [200, 200, 200, 403]);
  assert.equal(partReason(parts[3]), 'userRateLimitExceeded');
  assert.equal(parts[3].json.error.errors[0].domain, 'usageLimits');
}));
