// Bodies are checked against the CSDL's entity definitions, and every answer of the fake is too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, code, startFake, stopFake, timedEvent } from './helpers.mjs';
import { responseProblems } from '../csdl.mjs';

const cases = [
  ['an unknown property', { colour: 'red' }, /does not exist on type 'microsoft.graph.event'/],
  ['a wrong primitive type', { subject: 42 }, /subject must be a string/],
  ['an enum value outside the set', { showAs: 'away' }, /showAs must be one of/],
  ['a read-only property', { iCalUId: 'x' }, /read-only/],
  ['a nested wrong type', { body: { contentType: 'markdown', content: 'x' } }, /body.contentType must be one of text\|html/],
  ['null for a non-nullable collection', { cancelledOccurrences: null }, /read-only|must not be null/],
  ['an annotation other than @odata.type', { '@odata.etag': 'W/"x"' }, /annotation/],
];
for (const [name, extra, message] of cases) {
  test(`create refuses ${name} (400 RequestBodyRead)`, async () => {
    const { fake, token } = await startFake();
    const r = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1, extra) });
    assert.equal(r.status, 400, r.text);
    assert.equal(code(r), 'RequestBodyRead');
    assert.match(r.body.error.message, message);
    await stopFake(fake);
  });
}

test('a matching @odata.type is allowed', async () => {
  const { fake, token } = await startFake();
  const r = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1, { '@odata.type': '#microsoft.graph.event' }) });
  assert.equal(r.status, 201, r.text);
  await stopFake(fake);
});

test('a body must be JSON with Content-Type application/json', async () => {
  const { fake, token } = await startFake();
  const wrongType = await api(fake, token, 'POST', 'v1.0/me/events', { rawBody: '{}', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(wrongType.status, 415);
  const broken = await api(fake, token, 'POST', 'v1.0/me/events', { rawBody: '{', headers: { 'Content-Type': 'application/json' } });
  assert.equal(broken.status, 400);
  await stopFake(fake);
});

test('errors have Graph\'s shape: code, message, innerError with request-id and date', async () => {
  const { fake, token } = await startFake();
  const r = await api(fake, token, 'GET', 'v1.0/me/events/nope', { headers: { 'client-request-id': 'abc-123' } });
  assert.equal(r.status, 404);
  assert.equal(typeof r.body.error.code, 'string');
  assert.equal(typeof r.body.error.message, 'string');
  assert.match(r.body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
  assert.equal(r.body.error.innerError['client-request-id'], 'abc-123');
  assert.equal(r.headers.get('client-request-id'), 'abc-123');
  await stopFake(fake);
});

test('the response check catches what the fake must never send', () => {
  assert.deepEqual(responseProblems('event', { id: 'x', showAs: 'busy' }), []);
  assert.ok(responseProblems('event', { id: 'x', showAs: 'away' }).length);
  assert.ok(responseProblems('event', { id: 'x', invented: 1 }).length);
  assert.ok(responseProblems('calendar', { id: 'c', canEdit: 'yes' }).length);
});

test('request bodies are limited in size (413)', async () => {
  const { fake, token } = await startFake({ maxBodyBytes: 1000 });
  const r = await api(fake, token, 'POST', 'v1.0/me/events', { body: timedEvent(fake, 1, { subject: 'x'.repeat(2000) }) });
  assert.equal(r.status, 413);
  await stopFake(fake);
});
