// The Microsoft identity platform side of the Graph fake, one rule per test, driven through route()
// with a minimal state of its own (users and a test clock): discovery per tenant path, the consent page's
// refusals, PKCE S256, single-use 10-minute codes, client authentication, refresh rotation,
// AADSTS700082 after 90 idle days, revocation (AADSTS50173), scripted failures, the id token's
// claims and signature for work and personal accounts, tenant and audience restrictions, userinfo,
// and the API's side: accessToken() knows only live tokens the fake issued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, createVerify, randomBytes } from 'node:crypto';
import { CONSUMER_TENANT, MicrosoftOAuth } from '../oauth.mjs';

const BASE = 'http://127.0.0.1:1';
const CONTOSO = '11111111-1111-4111-8111-111111111111';
const FABRIKAM = '22222222-2222-4222-8222-222222222222';
const MULTI = 'aaaaaaaa-0000-4000-8000-000000000001';   // AzureADandPersonalMicrosoftAccount
const SINGLE = 'aaaaaaaa-0000-4000-8000-000000000002';  // AzureADMyOrg in CONTOSO
const ORGS = 'aaaaaaaa-0000-4000-8000-000000000003';    // AzureADMultipleOrgs
const SECRET = 'Q~fake.client-secret_value';
const REDIRECT = 'http://127.0.0.1:8400/oauth/microsoft/callback';
const ADA = 'ada@contoso.example';
const BOB = 'bob@fabrikam.example';
const CAROL = 'carol@outlook.example';
const DAY = 24 * 3600 * 1000;

function setup(options = {}) {
  let now = Date.parse('2026-03-02T09:00:00Z');
  const users = new Map([
    [ADA, { email: ADA, id: 'a0a0a0a0-1111-4111-8111-000000000001', tenantId: CONTOSO, kind: 'work', name: 'Ada Lovelace' }],
    [BOB, { email: BOB, id: 'b0b0b0b0-2222-4222-8222-000000000002', tenantId: FABRIKAM, kind: 'work', name: 'Bob Builder' }],
    [CAROL, { email: CAROL, id: '00000000-0000-0000-5a5a-5a5a5a5a5a5a', tenantId: CONSUMER_TENANT, kind: 'consumer', name: 'Carol Consumer' }],
  ]);
  const state = { users, clock: { now: () => now } };
  const oauth = new MicrosoftOAuth(state, { issuerBase: BASE, ...options });
  oauth.registerClient({ clientId: MULTI, clientSecret: SECRET, redirectUris: [REDIRECT] });
  oauth.registerClient({ clientId: SINGLE, clientSecret: SECRET, redirectUris: [REDIRECT], signInAudience: 'AzureADMyOrg', homeTenantId: CONTOSO });
  oauth.registerClient({ clientId: ORGS, clientSecret: SECRET, redirectUris: [REDIRECT], signInAudience: 'AzureADMultipleOrgs' });
  const call = (method, path, { headers = {}, body = '' } = {}) => oauth.route(method, new URL(path, BASE), headers, body);
  return { oauth, state, call, advance: (ms) => { now += ms; } };
}

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizePath(tenant, params) {
  const defaults = { client_id: MULTI, redirect_uri: REDIRECT, response_type: 'code', state: 's1',
    scope: 'openid profile email offline_access https://graph.microsoft.com/Calendars.ReadWrite' };
  const query = new URLSearchParams(Object.entries({ ...defaults, ...params }).filter(([, v]) => v !== undefined));
  return `/${tenant}/oauth2/v2.0/authorize?${query}`;
}

/// The consent page for `params`, then the decision: the answer of the decision step.
function consent(f, { tenant = 'common', account = ADA, decision = 'allow', ...params } = {}) {
  const page = f.call('GET', authorizePath(tenant, params));
  assert.equal(page.status, 200, page.html ?? page.location);
  const request = /name="request" value="([^"]+)"/.exec(page.html)[1];
  return f.call('POST', `/${tenant}/oauth2/v2.0/authorize/decision`, { body: new URLSearchParams({ request, account, decision }).toString() });
}

/// An authorization request answered by a redirect: its parameters.
function redirected(answer) {
  assert.equal(answer.status, 302, answer.html);
  return Object.fromEntries(new URL(answer.location).searchParams);
}

