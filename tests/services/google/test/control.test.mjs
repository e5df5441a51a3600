// The control interface over HTTP (for tests in other languages) and the fake as a process
// (main.mjs): the bearer token, acting as a user, inspection, and refusals that say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createGoogleFake } from '../server.mjs';

async function control(fake, token, method, path, body) {
  const res = await fetch(new URL(`__control/${path}`, fake.url ?? fake), { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

test('control over HTTP: token required; users, events, sync-token expiry, state', async () => {
  const fake = await createGoogleFake({ controlToken: 'control-secret' });
  try {
    assert.equal((await control(fake, 'wrong', 'GET', 'state')).status, 401);
    assert.equal((await control(fake, 'control-secret', 'POST', 'users', { email: 'ada@acme.example', hd: 'acme.example' })).status, 200);
    const created = await control(fake, 'control-secret', 'POST', `calendars/${encodeURIComponent('ada@acme.example')}/events`,
      { summary: 'standup', start: { dateTime: '2027-01-04T09:00:00Z' }, end: { dateTime: '2027-01-04T09:15:00Z' } });
    assert.equal(created.status, 200);
    const bad = await control(fake, 'control-secret', 'POST', `calendars/${encodeURIComponent('ada@acme.example')}/events`, { summary: 'no times' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /Missing start time/);
    assert.equal((await control(fake, 'control-secret', 'POST', `calendars/${encodeURIComponent('ada@acme.example')}/expire-sync-tokens`)).status, 200);
    assert.equal((await control(fake, 'control-secret', 'POST', 'options', { noSuchSwitch: true })).status, 400);
    const state = (await control(fake, 'control-secret', 'GET', 'state')).body;
    assert.equal(state.calendars[0].tokenEpoch, 1);
    assert.equal(state.calendars[0].events[0].summary, 'standup');
    assert.equal((await control(fake, 'control-secret', 'GET', 'nothing')).status, 404);
  } finally {
    await fake.close();
  }
});

test('without a control token there is no HTTP control at all', async () => {
  const fake = await createGoogleFake();
  try {
    assert.equal((await control(fake, 'null', 'GET', 'state')).status, 401);
  } finally {
    await fake.close();
  }
});

test('main.mjs: prints its URL and control token, serves, stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../main.mjs', import.meta.url)), '--port', '0', '--option', 'shortPages=false'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  const { url, controlToken } = JSON.parse(String(line));
  const config = await (await fetch(new URL('.well-known/openid-configuration', url))).json();
  assert.equal(config.issuer, url.replace(/\/$/, ''));
  assert.equal((await control(url, controlToken, 'GET', 'state')).status, 200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
