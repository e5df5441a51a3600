// Google's own Node client (npm `googleapis`, with its google-auth-library) speaks to the fake:
// consent with PKCE and the token exchange, id token verification, calendarList, listing with
// paging and sync tokens, insert with a client id, patch with If-Match, delete, a batch (the
// client has no batch API: its authenticated transport carries the multipart body), watch and
// channels.stop, token refresh after the access token died, and revocation. If the fake answered
// anything these clients do not expect, or accepted what they never send, this file fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { google } from 'googleapis';
import { CLIENT, SCOPES, USER, consent, httpsReceiver, stopFake, timedEvent } from './helpers.mjs';
import { createGoogleFake } from '../server.mjs';

async function connected(fake) {
  const oauth2 = new google.auth.OAuth2({
    clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, redirectUri: CLIENT.redirectUris[0],
    endpoints: { oauth2AuthBaseUrl: `${fake.url}o/oauth2/v2/auth`, oauth2TokenUrl: `${fake.url}token`,
      oauth2RevokeUrl: `${fake.url}revoke`, oauth2FederatedSignonPemCertsUrl: `${fake.url}oauth2/v1/certs` },
    issuers: [fake.options.issuer],
    forceRefreshOnFailure: true,  // a 401 before the client's own expiry_date: refresh and retry once
  });
  const { codeVerifier, codeChallenge } = await oauth2.generateCodeVerifierAsync();
  const url = oauth2.generateAuthUrl({ access_type: 'offline', scope: ['openid', 'email', SCOPES.list, SCOPES.events],
    code_challenge_method: 'S256', code_challenge: codeChallenge, state: 'state-1', login_hint: USER });
  const back = new URL(await consent(url, USER));
  assert.equal(back.searchParams.get('state'), 'state-1');
  assert.equal(back.searchParams.get('hd'), 'acme.example');
  const { tokens } = await oauth2.getToken({ code: back.searchParams.get('code'), codeVerifier });
  assert.ok(tokens.refresh_token, 'the first offline consent brings a refresh token');
  oauth2.setCredentials(tokens);
  return { oauth2, tokens, calendar: google.calendar({ version: 'v3', auth: oauth2, rootUrl: fake.url }) };
}

const reasonOf = (e) => e.response?.data?.error?.errors?.[0]?.reason;

async function fakeWithUser(options = {}) {
  const fake = await createGoogleFake(options);
  fake.control.addUser({ email: USER, hd: 'acme.example', name: 'Ada' });
  fake.control.registerClient(CLIENT);
  return fake;
}

async function listEverything(calendar, params) {
  const items = [];
  let pageToken;
  let pages = 0;
  for (;;) {
    const { data } = await calendar.events.list({ calendarId: 'primary', ...params, pageToken });
    pages++;
    items.push(...data.items);
    if (!data.nextPageToken) return { items, pages, syncToken: data.nextSyncToken };
    pageToken = data.nextPageToken;
  }
}

test('googleapis: consent, id token, listing with paging and sync tokens, writes, delete', async () => {
  const fake = await fakeWithUser();
  try {
    const { oauth2, tokens, calendar } = await connected(fake);
    const ticket = await oauth2.verifyIdToken({ idToken: tokens.id_token, audience: CLIENT.clientId });
    assert.equal(ticket.getPayload().email, USER);
    assert.equal(ticket.getPayload().email_verified, true);
    assert.equal(ticket.getPayload().hd, 'acme.example');

    const calendars = await calendar.calendarList.list();
    assert.equal(calendars.data.items.find((c) => c.primary).id, USER);

    for (let i = 0; i < 9; i++) fake.control.userCreatesEvent(USER, timedEvent(fake, 24 + i));
    const full = await listEverything(calendar, { maxResults: 3, timeMin: new Date(fake.clock.now()).toISOString() });
    assert.equal(full.items.length, 9);
    assert.ok(full.pages > 3, 'short pages: more pages than 9 / 3');
    assert.ok(full.syncToken);

    const id = 'calgate0123456789abcdefuv';
    const inserted = await calendar.events.insert({ calendarId: 'primary', requestBody: { id, ...timedEvent(fake, 50),
      extendedProperties: { private: { calgatePair: 'p1' } } } });
    assert.equal(inserted.data.id, id);
    await assert.rejects(calendar.events.insert({ calendarId: 'primary', requestBody: { id, ...timedEvent(fake, 50) } }),
      (e) => e.status === 409 && reasonOf(e) === 'duplicate');

    const patched = await calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: 'moved' } },
      { headers: { 'If-Match': inserted.data.etag } });
    assert.equal(patched.data.summary, 'moved');
    assert.notEqual(patched.data.etag, inserted.data.etag);
    await assert.rejects(calendar.events.patch({ calendarId: 'primary', eventId: id, requestBody: { summary: 'stale' } },
      { headers: { 'If-Match': inserted.data.etag } }), (e) => e.status === 412 && reasonOf(e) === 'conditionNotMet');

    const gone = full.items[0].id;
    await calendar.events.delete({ calendarId: 'primary', eventId: gone });
    await assert.rejects(calendar.events.delete({ calendarId: 'primary', eventId: gone }), (e) => e.status === 410);

    const incremental = await listEverything(calendar, { syncToken: full.syncToken });
    const byId = new Map(incremental.items.map((x) => [x.id, x]));
    assert.equal(byId.get(id).summary, 'moved');
    assert.deepEqual(Object.keys(byId.get(gone)).sort(), ['etag', 'id', 'kind', 'status']);
    assert.equal(byId.get(gone).status, 'cancelled');

    fake.control.expireSyncTokens(USER);
    await assert.rejects(calendar.events.list({ calendarId: 'primary', syncToken: incremental.syncToken }),
      (e) => e.status === 410 && reasonOf(e) === 'fullSyncRequired');
  } finally {
    await stopFake(fake);
  }
});