function token(f, form, { tenant = 'common', headers = {}, auth = 'body' } = {}) {
  const all = auth === 'body' ? { client_id: MULTI, client_secret: SECRET, ...form } : form;
  const body = new URLSearchParams(Object.entries(all).filter(([, v]) => v !== undefined)).toString();
  return f.call('POST', `/${tenant}/oauth2/v2.0/token`, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
}

/// Consent (PKCE S256) and code redemption: the token answer, the code and its verifier.
function signIn(f, { tenant = 'common', account = ADA, clientId = MULTI, redeem = {}, ...params } = {}) {
  const { verifier, challenge } = pkce();
  const back = redirected(consent(f, { tenant, account, client_id: clientId, code_challenge: challenge, code_challenge_method: 'S256', ...params }));
  assert.ok(back.code, JSON.stringify(back));
  const r = token(f, { grant_type: 'authorization_code', code: back.code, code_verifier: verifier, redirect_uri: REDIRECT,
    client_id: clientId, ...redeem }, { tenant });
  return { ...r, code: back.code, verifier };
}

const refresh = (f, refreshToken, extra = {}, options) => token(f, { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra }, options);
const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

/// The error answer's shape, as Microsoft writes it.
function assertSts(r, status, error, code) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.body.error, error);
  assert.deepEqual(r.body.error_codes, [code]);
  assert.match(r.body.error_description, new RegExp(`^AADSTS${code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: [0-9a-f-]{36} Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`));
  assert.match(r.body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(r.body.trace_id, /^[0-9a-f-]{36}$/);
  assert.equal(r.body.error_uri, `https://login.microsoftonline.com/error?code=${code}`);
}

// ---- discovery ----

test('discovery on common and organizations publishes the {tenantid} issuer template and per-path endpoints, no PKCE methods', () => {
  const f = setup();
  for (const tenant of ['common', 'organizations']) {
    const r = f.call('GET', `/${tenant}/v2.0/.well-known/openid-configuration`);
    assert.equal(r.status, 200);
    assert.equal(r.body.issuer, `${BASE}/{tenantid}/v2.0`);
    assert.equal(r.body.authorization_endpoint, `${BASE}/${tenant}/oauth2/v2.0/authorize`);
    assert.equal(r.body.token_endpoint, `${BASE}/${tenant}/oauth2/v2.0/token`);
    assert.equal(r.body.jwks_uri, `${BASE}/${tenant}/discovery/v2.0/keys`);
    assert.equal(r.body.userinfo_endpoint, `${BASE}/oidc/userinfo`);
    assert.deepEqual(r.body.subject_types_supported, ['pairwise']);
    assert.deepEqual(r.body.scopes_supported, ['openid', 'profile', 'email', 'offline_access']);
    assert.equal(r.body.tenant_region_scope, null);
    assert.equal('code_challenge_methods_supported' in r.body, false, 'Microsoft does not publish it');
  }
});

test('discovery on consumers and on a tenant GUID names the real tenant as issuer', () => {
  const f = setup();
  assert.equal(f.call('GET', '/consumers/v2.0/.well-known/openid-configuration').body.issuer, `${BASE}/${CONSUMER_TENANT}/v2.0`);
  const tenant = f.call('GET', `/${CONTOSO}/v2.0/.well-known/openid-configuration`).body;
  assert.equal(tenant.issuer, `${BASE}/${CONTOSO}/v2.0`);
  assert.equal(tenant.token_endpoint, `${BASE}/${CONTOSO}/oauth2/v2.0/token`);
  assert.equal(tenant.tenant_region_scope, 'NA');
});

test('an unknown tenant is 400 invalid_tenant AADSTS90002 (JSON, or an error page on authorize); other paths are not OAuth', () => {
  const f = setup();
  const unknownGuid = '33333333-3333-4333-8333-333333333333';
  for (const path of [`/${unknownGuid}/v2.0/.well-known/openid-configuration`, '/contoso.example/discovery/v2.0/keys']) {
    assertSts(f.call('GET', path), 400, 'invalid_tenant', 90002);
  }
  assertSts(token(f, { grant_type: 'refresh_token', refresh_token: 'x' }, { tenant: 'nowhere' }), 400, 'invalid_tenant', 90002);
  const page = f.call('GET', authorizePath(unknownGuid, {}));
  assert.equal(page.status, 400);
  assert.match(page.html, /AADSTS90002/);
  assert.equal(f.call('GET', '/v1.0/me'), null);
  assert.equal(f.call('GET', '/common/oauth2/v2.0/devicecode'), null);
});

// ---- authorization endpoint ----

test('an unknown client (AADSTS700016) and an unregistered redirect_uri (AADSTS50011) get an error page, never a redirect', () => {
  const f = setup();
  const unknown = f.call('GET', authorizePath('common', { client_id: 'bbbbbbbb-0000-4000-8000-000000000009' }));
  assert.equal(unknown.status, 400);
  assert.equal(unknown.location, undefined);
  assert.match(unknown.html, /AADSTS700016/);
  for (const uri of ['https://evil.example/cb', `${REDIRECT}/`, REDIRECT.toUpperCase()]) {
    const mismatch = f.call('GET', authorizePath('common', { redirect_uri: uri }));
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.location, undefined);
    assert.match(mismatch.html, /AADSTS50011/);
  }
});

