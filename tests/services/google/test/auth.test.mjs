// Google's OAuth 2.0 side as the fake serves it, one rule per test: the consent page's refusals,
// PKCE S256, single-use codes, refresh tokens only on the first offline consent, no rotation (or
// rotation as a switch), invalid_grant on demand, revocation of the whole grant, userinfo and the
// id token's claims and signature; and the API's side: only tokens the fake issued, not expired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { CLIENT, SCOPES, USER, api, consent, events, reason, startFake, stopFake } from './helpers.mjs';

async function withFake(options, body) {
  const { fake } = await startFake(options, { grant: false });
  try { await body(fake); } finally { await stopFake(fake); }
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authUrl(fake, params = {}) {
  const url = new URL('o/oauth2/v2/auth', fake.url);
  const defaults = { client_id: CLIENT.clientId, redirect_uri: CLIENT.redirectUris[0], response_type: 'code',
    scope: `openid email ${SCOPES.events}`, state: 's1', access_type: 'offline' };
  for (const [k, v] of Object.entries({ ...defaults, ...params })) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

async function tokenRequest(fake, form, headers = {}) {
  const res = await fetch(new URL('token', fake.url), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form) });
  return { status: res.status, body: await res.json() };
}

/// Consent and code exchange: the token response.
async function signIn(fake, params = {}) {
  const { verifier, challenge } = pkce();
  const back = new URL(await consent(authUrl(fake, { code_challenge: challenge, code_challenge_method: 'S256', ...params }), USER));
  const code = back.searchParams.get('code');
  const r = await tokenRequest(fake, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT.redirectUris[0],
    client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
  return { ...r, code, verifier };
}

const refresh = (fake, refreshToken) => tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: refreshToken,
  client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });

test('an unknown client gets 401 and an unregistered redirect_uri 400, both without a redirect', () => withFake({}, async (fake) => {
  const unknown = await fetch(authUrl(fake, { client_id: 'nobody' }), { redirect: 'manual' });
  assert.equal(unknown.status, 401);
  const mismatch = await fetch(authUrl(fake, { redirect_uri: 'https://evil.example/cb' }), { redirect: 'manual' });
  assert.equal(mismatch.status, 400);
  assert.match(await mismatch.text(), /redirect_uri_mismatch/);
}));

