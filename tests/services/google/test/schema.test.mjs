// The fake holds its own answers to the discovery document: the validator accepts Google's real
// captured events.list answer, refuses what Google never sends, and a response that breaks the
// document becomes a 500 plus a recorded violation (which stopFake() turns into a failed test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { contractsDir } from '../paths.mjs';
import { responseProblems } from '../discovery.mjs';
import { USER, api, events, startFake, stopFake, timedEvent } from './helpers.mjs';

const sample = (name) => JSON.parse(readFileSync(`${contractsDir}/${name}`, 'utf8'));

test('Google\'s captured events.list answer follows the discovery document', () => {
  assert.deepEqual(responseProblems('Events', sample('google-events-list-response.json')), []);
});

test('unknown fields, wrong types, int64 as numbers, times without offsets are violations in answers', () => {
  const event = sample('google-events-list-response.json').items[0];
  assert.match(responseProblems('Event', { ...event, colour: 'red' })[0], /colour: unknown field/);
  assert.match(responseProblems('Event', { ...event, sequence: '0' })[0], /sequence: expected an integer/);
  assert.match(responseProblems('Event', { ...event, start: { dateTime: '2026-01-01T09:00:00' } })[0], /start.dateTime/);
  assert.match(responseProblems('Event', { ...event, summary: null })[0], /null/);
  // the guide's watch example writes expiration as a number; the discovery document says int64 string
  assert.match(responseProblems('Channel', sample('google-events-watch-response.json'))[0], /expiration/);
});

test('an answer that breaks the document is a 500 and a recorded violation', async () => {
  const { fake, token } = await startFake();
  try {
    const created = fake.control.userCreatesEvent(USER, timedEvent(fake, 1));
    fake.state.calendars.get(USER).events.get(created.id).resource.colour = 'red';
    const r = await api(fake, token, 'GET', `${events()}/${created.id}`);
    assert.equal(r.status, 500);
    assert.equal(fake.violations.length, 1);
    assert.match(fake.violations[0].problem, /colour: unknown field/);
    fake.violations.length = 0;
  } finally {
    await stopFake(fake);
  }
});