for (const [name, params, error, code] of [
  ['without PKCE', {}, 'invalid_request', 9002325],
  ['with the plain PKCE method', { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request', 50149],
  ['with a challenge of the wrong size', { code_challenge: 'x'.repeat(20), code_challenge_method: 'S256' }, 'invalid_request', 501491],
  ['with an unknown scope', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: 'openid https://graph.microsoft.com/Mail.Read' }, 'invalid_scope', 70011],
  ['with the .default scope', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: 'https://graph.microsoft.com/.default' }, 'invalid_scope', 70011],
  ['without a scope', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: undefined }, 'invalid_request', 900144],
  ['with response_type token', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', response_type: 'token' }, 'unsupported_response_type', 700054],
  ['with prompt=none (no session)', { code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', prompt: 'none' }, 'login_required', 50058],
]) {
  test(`an authorization request ${name} goes back with error=${error} AADSTS${code}`, () => {
    const f = setup();
    const back = redirected(f.call('GET', authorizePath('common', params)));
    assert.equal(back.error, error);
    assert.match(back.error_description, new RegExp(`^AADSTS${code}: `));
    assert.equal(back.state, 's1');
    assert.equal(back.code, undefined);
  });
}

test('requirePkce: false lets a request without PKCE through (as Microsoft does for web apps)', () => {
  const f = setup({ requirePkce: false });
  const back = redirected(consent(f, {}));
  assert.ok(back.code);
  const r = token(f, { grant_type: 'authorization_code', code: back.code, redirect_uri: REDIRECT });
  assert.equal(r.status, 200, JSON.stringify(r.body));
});

test('scopes in short and https://graph.microsoft.com/ forms, any case, are one permission; the answer writes Graph scopes as URLs', () => {
  const f = setup();
  const r = signIn(f, { scope: 'openid offline_access calendars.readwrite https://graph.microsoft.com/User.Read https://graph.microsoft.com/Calendars.ReadWrite' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.scope, 'openid https://graph.microsoft.com/Calendars.ReadWrite https://graph.microsoft.com/User.Read');
  assert.deepEqual(f.oauth.accessToken(r.body.access_token).scopes, ['Calendars.ReadWrite', 'User.Read']);
});

test('a declined consent goes back with access_denied, error_subcode=cancel and AADSTS65004', () => {
  const f = setup();
  const { challenge } = pkce();
  const back = redirected(consent(f, { decision: 'deny', code_challenge: challenge, code_challenge_method: 'S256' }));
  assert.equal(back.error, 'access_denied');
  assert.equal(back.error_subcode, 'cancel');
  assert.match(back.error_description, /^AADSTS65004: User declined to consent/);
  assert.equal(back.state, 's1');
});

test('response_mode=form_post answers with a self-posting form carrying code and state', () => {
  const f = setup();
  const { challenge } = pkce();
  const r = consent(f, { response_mode: 'form_post', code_challenge: challenge, code_challenge_method: 'S256' });
  assert.equal(r.status, 200);
  assert.match(r.html, new RegExp(`action="${REDIRECT.replace(/[.?]/g, '\\$&')}"`));
  assert.match(r.html, /name="code" value="0\.A[\w-]+"/);
  assert.match(r.html, /name="state" value="s1"/);
});

// ---- code redemption ----

test('code redemption: Bearer, scope, expires_in, ext_expires_in, refresh and id tokens; the access token is known to the API', () => {
  const f = setup();
  const r = signIn(f, { nonce: 'n-0S6' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(Object.keys(r.body), ['token_type', 'scope', 'expires_in', 'ext_expires_in', 'access_token', 'refresh_token', 'id_token']);
  assert.equal(r.body.token_type, 'Bearer');
  assert.equal(r.body.scope, 'profile openid email https://graph.microsoft.com/Calendars.ReadWrite');
  assert.equal(r.body.expires_in, 3599);
  assert.equal(r.body.ext_expires_in, 3599);
  assert.match(r.body.refresh_token, /^0\.A/);
  assert.equal(r.headers['cache-control'], 'no-store, no-cache');
  assert.deepEqual(f.oauth.accessToken(r.body.access_token),
    { user: ADA, clientId: MULTI, scopes: ['Calendars.ReadWrite'], tenantId: CONTOSO, expiresMs: f.state.clock.now() + 3599000 });
  assert.deepEqual(f.oauth.tokenLog.at(-1), { grant: 'authorization_code', status: 200 });
});

test('no offline_access, no refresh token; no openid, no id token', () => {
  const f = setup();
  const r = signIn(f, { scope: 'https://graph.microsoft.com/Calendars.Read' });
  assert.equal(r.status, 200);
  assert.equal(r.body.refresh_token, undefined);
  assert.equal(r.body.id_token, undefined);
  assert.equal(r.body.scope, 'https://graph.microsoft.com/Calendars.Read');
});

test('a code is single use: the second redemption is invalid_grant AADSTS54005, what the first issued stays valid', () => {
  const f = setup();
  const first = signIn(f);
  const again = token(f, { grant_type: 'authorization_code', code: first.code, code_verifier: first.verifier, redirect_uri: REDIRECT });
  assertSts(again, 400, 'invalid_grant', 54005);
  assert.ok(f.oauth.accessToken(first.body.access_token));
  assert.equal(refresh(f, first.body.refresh_token).status, 200);
});

test('a code lives 10 minutes: later it is invalid_grant AADSTS70008', () => {
  const f = setup();
  const { verifier, challenge } = pkce();
  const redeem = (code) => token(f, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT });
  const fresh = redirected(consent(f, { code_challenge: challenge, code_challenge_method: 'S256' })).code;
  f.advance(10 * 60 * 1000);
  assert.equal(redeem(fresh).status, 200, 'at 10 minutes it still works');
  const stale = redirected(consent(f, { code_challenge: challenge, code_challenge_method: 'S256' })).code;
  f.advance(10 * 60 * 1000 + 1);
  assertSts(redeem(stale), 400, 'invalid_grant', 70008);
});

test('PKCE is checked: a wrong or a missing code_verifier is invalid_grant AADSTS501481', () => {
  const f = setup();
  assertSts(signIn(f, { redeem: { code_verifier: pkce().verifier } }), 400, 'invalid_grant', 501481);
  assertSts(signIn(f, { redeem: { code_verifier: undefined } }), 400, 'invalid_grant', 501481);
});

test('the redirect_uri must be the authorization request\'s: another is invalid_grant AADSTS50011, none is AADSTS900144', () => {
  const f = setup();
  f.oauth.clients.get(MULTI).redirectUris.push('http://127.0.0.1:8400/other');
  assertSts(signIn(f, { redeem: { redirect_uri: 'http://127.0.0.1:8400/other' } }), 400, 'invalid_grant', 50011);
  assertSts(signIn(f, { redeem: { redirect_uri: undefined } }), 400, 'invalid_request', 900144);
});

test('a code is redeemed on the tenant path it was issued on: elsewhere invalid_grant AADSTS700005', () => {
  const f = setup();
  const { verifier, challenge } = pkce();
  const code = redirected(consent(f, { code_challenge: challenge, code_challenge_method: 'S256' })).code;
  assertSts(token(f, { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { tenant: CONTOSO }),
    400, 'invalid_grant', 700005);
});

test('a made-up code is AADSTS70000 when well formed, AADSTS9002313 when malformed; another client\'s code is AADSTS70000', () => {
  const f = setup();
  const redeem = (code, extra = {}) => token(f, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: 'v'.repeat(43), ...extra });
  assertSts(redeem(`0.A${'x'.repeat(60)}`), 400, 'invalid_grant', 70000);
  assertSts(redeem('not-a-code'), 400, 'invalid_grant', 9002313);
  f.oauth.registerClient({ clientId: 'aaaaaaaa-0000-4000-8000-000000000004', clientSecret: 'other', redirectUris: [REDIRECT] });
  const { challenge } = pkce();
  const code = redirected(consent(f, { code_challenge: challenge, code_challenge_method: 'S256' })).code;
  assertSts(redeem(code, { client_id: 'aaaaaaaa-0000-4000-8000-000000000004', client_secret: 'other' }), 400, 'invalid_grant', 70000);
});

test('client_info=1 brings client_info {uid, utid}', () => {
  const f = setup();
  const r = signIn(f, { account: CAROL, redeem: { client_info: '1' } });
  assert.deepEqual(JSON.parse(Buffer.from(r.body.client_info, 'base64url')), { uid: '00000000-0000-0000-5a5a-5a5a5a5a5a5a', utid: CONSUMER_TENANT });
});

// ---- client authentication and the token endpoint's form ----

test('client authentication: the secret in the body or in HTTP Basic works', () => {
  const f = setup();
  const { refresh_token: rt } = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['offline_access', 'Calendars.Read'] });
  const byBody = refresh(f, rt);
  assert.equal(byBody.status, 200, JSON.stringify(byBody.body));
  const basic = Buffer.from(`${encodeURIComponent(MULTI)}:${encodeURIComponent(SECRET).replace(/%20/g, '+')}`).toString('base64');
  const byBasic = refresh(f, byBody.body.refresh_token, {}, { auth: 'basic', headers: { authorization: `Basic ${basic}` } });
  assert.equal(byBasic.status, 200, JSON.stringify(byBasic.body));
});

test('client authentication failures: wrong secret 401 AADSTS7000215 (correlation id echoed), none 401 AADSTS7000218, both methods 400, bad Basic 401', () => {
  const f = setup();
  const wrong = token(f, { grant_type: 'refresh_token', refresh_token: 'x', client_secret: 'nope' }, { headers: { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000000' } });
  assertSts(wrong, 401, 'invalid_client', 7000215);
  assert.equal(wrong.body.correlation_id, 'c0ffee00-0000-4000-8000-000000000000');
  assertSts(token(f, { grant_type: 'refresh_token', refresh_token: 'x', client_secret: undefined }), 401, 'invalid_client', 7000218);
  const basic = `Basic ${Buffer.from(`${MULTI}:${SECRET}`).toString('base64')}`;
  assertSts(token(f, { grant_type: 'refresh_token', refresh_token: 'x' }, { headers: { authorization: basic } }), 400, 'invalid_request', 9002313);
  const broken = `Basic ${Buffer.from('%E0%A4%A:secret').toString('base64')}`;
  assertSts(token(f, { grant_type: 'refresh_token', refresh_token: 'x' }, { auth: 'basic', headers: { authorization: broken } }), 401, 'invalid_client', 7000215);
  assertSts(token(f, { grant_type: 'refresh_token', refresh_token: 'x', client_id: 'bbbbbbbb-0000-4000-8000-000000000009' }), 400, 'unauthorized_client', 700016);
});

test('a public client (no secret registered) must not present one: AADSTS700025', () => {
  const f = setup();
  const pub = 'aaaaaaaa-0000-4000-8000-000000000005';
  f.oauth.registerClient({ clientId: pub, redirectUris: [REDIRECT] });
  const { refresh_token: rt } = f.oauth.issue({ user: ADA, clientId: pub, scopes: ['offline_access', 'Calendars.Read'] });
  assertSts(refresh(f, rt, { client_id: pub, client_secret: 'anything' }), 401, 'invalid_client', 700025);
  assert.equal(refresh(f, rt, { client_id: pub, client_secret: undefined }).status, 200);
});

test('the token endpoint takes a POSTed form only; unknown grant types are unsupported_grant_type AADSTS70003', () => {
  const f = setup();
  assertSts(f.call('POST', '/common/oauth2/v2.0/token', { headers: { 'content-type': 'application/json' }, body: '{"grant_type":"refresh_token"}' }),
    400, 'invalid_request', 900144);
  assertSts(f.call('GET', '/common/oauth2/v2.0/token'), 400, 'invalid_request', 900561);
  assertSts(token(f, { grant_type: 'password' }), 400, 'unsupported_grant_type', 70003);
});

// ---- refresh ----

test('refresh rotates: a new refresh token each time, the old one refused (AADSTS70000)', () => {
  const f = setup();
  const { body } = signIn(f);
  const r = refresh(f, body.refresh_token);
  assert.equal(r.status, 200);
  assert.ok(r.body.refresh_token && r.body.refresh_token !== body.refresh_token);
  assert.notEqual(r.body.access_token, body.access_token);
  assertSts(refresh(f, body.refresh_token), 400, 'invalid_grant', 70000);
  assert.equal(refresh(f, r.body.refresh_token).status, 200);
});

test('oldRefreshTokenValidAfterRotation keeps the old refresh token alive (as Microsoft does); rotateRefreshTokens: false never rotates', () => {
  const lenient = setup({ oldRefreshTokenValidAfterRotation: true });
  const a = signIn(lenient).body;
  assert.ok(refresh(lenient, a.refresh_token).body.refresh_token);
  assert.equal(refresh(lenient, a.refresh_token).status, 200);
  const fixed = setup({ rotateRefreshTokens: false });
  const b = signIn(fixed).body;
  const r = refresh(fixed, b.refresh_token);
  assert.equal(r.status, 200);
  assert.equal(r.body.refresh_token, undefined);
  assert.equal(refresh(fixed, b.refresh_token).status, 200);
});

test('a refresh token unused for more than 90 days is invalid_grant AADSTS700082', () => {
  const f = setup();
  const { body } = signIn(f);
  f.oauth.ageRefreshTokens(ADA, 90 * DAY);
  const ok = refresh(f, body.refresh_token);
  assert.equal(ok.status, 200, 'exactly 90 days is still fine');
  f.oauth.ageRefreshTokens(ADA, 90 * DAY + 1000);
  const r = refresh(f, ok.body.refresh_token);
  assertSts(r, 400, 'invalid_grant', 700082);
  assert.match(r.body.error_description, /^AADSTS700082: The refresh token has expired due to inactivity\. The token was issued on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z and was inactive for 90\.00:00:00\./);
  assert.equal(r.body.suberror, 'bad_token');
});

test('refreshTokenIdleMs and the test clock: idle time counts from the last use', () => {
  const f = setup({ refreshTokenIdleMs: DAY });
  let rt = signIn(f).body.refresh_token;
  for (let i = 0; i < 3; i += 1) {
    f.advance(DAY - 1000);
    const r = refresh(f, rt);
    assert.equal(r.status, 200);
    rt = r.body.refresh_token;
  }
  f.advance(DAY + 1);
  assertSts(refresh(f, rt), 400, 'invalid_grant', 700082);
});

test('revokeUser: the next refresh is invalid_grant AADSTS50173, access tokens die; a new sign-in works', () => {
  const f = setup();
  const { body } = signIn(f);
  f.advance(1000);
  f.oauth.revokeUser(ADA);
  const r = refresh(f, body.refresh_token);
  assertSts(r, 400, 'invalid_grant', 50173);
  assert.match(r.body.error_description, /The grant was issued on '.+' and the TokensValidFrom date \(before which tokens are not valid\) for this user is '.+'\./);
  assert.equal(f.oauth.accessToken(body.access_token), null);
  const again = signIn(f).body;
  assert.equal(refresh(f, again.refresh_token).status, 200);
});

test('failNext scripts the next /token answers one by one; tokenLog records every answer', () => {
  const f = setup();
  const { body } = signIn(f);
  f.oauth.failNext.push({ status: 503, error: 'temporarily_unavailable', description: 'The service is temporarily unavailable.', codes: [90006] },
    { error: 'invalid_grant', codes: [700082], description: 'The refresh token has expired due to inactivity.' });
  const first = refresh(f, body.refresh_token);
  assert.equal(first.status, 503);
  assert.equal(first.body.error, 'temporarily_unavailable');
  assert.deepEqual(first.body.error_codes, [90006]);
  assert.match(first.body.error_description, /^AADSTS90006: The service is temporarily unavailable\. Trace ID: /);
  assertSts(refresh(f, body.refresh_token), 400, 'invalid_grant', 700082);
  assert.equal(refresh(f, body.refresh_token).status, 200, 'the script is used up');
  assert.deepEqual(f.oauth.tokenLog.slice(-3), [
    { grant: 'refresh_token', status: 503, error: 'temporarily_unavailable', codes: [90006] },
    { grant: 'refresh_token', status: 400, error: 'invalid_grant', codes: [700082] },
    { grant: 'refresh_token', status: 200 },
  ]);
});

test('made-up refresh tokens: malformed AADSTS9002313, well formed AADSTS70000, another client\'s AADSTS70000', () => {
  const f = setup();
  assertSts(refresh(f, 'garbage'), 400, 'invalid_grant', 9002313);
  assertSts(refresh(f, `0.A${'y'.repeat(80)}`), 400, 'invalid_grant', 70000);
  f.oauth.registerClient({ clientId: 'aaaaaaaa-0000-4000-8000-000000000004', clientSecret: 'other', redirectUris: [REDIRECT] });
  const { refresh_token: rt } = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['offline_access', 'Calendars.Read'] });
  assertSts(refresh(f, rt, { client_id: 'aaaaaaaa-0000-4000-8000-000000000004', client_secret: 'other' }), 400, 'invalid_grant', 70000);
});

test('refresh scope: narrower is granted, wider is invalid_grant AADSTS65001 consent_required, unknown invalid_scope', () => {
  const f = setup();
  const { body } = signIn(f, { scope: 'openid offline_access Calendars.ReadWrite User.Read' });
  const narrow = refresh(f, body.refresh_token, { scope: 'openid offline_access https://graph.microsoft.com/User.Read' });
  assert.equal(narrow.status, 200);
  assert.equal(narrow.body.scope, 'openid https://graph.microsoft.com/User.Read');
  assert.deepEqual(f.oauth.accessToken(narrow.body.access_token).scopes, ['User.Read']);
  const full = refresh(f, narrow.body.refresh_token);
  assert.deepEqual(f.oauth.accessToken(full.body.access_token).scopes, ['Calendars.ReadWrite', 'User.Read'], 'the refresh token keeps the whole grant');
  const wide = refresh(f, full.body.refresh_token, { scope: 'https://graph.microsoft.com/Calendars.Read' });
  assertSts(wide, 400, 'invalid_grant', 65001);
  assert.equal(wide.body.suberror, 'consent_required');
  assertSts(refresh(f, full.body.refresh_token, { scope: 'Mail.Send' }), 400, 'invalid_scope', 70011);
});

// ---- id tokens ----

test('the id token is RS256, signed by a key of the JWKS the discovery names, with Microsoft\'s v2.0 claims', () => {
  const f = setup();
  const { body } = signIn(f, { tenant: CONTOSO, nonce: 'n-0S6' });
  const [h, p, s] = body.id_token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const config = f.call('GET', `/${CONTOSO}/v2.0/.well-known/openid-configuration`).body;
  const keys = f.call('GET', new URL(config.jwks_uri).pathname).body;
  const jwk = keys.keys.find((k) => k.kid === header.kid);
  assert.equal(header.alg, 'RS256');
  assert.ok(createVerify('RSA-SHA256').update(`${h}.${p}`).verify(createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(s, 'base64url')));
  const c = claimsOf(body.id_token);
  assert.equal(c.iss, config.issuer);
  assert.equal(c.aud, MULTI);
  assert.equal(c.tid, CONTOSO);
  assert.equal(c.oid, 'a0a0a0a0-1111-4111-8111-000000000001');
  assert.equal(c.preferred_username, ADA);
  assert.equal(c.name, 'Ada Lovelace');
  assert.equal(c.email, ADA);
  assert.equal(c.nonce, 'n-0S6');
  assert.equal(c.ver, '2.0');
  assert.equal(c.nbf, c.iat);
  assert.equal(c.exp, c.iat + 3600);
  assert.match(c.sub, /^[\w-]{43}$/);
  assert.equal(c.at_hash, undefined, 'Microsoft sends no at_hash from the token endpoint');
});

test('on /common a work account\'s id token names its real tenant in iss, never the {tenantid} template', () => {
  const f = setup();
  const c = claimsOf(signIn(f, { account: BOB }).body.id_token);
  assert.equal(c.iss, `${BASE}/${FABRIKAM}/v2.0`);
  assert.equal(c.tid, FABRIKAM);
});

test('a personal account: tid and iss are the consumer tenant; email with the email scope', () => {
  const f = setup();
  const r = signIn(f, { account: CAROL });
  assert.match(r.body.refresh_token, /^M\.C5_BAY\./);
  const c = claimsOf(r.body.id_token);
  assert.equal(c.tid, CONSUMER_TENANT);
  assert.equal(c.iss, `${BASE}/${CONSUMER_TENANT}/v2.0`);
  assert.equal(c.preferred_username, CAROL);
  assert.equal(c.email, CAROL);
  assert.equal(f.oauth.accessToken(r.body.access_token).tenantId, CONSUMER_TENANT);
});

test('claims follow the scopes: no profile, no name/preferred_username/oid; no email scope, no email', () => {
  const f = setup();
  const c = claimsOf(signIn(f, { scope: 'openid offline_access Calendars.Read' }).body.id_token);
  for (const claim of ['name', 'preferred_username', 'oid', 'email']) assert.equal(c[claim], undefined, claim);
  assert.ok(c.sub && c.tid);
});

test('sub is pairwise: one user, two applications, two subjects; oid is the same', () => {
  const f = setup();
  const a = claimsOf(signIn(f, { tenant: CONTOSO }).body.id_token);
  const b = claimsOf(signIn(f, { tenant: CONTOSO, clientId: SINGLE }).body.id_token);
  assert.notEqual(a.sub, b.sub);
  assert.equal(a.oid, b.oid);
});

// ---- tenants and audiences ----

test('tenant paths restrict accounts at the decision: consumers refuses work (AADSTS50020), organizations refuses personal (AADSTS500200), a tenant GUID refuses others', () => {
  const f = setup();
  const params = { code_challenge: pkce().challenge, code_challenge_method: 'S256' };
  for (const [tenant, account, code] of [['consumers', ADA, 50020], ['organizations', CAROL, 500200], [CONTOSO, BOB, 50020], [CONTOSO, CAROL, 50020]]) {
    const r = consent(f, { tenant, account, ...params });
    assert.equal(r.status, 400, `${tenant} ${account}`);
    assert.equal(r.location, undefined);
    assert.match(r.html, new RegExp(`AADSTS${code}`));
  }
  for (const [tenant, account] of [['consumers', CAROL], ['organizations', ADA], [CONTOSO, ADA], ['common', CAROL]]) {
    assert.ok(redirected(consent(f, { tenant, account, ...params })).code, `${tenant} ${account}`);
  }
});

test('an AzureADMyOrg application: /common AADSTS50194, /consumers AADSTS9002332, another tenant AADSTS700016, a foreign user AADSTS50020', () => {
  const f = setup();
  const params = { client_id: SINGLE, code_challenge: pkce().challenge, code_challenge_method: 'S256' };
  assert.match(redirected(f.call('GET', authorizePath('common', params))).error_description, /^AADSTS50194: /);
  assert.match(redirected(f.call('GET', authorizePath('organizations', params))).error_description, /^AADSTS50194: /);
  assert.match(redirected(f.call('GET', authorizePath('consumers', params))).error_description, /^AADSTS9002332: /);
  assert.match(f.call('GET', authorizePath(FABRIKAM, params)).html, /AADSTS700016/);
  assert.match(consent(f, { tenant: CONTOSO, account: BOB, ...params }).html, /AADSTS50020/);
  assert.equal(signIn(f, { tenant: CONTOSO, clientId: SINGLE }).status, 200);
  assertSts(token(f, { grant_type: 'refresh_token', refresh_token: 'x', client_id: SINGLE }), 400, 'invalid_request', 50194);
});

test('an AzureADMultipleOrgs application refuses personal accounts (AADSTS500200) and the consumers path (AADSTS9002332)', () => {
  const f = setup();
  const params = { client_id: ORGS, code_challenge: pkce().challenge, code_challenge_method: 'S256' };
  assert.match(consent(f, { account: CAROL, ...params }).html, /AADSTS500200/);
  assert.match(redirected(f.call('GET', authorizePath('consumers', params))).error_description, /^AADSTS9002332: /);
  assert.equal(signIn(f, { account: BOB, clientId: ORGS }).status, 200);
});

test('a personal account\'s refresh token is refused on /organizations', () => {
  const f = setup();
  const { body } = signIn(f, { account: CAROL });
  assertSts(refresh(f, body.refresh_token, {}, { tenant: 'organizations' }), 400, 'invalid_grant', 500200);
  assert.equal(refresh(f, body.refresh_token, {}, { tenant: 'consumers' }).status, 200);
});

// ---- userinfo ----

test('userinfo: sub (the id token\'s), names, picture, email; 401 without a valid token, 403 without openid', () => {
  const f = setup();
  const { body } = signIn(f);
  const ui = (t) => f.call('GET', '/oidc/userinfo', { headers: t ? { authorization: `Bearer ${t}` } : {} });
  const r = ui(body.access_token);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body, { sub: claimsOf(body.id_token).sub, name: 'Ada Lovelace', family_name: 'Lovelace', given_name: 'Ada',
    picture: 'https://graph.microsoft.com/v1.0/me/photo/$value', email: ADA });
  for (const t of [undefined, 'EwBmade-up']) {
    const denied = ui(t);
    assert.equal(denied.status, 401);
    assert.equal(denied.body.error.code, 'InvalidAuthenticationToken');
    assert.match(denied.headers['www-authenticate'], /^Bearer /);
  }
  const noOpenid = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['Calendars.Read'] }).access_token;
  assert.equal(ui(noOpenid).status, 403);
  const bare = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['openid'] }).access_token;
  assert.deepEqual(Object.keys(ui(bare).body), ['sub']);
});

