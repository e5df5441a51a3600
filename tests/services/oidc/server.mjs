// OpenID Connect provider for calgate's tests, built on the npm package oidc-provider (panva).
// Started by tests/services/oidc.sh; by hand:
//   OIDC_CONTROL_TOKEN=secret node tests/services/oidc/server.mjs PORT
// Listens on 127.0.0.1:PORT (PORT from argv[2] or $PORT); issuer http://127.0.0.1:PORT.
//
// OAuth/OIDC behaviour (routes are oidc-provider's defaults, see /.well-known/openid-configuration):
//   /auth (authorization), /token, /token/revocation, /token/introspection, /me (userinfo), /jwks.
//   - response_type=code only; PKCE required on every authorization request, S256 only.
//   - every client registered through the control API gets a refresh token from the code grant
//     (with or without offline_access); refresh tokens rotate on every use, and presenting an
//     already-rotated one answers invalid_grant AND revokes the whole grant (reuse detection).
//   - revoking a refresh token at /token/revocation revokes its grant (all its tokens).
//   - id_token RS256, key generated at start; it carries sub, email, email_verified, hd, tid,
//     preferred_username, name (those the account has, per requested scope; hd/tid/
//     preferred_username come with openid).
//   - scopes: openid email profile offline_access + the calendar scopes in SCOPES below, all
//     plain accepted and echoed in the token response `scope` -- except offline_access, which
//     oidc-provider (as OIDC Core 1.0 section 11 says) drops unless the authorization request also
//     has prompt=consent; the refresh token is issued either way.
//
// Login and consent (own minimal pages, plain HTML forms, driven by tests/api/oidc_browser.py):
//   GET  /interaction/UID          login page: <form method=post action=/interaction/UID/login>
//                                  with a text field `login` (the account id), or the consent
//                                  page: <form method=post action=/interaction/UID/consent> with
//                                  buttons name=decision value=approve / value=deny.
//   POST /interaction/UID/login    login=ACCOUNT_ID; unknown account -> 400 and the form again.
//   POST /interaction/UID/consent  decision=approve grants everything asked; decision=deny ends
//                                  in a redirect to the client with error=access_denied.
//   The state between steps lives in oidc-provider's cookies, so a cookie jar is needed.
//
// Control API for the tests, same port, header "Authorization: Bearer $OIDC_CONTROL_TOKEN", JSON:
//   POST /__control/clients       {client_id, client_secret, redirect_uris[],
//                                  token_endpoint_auth_method?}  register or replace a
//                                  confidential web client (code + refresh_token grants; both
//                                  client_secret_basic and client_secret_post are accepted).
//   POST /__control/accounts      {id, claims:{email, email_verified, hd, tid, name, ...}}
//   POST /__control/revoke-grants {account} or {client_id} (or both): destroys the matching
//                                  grants and every code/token of them -> {revoked: N}
//   POST /__control/settings      {access_token_ttl?, refresh_token_ttl?} seconds -> the settings
//   GET  /__control/log           token and revocation endpoint requests, oldest first: [{time,
//                                  endpoint: "token"|"revocation", grant_type, code_verifier: bool,
//                                  token_type_hint, client_id, client_auth: "client_secret_basic"|
//                                  "client_secret_post"|"none", entities: codes/tokens found or
//                                  issued (e.g. ["RefreshToken"]), status, error?, error_detail?}]
//   DELETE /__control/log         clears it
// All state is in memory and lost at exit.
// oidc-provider 9 logs "Unsupported runtime. Use Node.js v22.x LTS" on Node 20; selftest.py passes
// on Node 20.20.2 all the same (the version is pinned exactly in package.json for that reason).
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || process.env.PORT);
const controlToken = process.env.OIDC_CONTROL_TOKEN;
if (!port || !controlToken) {
  console.error('usage: OIDC_CONTROL_TOKEN=... node server.mjs PORT');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const SCOPES = [
  'openid', 'email', 'profile', 'offline_access',
  'https://www.googleapis.com/auth/calendar.calendarlist.readonly',
  'https://www.googleapis.com/auth/calendar.events',
  'Calendars.ReadWrite',
  'calendar',
];
const settings = { access_token_ttl: 3600, refresh_token_ttl: 14 * 24 * 3600 };
const accounts = new Map(); // id -> claims
const requestLog = [];

// --- storage: one Map for every oidc-provider model, no eviction (the stock one is an LRU) ---
const store = new Map(); // "Model:id" -> { payload, expiresAt }
class MemoryAdapter {
  constructor(model) { this.model = model; }

  key(id) { return `${this.model}:${id}`; }

  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { payload: { ...payload }, expiresAt });
  }

  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) { store.delete(this.key(id)); return undefined; }
    return entry.payload;
  }

  async findBy(field, value) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.model}:`) && payload[field] === value) return this.find(key.slice(this.model.length + 1));
    }
    return undefined;
  }

  findByUid(uid) { return this.findBy('uid', uid); }

  findByUserCode(userCode) { return this.findBy('userCode', userCode); }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) { store.delete(this.key(id)); }

  async revokeByGrantId(grantId) {
    for (const [key, { payload }] of store) {
      if (key.startsWith(`${this.model}:`) && payload.grantId === grantId) store.delete(key);
    }
  }
}

// Destroys matching grants and everything issued under them; returns how many grants.
function revokeGrants({ account, client_id: clientId }) {
  const grantIds = [];
  for (const [key, { payload }] of store) {
    if (key.startsWith('Grant:')
        && (account === undefined || payload.accountId === account)
        && (clientId === undefined || payload.clientId === clientId)) {
      grantIds.push(payload.jti);
      store.delete(key);
    }
  }
  for (const [key, { payload }] of store) {
    if (grantIds.includes(payload.grantId)) store.delete(key);
  }
  return grantIds.length;
}

// --- the provider ---
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  responseTypes: ['code'],
  scopes: SCOPES,
  claims: {
    acr: null, auth_time: null, iss: null, sid: null,
    openid: ['sub', 'hd', 'tid', 'preferred_username'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
  },
  conformIdTokenClaims: false, // scope claims go into the id_token too, not only to userinfo
  pkce: { required: () => true },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  expiresWithSession: async () => false,
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true, allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId },
    introspection: { enabled: true },
    userinfo: { enabled: true },
  },
  ttl: {
    AccessToken: () => settings.access_token_ttl,
    RefreshToken: () => settings.refresh_token_ttl,
    AuthorizationCode: 600,
    IdToken: 3600,
    Interaction: 3600,
    Session: 14 * 24 * 3600,
    Grant: 365 * 24 * 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    if (!accounts.has(id)) return undefined;
    return { accountId: id, claims: async () => ({ ...accounts.get(id), sub: id }) };
  },
});

// Record what the token and revocation endpoints received.
const keepDetail = (ctx, err) => { ctx.state.errorDetail = err.error_detail; };
provider.on('grant.error', keepDetail);
provider.on('revocation.error', keepDetail);
provider.use(async (ctx, next) => {
  await next();
  const route = ctx.oidc?.route;
  if (route !== 'token' && route !== 'revocation') return;
  const params = ctx.oidc.params || {};
  const body = ctx.oidc.body || {};
  requestLog.push({
    time: new Date().toISOString(),
    endpoint: route,
    grant_type: params.grant_type,
    code_verifier: Boolean(params.code_verifier),
    token_type_hint: params.token_type_hint,
    client_id: ctx.oidc.client?.clientId ?? body.client_id,
    client_auth: ctx.headers.authorization ? 'client_secret_basic' : (body.client_secret ? 'client_secret_post' : 'none'),
    entities: Object.keys(ctx.oidc.entities || {}).filter((k) => /Token|Code/.test(k)),
    status: ctx.status,
    error: ctx.body?.error,
    error_detail: ctx.state.errorDetail, // oidc-provider's reason, e.g. "refresh token already used"
  });
});

// --- login and consent pages ---
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!DOCTYPE html><html><head><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`);
}