for (const [name, params, error] of [
  ['without PKCE', {}, 'invalid_request'],
  ['with the plain PKCE method', { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
  ['with an unknown scope', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: 'https://www.googleapis.com/auth/everything' }, 'invalid_scope'],
  ['with response_type token', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', response_type: 'token' }, 'unsupported_response_type'],
]) {
  test(`a consent request ${name} goes back with error=${error}`, () => withFake({}, async (fake) => {
    const res = await fetch(authUrl(fake, params), { redirect: 'manual' });
    assert.equal(res.status, 302);
    const back = new URL(res.headers.get('location'));
    assert.equal(back.searchParams.get('error'), error);
    assert.equal(back.searchParams.get('state'), 's1');
  }));
}

test('a denied consent goes back with access_denied', () => withFake({}, async (fake) => {
  const { challenge } = pkce();
  const back = new URL(await consent(authUrl(fake, { code_challenge: challenge, code_challenge_method: 'S256' }), USER, 'deny'));
  assert.equal(back.searchParams.get('error'), 'access_denied');
}));

test('code exchange: tokens, id token; the same code again is invalid_grant and revokes what it issued', () => withFake({}, async (fake) => {
  const first = await signIn(fake);
  assert.equal(first.status, 200);
  assert.equal(first.body.token_type, 'Bearer');
  assert.ok(first.body.refresh_token && first.body.id_token && first.body.expires_in > 0);
  assert.equal((await api(fake, first.body.access_token, 'GET', events())).status, 200);
  const again = await tokenRequest(fake, { grant_type: 'authorization_code', code: first.code, code_verifier: first.verifier,
    redirect_uri: CLIENT.redirectUris[0], client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
  assert.equal(again.status, 400);
  assert.equal(again.body.error, 'invalid_grant');
  assert.equal((await api(fake, first.body.access_token, 'GET', events())).status, 401);
  assert.equal((await refresh(fake, first.body.refresh_token)).body.error, 'invalid_grant');
}));

test('a wrong code_verifier, a missing one, another redirect_uri, an expired code: refused', () => withFake({}, async (fake) => {
  const attempt = async (change) => {
    const { verifier, challenge } = pkce();
    const back = new URL(await consent(authUrl(fake, { code_challenge: challenge, code_challenge_method: 'S256' }), USER));
    const form = { grant_type: 'authorization_code', code: back.searchParams.get('code'), code_verifier: verifier,
      redirect_uri: CLIENT.redirectUris[0], client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret };
    await change(form);
    return tokenRequest(fake, Object.fromEntries(Object.entries(form).filter(([, v]) => v !== undefined)));
  };
  assert.equal((await attempt((f) => { f.code_verifier = pkce().verifier; })).body.error, 'invalid_grant');
  assert.equal((await attempt((f) => { f.code_verifier = undefined; })).body.error, 'invalid_grant');
  assert.equal((await attempt((f) => { f.redirect_uri = 'http://127.0.0.1:9/other'; })).body.error, 'redirect_uri_mismatch');
  fake.control.setClock({ frozen: true });
  assert.equal((await attempt(() => fake.control.setClock({ advanceMs: 11 * 60000 }))).body.error, 'invalid_grant');
}));

test('client authentication: a wrong secret is 401 invalid_client; HTTP Basic works', () => withFake({}, async (fake) => {
  const wrong = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: 'x', client_id: CLIENT.clientId, client_secret: 'nope' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error, 'invalid_client');
  const { tokens } = { tokens: fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId, scopes: [SCOPES.events] }) };
  const basic = Buffer.from(`${encodeURIComponent(CLIENT.clientId)}:${encodeURIComponent(CLIENT.clientSecret)}`).toString('base64');
  const r = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token }, { Authorization: `Basic ${basic}` });
  assert.equal(r.status, 200);
}));

test('the token endpoint takes only a form body; unknown grant types are unsupported_grant_type', () => withFake({}, async (fake) => {
  const json = await fetch(new URL('token', fake.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(json.status, 400);
  const grant = await tokenRequest(fake, { grant_type: 'password', client_id: CLIENT.clientId, client_secret: CLIENT.clientSecret });
  assert.equal(grant.body.error, 'unsupported_grant_type');
}));

test('a refresh token only on the first offline consent, or again with prompt=consent', () => withFake({}, async (fake) => {
  assert.ok((await signIn(fake)).body.refresh_token);
  assert.equal((await signIn(fake)).body.refresh_token, undefined);
  assert.ok((await signIn(fake, { prompt: 'consent' })).body.refresh_token);
}));

test('refresh: a new access token, the refresh token kept (no rotation)', () => withFake({}, async (fake) => {
  const { body } = await signIn(fake);
  const r = await refresh(fake, body.refresh_token);
  assert.equal(r.status, 200);
  assert.equal(r.body.refresh_token, undefined);
  assert.notEqual(r.body.access_token, body.access_token);
  assert.equal((await refresh(fake, body.refresh_token)).status, 200, 'the same refresh token works again');
}));

test('with rotateRefreshTokens, each refresh brings a new refresh token and the old one dies', () => withFake({ rotateRefreshTokens: true }, async (fake) => {
  const { body } = await signIn(fake);
  const r = await refresh(fake, body.refresh_token);
  assert.ok(r.body.refresh_token && r.body.refresh_token !== body.refresh_token);
  assert.equal((await refresh(fake, body.refresh_token)).body.error, 'invalid_grant');
  assert.equal((await refresh(fake, r.body.refresh_token)).status, 200);
}));

test('invalid_grant on demand: the user revoked access; a scripted failure', () => withFake({}, async (fake) => {
  const { body } = await signIn(fake);
  fake.control.failNextToken({ status: 503, error: 'temporarily_unavailable' });
  assert.equal((await refresh(fake, body.refresh_token)).status, 503);
  assert.equal((await refresh(fake, body.refresh_token)).status, 200);
  fake.control.revokeUser(USER);
  const r = await refresh(fake, body.refresh_token);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
}));

test('revoking the refresh token ends its access tokens; revoking an access token ends the refresh token', () => withFake({}, async (fake) => {
  const a = (await signIn(fake)).body;
  const revoke = (token) => fetch(new URL('revoke', fake.url), { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }) });
  assert.equal((await revoke(a.refresh_token)).status, 200);
  assert.equal((await api(fake, a.access_token, 'GET', events())).status, 401);
  assert.equal((await revoke(a.refresh_token)).status, 400, 'already revoked');
  const b = (await signIn(fake, { prompt: 'consent' })).body;
  assert.equal((await revoke(b.access_token)).status, 200);
  assert.equal((await refresh(fake, b.refresh_token)).body.error, 'invalid_grant');
}));