test('googleapis: a batch through the client\'s authenticated transport', async () => {
  const fake = await fakeWithUser({ shortPages: false });
  try {
    const { oauth2 } = await connected(fake);
    const boundary = 'batch_calgate';
    const part = (cid, line, body) => `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <${cid}>\r\n\r\n${line}\r\n` +
      (body ? `Content-Type: application/json\r\n\r\n${JSON.stringify(body)}\r\n` : '\r\n');
    const path = `/calendar/v3/calendars/${encodeURIComponent(USER)}/events`;
    const body = part('a', `POST ${path}`, { id: 'batchaaaaa', ...timedEvent(fake, 5) }) +
      part('b', `POST ${path}`, { id: 'batchaaaaa', ...timedEvent(fake, 6) }) +
      part('c', `GET ${path}/batchaaaaa`) + `--${boundary}--\r\n`;
    const res = await oauth2.request({ url: `${fake.url}batch/calendar/v3`, method: 'POST', data: body,
      headers: { 'Content-Type': `multipart/mixed; boundary=${boundary}` }, responseType: 'text' });
    const answer = String(res.data);
    const statuses = [...answer.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [200, 409, 200]);
    assert.deepEqual([...answer.matchAll(/Content-ID: <([^>]+)>/g)].map((m) => m[1]), ['response-a', 'response-b', 'response-c']);
  } finally {
    await stopFake(fake);
  }
});

test('googleapis: watch delivers sync then exists; channels.stop ends it', async () => {
  const receiver = await httpsReceiver();
  const fake = await fakeWithUser({ deliveryCa: receiver.ca });
  try {
    const { calendar } = await connected(fake);
    const watched = await calendar.events.watch({ calendarId: 'primary', requestBody: { id: 'chan-1', type: 'web_hook',
      address: receiver.url, token: 'target=calgate' } });
    assert.equal(receiver.requests.length, 1, 'the sync message arrived before the watch answer');
    assert.equal(receiver.requests[0].headers['x-goog-resource-state'], 'sync');
    assert.equal(typeof watched.data.expiration, 'string');
    fake.control.userCreatesEvent(USER, timedEvent(fake, 3));
    await fake.push.settle();
    assert.equal(receiver.requests[1].headers['x-goog-resource-state'], 'exists');
    assert.equal(receiver.requests[1].headers['x-goog-channel-token'], 'target=calgate');
    await calendar.channels.stop({ requestBody: { id: 'chan-1', resourceId: watched.data.resourceId } });
    fake.control.userCreatesEvent(USER, timedEvent(fake, 4));
    await fake.push.settle();
    assert.equal(receiver.requests.length, 2);
  } finally {
    try { await stopFake(fake); } finally { await receiver.close(); }
  }
});

test('googleapis: a dead access token is refreshed by the client; a revoked grant ends in invalid_grant', async () => {
  const fake = await fakeWithUser();
  try {
    const { oauth2, calendar, tokens } = await connected(fake);
    fake.control.expireAccessTokens(USER);
    await calendar.calendarList.list();  // 401, refresh, retry: all inside the client
    assert.deepEqual(fake.oauth.tokenLog.map((t) => [t.grant, t.status]), [['authorization_code', 200], ['refresh_token', 200]]);
    assert.equal(oauth2.credentials.refresh_token, tokens.refresh_token, 'Google does not rotate refresh tokens');

    await oauth2.revokeToken(tokens.refresh_token);
    fake.control.expireAccessTokens(USER);
    await assert.rejects(calendar.calendarList.list(), (e) => e.response?.data?.error === 'invalid_grant' || /invalid_grant/.test(e.message));
  } finally {
    await stopFake(fake);
  }
});