function loginPage(res, uid, status = 200, error = '') {
  page(res, status, 'Sign in', `${error ? `<p class="error">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Account <input type="text" name="login" autofocus></label>
<button type="submit">Sign in</button></form>`);
}

function consentPage(res, uid, details) {
  const scopes = details.params.scope || '';
  page(res, 200, 'Authorize', `<p>Client <b>${esc(details.params.client_id)}</b> asks for: ${esc(scopes)}</p>
<form method="post" action="/interaction/${esc(uid)}/consent">
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function interaction(req, res, url) {
  const [, , uid, action] = url.pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  const { prompt } = details;
  if (req.method === 'GET' && !action) {
    return prompt.name === 'login' ? loginPage(res, uid) : consentPage(res, uid, details);
  }
  if (req.method !== 'POST') return page(res, 405, 'Method not allowed', '');
  const form = new URLSearchParams(await readBody(req));

  if (action === 'login' && prompt.name === 'login') {
    const login = form.get('login') || '';
    if (!accounts.has(login)) return loginPage(res, uid, 400, `unknown account "${login}"`);
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (action === 'consent' && prompt.name === 'consent') {
    if (form.get('decision') !== 'approve') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User denied the authorization',
      }, { mergeWithLastSubmission: false });
    }
    const { accountId } = details.session;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: details.params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return page(res, 400, 'Unexpected step', `<p>prompt is ${esc(prompt.name)}, got ${esc(action)}</p>`);
}

// --- control API ---
function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const seconds = (v) => Number.isInteger(v) && v > 0;

async function control(req, res, url) {
  const auth = req.headers.authorization || '';
  const expected = `Bearer ${controlToken}`;
  if (auth.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(auth), Buffer.from(expected))) {
    return json(res, 401, { error: 'control token required' });
  }
  const what = url.pathname.slice('/__control/'.length);
  if (what === 'log') {
    if (req.method === 'GET') return json(res, 200, requestLog);
    if (req.method === 'DELETE') { requestLog.length = 0; return json(res, 200, requestLog); }
  }
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' });
  let body;
  try { body = JSON.parse(await readBody(req) || '{}'); } catch { return json(res, 400, { error: 'body must be JSON' }); }

  switch (what) {
    case 'clients': {
      const { client_id: clientId, client_secret: secret, redirect_uris: redirectUris } = body;
      if (!clientId || !secret || !Array.isArray(redirectUris) || !redirectUris.length) {
        return json(res, 400, { error: 'client_id, client_secret and redirect_uris[] are required' });
      }
      const metadata = {
        client_id: clientId,
        client_secret: secret,
        redirect_uris: redirectUris,
        application_type: 'web',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: body.token_endpoint_auth_method || 'client_secret_basic',
        scope: SCOPES.join(' '),
      };
      try { await provider.Client.validate(metadata); } catch (e) {
        return json(res, 400, { error: e.message, error_description: e.error_description });
      }
      await provider.Client.adapter.upsert(clientId, metadata);
      return json(res, 200, metadata);
    }
    case 'accounts': {
      if (typeof body.id !== 'string' || !body.id) return json(res, 400, { error: 'id is required' });
      accounts.set(body.id, { ...(body.claims || {}) });
      return json(res, 200, { id: body.id, claims: accounts.get(body.id) });
    }
    case 'revoke-grants': {
      if (body.account === undefined && body.client_id === undefined) {
        return json(res, 400, { error: 'account or client_id is required' });
      }
      return json(res, 200, { revoked: revokeGrants(body) });
    }
    case 'settings': {
      for (const key of ['access_token_ttl', 'refresh_token_ttl']) {
        if (body[key] === undefined) continue;
        if (!seconds(body[key])) return json(res, 400, { error: `${key} must be a positive integer` });
        settings[key] = body[key];
      }
      return json(res, 200, settings);
    }
    default:
      return json(res, 404, { error: 'unknown control endpoint' });
  }
}

// --- HTTP server ---
const providerCallback = provider.callback();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  try {
    if (url.pathname.startsWith('/__control/')) return await control(req, res, url);
    if (url.pathname.startsWith('/interaction/')) return await interaction(req, res, url);
    return providerCallback(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) page(res, 400, 'Error', `<p>${esc(err.error_description || err.message)}</p>`);
    else res.end();
  }
});
server.listen(port, '127.0.0.1', () => console.log(`oidc provider ${issuer} ready`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