test('userinfo: sub, email, email_verified, hd; 401 without a valid token', () => withFake({}, async (fake) => {
  const { body } = await signIn(fake);
  const res = await fetch(new URL('v1/userinfo', fake.url), { headers: { Authorization: `Bearer ${body.access_token}` } });
  const info = await res.json();
  assert.equal(info.email, USER);
  assert.equal(info.email_verified, true);
  assert.equal(info.hd, 'acme.example');
  assert.match(info.sub, /^\d+$/);
  assert.equal((await fetch(new URL('v1/userinfo', fake.url))).status, 401);
}));

test('the id token is RS256, signed by a key of the JWKS, with iss, aud, email, hd, nonce and at_hash', () => withFake({}, async (fake) => {
  const { body } = await signIn(fake, { nonce: 'n-0S6' });
  const [h, p, s] = body.id_token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  const config = await (await fetch(new URL('.well-known/openid-configuration', fake.url))).json();
  const jwks = await (await fetch(config.jwks_uri)).json();
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  assert.equal(header.alg, 'RS256');
  assert.ok(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')));
  assert.equal(claims.iss, config.issuer);
  assert.equal(claims.aud, CLIENT.clientId);
  assert.equal(claims.email, USER);
  assert.equal(claims.hd, 'acme.example');
  assert.equal(claims.nonce, 'n-0S6');
  assert.equal(claims.at_hash, createHash('sha256').update(body.access_token).digest().subarray(0, 16).toString('base64url'));
}));

test('a personal account has no hd; an unverified email says so', () => withFake({}, async (fake) => {
  fake.control.addUser({ email: 'someone@gmail.com', emailVerified: false });
  const t = fake.control.issueTokens({ user: 'someone@gmail.com', clientId: CLIENT.clientId, scopes: ['openid', 'email'] });
  const claims = JSON.parse(Buffer.from(t.id_token.split('.')[1], 'base64url'));
  assert.equal(claims.hd, undefined);
  assert.equal(claims.email_verified, false);
}));

const issued = (fake) => fake.control.issueTokens({ user: USER, clientId: CLIENT.clientId, scopes: [SCOPES.events] }).access_token;

test('the API: no token, an unknown one, an expired one are 401 authError with WWW-Authenticate', () => withFake({}, async (fake) => {
  const token = issued(fake);
  for (const t of [undefined, 'ya29.made-up']) {
    const r = await api(fake, t, 'GET', events());
    assert.equal(r.status, 401);
    assert.equal(reason(r), 'authError');
    assert.match(r.headers.get('www-authenticate'), /^Bearer/);
  }
  fake.control.setClock({ frozen: true });
  assert.equal((await api(fake, token, 'GET', events())).status, 200);
  fake.control.setClock({ advanceMs: 3600 * 1000 });
  assert.equal((await api(fake, token, 'GET', events())).status, 401);
}));

test('credentials in the query (oauth_token, key) are refused', () => withFake({}, async (fake) => {
  const token = issued(fake);
  assert.equal((await api(fake, token, 'GET', events(), { query: { oauth_token: token } })).status, 400);
}));

test('HTTP Basic with a bad percent escape is invalid_client, not a crash', () => withFake({}, async (fake) => {
  const basic = Buffer.from('%E0%A4%A:secret').toString('base64');
  const r = await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: 'x' }, { Authorization: `Basic ${basic}` });
  assert.equal(r.status, 401);
  assert.equal(r.body.error, 'invalid_client');
}));