// ---- the API's side ----

test('accessToken(): null for unknown tokens, after expiry (test clock), after expireAccessTokens, after revokeUser', () => {
  const f = setup();
  assert.equal(f.oauth.accessToken('EwBnot-issued'), null);
  assert.equal(f.oauth.accessToken(undefined), null);
  const a = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['Calendars.ReadWrite'] }).access_token;
  f.advance(3598 * 1000);
  assert.ok(f.oauth.accessToken(a));
  f.advance(1000);
  assert.equal(f.oauth.accessToken(a), null);
  const b = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['Calendars.ReadWrite'] }).access_token;
  const other = f.oauth.issue({ user: BOB, clientId: MULTI, scopes: ['Calendars.ReadWrite'] }).access_token;
  f.oauth.expireAccessTokens(ADA);
  assert.equal(f.oauth.accessToken(b), null);
  assert.ok(f.oauth.accessToken(other));
  f.oauth.revokeUser(BOB);
  assert.equal(f.oauth.accessToken(other), null);
});

test('issue(): a refresh token only with offline_access; unknown users, scopes and refused audiences throw', () => {
  const f = setup();
  assert.equal(f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['Calendars.Read'] }).refresh_token, undefined);
  const t = f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['offline_access', 'openid', 'https://graph.microsoft.com/Calendars.Read'] });
  assert.ok(t.refresh_token && t.id_token);
  assert.equal(t.scope, 'openid https://graph.microsoft.com/Calendars.Read');
  assert.ok(f.oauth.issue({ user: ADA, clientId: SINGLE, scopes: ['Calendars.Read'] }).access_token);
  assert.throws(() => f.oauth.issue({ user: 'nobody@x.example', clientId: MULTI, scopes: ['Calendars.Read'] }));
  assert.throws(() => f.oauth.issue({ user: ADA, clientId: MULTI, scopes: ['Mail.Read'] }));
  assert.throws(() => f.oauth.issue({ user: BOB, clientId: SINGLE, scopes: ['Calendars.Read'] }), /AADSTS50020/);
});

