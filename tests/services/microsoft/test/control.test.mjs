// The control interface over HTTP (for tests in other languages) and the fake as a process
// (main.mjs): the bearer token, acting as a user, inspection, and refusals that say why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createGraphFake } from '../server.mjs';
import { api, CLIENT, deltaRound } from './helpers.mjs';

async function control(base, token, method, path, body) {
  const res = await fetch(new URL(`__control/${path}`, base), { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

test('control over HTTP: token required; users, events as the user, delta expiry, faults, state', async () => {
  const fake = await createGraphFake({ controlToken: 'control-secret', emptyPages: false, replayRate: 0, duplicateRate: 0 });
  const c = (method, path, body) => control(fake.url, 'control-secret', method, path, body);
  try {
    assert.equal((await control(fake.url, 'wrong', 'GET', 'state')).status, 401);
    const user = await c('POST', 'users', { email: 'ada@contoso.example' });
    assert.equal(user.status, 200);
    assert.match(user.body.tenantId, /^[0-9a-f-]{36}$/);
    assert.equal((await c('POST', 'users', { email: 'eve@outlook.example', kind: 'consumer' })).body.tenantId, '9188040d-6c67-4c5b-b112-36a304b66dad');
    assert.equal((await c('POST', 'clients', CLIENT)).status, 200);
    const calendarId = fake.state.defaultCalendar('ada@contoso.example').id;
    const created = await c('POST', `calendars/${encodeURIComponent(calendarId)}/events`,
      { subject: 'standup', start: { dateTime: '2027-01-04T09:00:00', timeZone: 'UTC' }, end: { dateTime: '2027-01-04T09:15:00', timeZone: 'UTC' } });
    assert.equal(created.status, 200);
    const bad = await c('POST', `calendars/${encodeURIComponent(calendarId)}/events`, { subject: 'no times' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /needs start and end/);
    assert.equal((await c('PATCH', `events/${encodeURIComponent(created.body.id)}`, { subject: 'renamed' })).body.subject, 'renamed');
    const tokens = (await c('POST', 'tokens', { user: 'ada@contoso.example', clientId: CLIENT.clientId, scopes: ['Calendars.ReadWrite'] })).body;
    const query = { startDateTime: '2027-01-01T00:00:00Z', endDateTime: '2027-02-01T00:00:00Z' };
    const round = await deltaRound(fake, tokens.access_token, { query });
    assert.equal(round.items.length, 1);
    assert.equal((await c('POST', `calendars/${encodeURIComponent(calendarId)}/expire-delta`)).status, 200);
    assert.equal((await api(fake, tokens.access_token, 'GET', round.deltaLink)).status, 410);
    assert.equal((await c('POST', 'faults', [{ route: 'calendars.list', status: 503 }])).status, 200);
    assert.equal((await api(fake, tokens.access_token, 'GET', 'v1.0/me/calendars')).status, 503);
    assert.equal((await c('POST', 'options', { noSuchSwitch: true })).status, 400);
    assert.equal((await c('DELETE', `events/${encodeURIComponent(created.body.id)}`)).status, 200);
    const state = (await c('GET', 'state')).body;
    assert.equal(state.calendars.find((x) => x.id === calendarId).events.length, 0);
    assert.ok(state.requests.some((r) => r.route === 'delta' && r.status === 410));
    assert.deepEqual(state.violations, []);
    assert.equal((await c('GET', 'nothing')).status, 404);
  } finally {
    await fake.close();
  }
});

test('without a control token there is no HTTP control at all', async () => {
  const fake = await createGraphFake();
  try {
    assert.equal((await control(fake.url, 'null', 'GET', 'state')).status, 401);
  } finally {
    await fake.close();
  }
});

test('an unknown switch is refused when the fake starts', async () => {
  await assert.rejects(createGraphFake({ noSuchSwitch: 1 }), /unknown switch noSuchSwitch/);
});

test('main.mjs: prints its URL and control token, serves, stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../main.mjs', import.meta.url)), '--port', '0', '--option', 'defaultPageSize=5'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(child.stdout, 'data');
  const { url, controlToken } = JSON.parse(String(line));
  const config = await (await fetch(new URL('common/v2.0/.well-known/openid-configuration', url))).json();
  assert.equal(config.issuer, `${url.replace(/\/$/, '')}/{tenantid}/v2.0`);
  assert.equal((await control(url, controlToken, 'GET', 'state')).status, 200);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
});