test('a guest signs in through the inviting tenant path: tid and iss are that tenant, idp names the home identity provider', () => {
  const f = setup();
  f.state.users.get(BOB).guestOf = [CONTOSO];
  const guest = signIn(f, { tenant: CONTOSO, account: BOB });
  assert.equal(guest.status, 200, JSON.stringify(guest.body));
  const claims = claimsOf(guest.body.id_token);
  assert.equal(claims.tid, CONTOSO);
  assert.equal(claims.iss, `${BASE}/${CONTOSO}/v2.0`);
  assert.equal(claims.idp, `https://sts.windows.net/${FABRIKAM}/`);
  assert.equal(claims.preferred_username, BOB);
  // the rotated refresh token keeps the guest session's tenant
  const refreshed = token(f, { grant_type: 'refresh_token', refresh_token: guest.body.refresh_token }, { tenant: CONTOSO });
  assert.equal(claimsOf(refreshed.body.id_token).idp, `https://sts.windows.net/${FABRIKAM}/`);
  // at home, or on /common, the same user is a member: no idp
  const home = signIn(f, { tenant: 'common', account: BOB });
  assert.equal(claimsOf(home.body.id_token).tid, FABRIKAM);
  assert.equal(claimsOf(home.body.id_token).idp, undefined);
  // not invited: still refused
  f.state.users.get(BOB).guestOf = [];
  const page = consent(f, { tenant: CONTOSO, account: BOB, code_challenge: pkce().challenge, code_challenge_method: 'S256' });
  assert.equal(page.status, 400);
});
