// The Microsoft identity platform's side of the Graph fake (v2.0 endpoints), as strict as the
// contract allows. T is the tenant segment: common | organizations | consumers | a known tenant GUID.
//   GET  /T/v2.0/.well-known/openid-configuration   discovery (issuer `{tenantid}` template on
//                                                    common/organizations, as Microsoft publishes it)
//   GET  /T/discovery/v2.0/keys                      JWKS (RS256)
//   GET  /T/oauth2/v2.0/authorize                    consent page (an account chooser); PKCE S256 required
//   POST /T/oauth2/v2.0/authorize/decision           the user's choice -> redirect with code or error
//   POST /T/oauth2/v2.0/token                        authorization_code (+code_verifier) and refresh_token
//   GET|POST /oidc/userinfo                          sub, name, given_name, family_name, picture, email
// Like Microsoft: error bodies {error, error_description "AADSTSn: … Trace ID … Correlation ID …
// Timestamp …", error_codes, timestamp, trace_id, correlation_id, error_uri}; Graph scopes answered as
// https://graph.microsoft.com/<Scope>; refresh tokens rotate on every use and die after 90 days
// unused (AADSTS700082); a code is single use (AADSTS54005), lives 10 minutes (AADSTS70008) and is
// redeemed on the tenant path it was issued on (AADSTS700005); id tokens carry tid, oid,
// preferred_username and name (with `profile`), email (with `email`), a pairwise sub, and
// iss = <base>/<tid>/v2.0. Stricter than Microsoft (switches in the options): PKCE S256 on every
// request (`requirePkce`), and a rotated-out refresh token is dead (`oldRefreshTokenValidAfterRotation`;
// Microsoft keeps it valid).
import { createHash, randomUUID } from 'node:crypto';
import { escapeHtml, jwks, page, pkceMatches, random, sameSecret, signJwt, withQuery } from '../common/oauth.mjs';
import { GraphError } from './errors.mjs';

export const CONSUMER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/// The delegated Graph permissions the fake knows, in Microsoft's spelling (matched case-insensitively).
export const GRAPH_SCOPES = ['Calendars.Read', 'Calendars.ReadWrite', 'User.Read'];
const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const KEYWORD_TENANTS = ['common', 'organizations', 'consumers'];
const AUDIENCES = ['AzureADandPersonalMicrosoftAccount', 'AzureADMultipleOrgs', 'AzureADMyOrg'];
const DEFAULTS = {
  accessTokenLifetimeS: 3599,
  refreshTokenIdleMs: 90 * 24 * 3600 * 1000,
  rotateRefreshTokens: true,
  oldRefreshTokenValidAfterRotation: false,
  requirePkce: true,
  codeLifetimeMs: 10 * 60 * 1000,
  idTokenLifetimeS: 3600,
};
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// what the fake's codes and refresh tokens look like (work: "0.A…", personal account: "M.…"); anything
// else is "malformed" (AADSTS9002313), a well-formed unknown one "not valid" (AADSTS70000)
const CODE_SHAPE = /^(0\.A|M\.R3_BAY\.)[A-Za-z0-9_-]{40,}$/;
const REFRESH_SHAPE = /^(0\.A|M\.C5_BAY\.)[A-Za-z0-9_-]{40,}$/;
const PATHS = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/authorize|oauth2\/v2\.0\/authorize\/decision|oauth2\/v2\.0\/token)$/;

/// A failure of the security token service: HTTP status, OAuth `error`, AADSTS number, message.
class StsError extends Error {
  constructor(status, error, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.error = error;
    this.code = code;
    this.extra = extra;
  }
}
const sts = (status, error, code, message, extra) => new StsError(status, error, code, message, extra);
const missing = (name) => sts(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);
const malformed = () => sts(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');

/// "2021-05-26 10:35:28Z", the STS's timestamp form.
export const stsTimestamp = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
/// "2021-02-20T02:58:17.0350000Z", .NET's round-trip form (seven fractional digits).
export const dotnetIso = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
/// "90.00:00:00", a .NET TimeSpan.
export function timeSpan(ms) {
  const s = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${Math.floor(s / 86400)}.${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/// Client credentials from an HTTP Basic header (RFC 6749 §2.3.1: both parts form-urlencoded), or null.
export function basicCredentials(header) {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1], 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  try {
    const unform = (s) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/// A request's scopes sorted into Graph permissions (canonical short names), OIDC scopes and the
/// unknown rest. Graph permissions may be written `Calendars.Read` or
/// `https://graph.microsoft.com/Calendars.Read`, in any case.
export function parseScopes(raw) {
  const graph = [];
  const oidc = [];
  const unknown = [];
  for (const s of String(raw ?? '').split(' ').filter(Boolean)) {
    const lower = s.toLowerCase();
    if (OIDC_SCOPES.includes(lower)) { if (!oidc.includes(lower)) oidc.push(lower); continue; }
    const name = lower.startsWith(`${GRAPH_RESOURCE}/`) ? s.slice(GRAPH_RESOURCE.length + 1) : s;
    const canonical = GRAPH_SCOPES.find((g) => g.toLowerCase() === name.toLowerCase());
    if (canonical) { if (!graph.includes(canonical)) graph.push(canonical); } else unknown.push(s);
  }
  return { graph, oidc, unknown };
}

const tenantOf = (user) => (user.kind === 'consumer' ? CONSUMER_TENANT : user.tenantId);

export class MicrosoftOAuth {
  clients = new Map();        // client id -> {secret?, redirectUris, signInAudience, homeTenantId?}
  requests = new Map();       // consent request id -> the authorization request
  codes = new Map();          // code -> {request, user, issuedMs, used}
  refreshTokens = new Map();  // token -> {user, clientId, graph, oidc, grantMs, issuedMs, lastUsedMs, revoked, rotatedOut}
  accessTokens = new Map();   // token -> {user, clientId, graph, oidc, tenantId, expiresMs, revoked}
  tokensValidFrom = new Map();// user -> ms of their last revokeUser
  tokenLog = [];              // every /token answer: {grant, status, error?, codes?}
  failNext = [];              // scripted /token failures: {status?, error, description?, codes?: [int]}

  constructor(state, options = {}) {
    this.state = state;
    this.options = options;
  }

  #opt(name) { return this.options[name] ?? DEFAULTS[name]; }
  #now() { return this.state.clock.now(); }
  #base() {
    const base = this.options.issuerBase;
    if (!base) throw new Error('MicrosoftOAuth: options.issuerBase is not set');
    return base.replace(/\/$/, '');
  }

  registerClient({ clientId, clientSecret, redirectUris, signInAudience = AUDIENCES[0], homeTenantId }) {
    if (!GUID.test(clientId ?? '') || !Array.isArray(redirectUris) || !redirectUris.length) {
      throw new Error('a client needs a GUID clientId and redirectUris');
    }
    if (!AUDIENCES.includes(signInAudience)) throw new Error(`unknown signInAudience ${signInAudience}`);
    if (signInAudience === 'AzureADMyOrg' && !GUID.test(homeTenantId ?? '')) throw new Error('an AzureADMyOrg client needs homeTenantId');
    // no clientSecret: a public client, which must not present one
    this.clients.set(clientId.toLowerCase(), { secret: clientSecret, redirectUris, signInAudience, homeTenantId: homeTenantId?.toLowerCase() });
  }

  /// The access token's grant, or null (unknown, expired or revoked).
  accessToken(token) {
    const t = this.#access(token);
    return t && { user: t.user, clientId: t.clientId, scopes: [...t.graph], tenantId: t.tenantId, expiresMs: t.expiresMs };
  }

  /// Issues tokens for `user` directly, as a code redemption on /common would (tests that skip the
  /// consent page): a refresh token with offline_access, an id token with openid.
  issue({ user, clientId, scopes }) {
    const key = String(user).toLowerCase();
    const u = this.state.users.get(key);
    const client = this.clients.get(String(clientId).toLowerCase());
    if (!u || !client) throw new Error('unknown user or client');
    const { graph, oidc, unknown } = parseScopes(Array.isArray(scopes) ? scopes.join(' ') : scopes);
    if (unknown.length) throw new Error(`unknown scopes ${unknown.join(' ')}`);
    const path = client.signInAudience === 'AzureADMyOrg' ? client.homeTenantId : 'common';
    const refused = this.#clientGate(client, path) ?? this.#userGate(client, path, u);
    if (refused) throw new Error(`AADSTS${refused.code}: ${refused.message}`);
    return this.#mint(key, String(clientId).toLowerCase(), graph, oidc, { offline: oidc.includes('offline_access') });
  }

  /// Revokes everything issued to `user` so far (Graph's revokeSignInSessions, with continuous access
  /// evaluation ending the access tokens too): the next refresh is invalid_grant AADSTS50173.
  revokeUser(user) {
    const key = String(user).toLowerCase();
    this.tokensValidFrom.set(key, this.#now());
    for (const t of this.refreshTokens.values()) if (t.user === key) t.revoked = true;
    for (const t of this.accessTokens.values()) if (t.user === key) t.revoked = true;
  }

  /// Expires the access tokens of `user` (all users without one): the next API call is 401.
  expireAccessTokens(user) {
    const key = user === undefined ? undefined : String(user).toLowerCase();
    for (const t of this.accessTokens.values()) if (key === undefined || t.user === key) t.expiresMs = 0;
  }

  /// Makes the refresh tokens of `user` look unused (and issued) `ms` earlier.
  ageRefreshTokens(user, ms) {
    const key = String(user).toLowerCase();
    for (const t of this.refreshTokens.values()) {
      if (t.user !== key) continue;
      t.lastUsedMs -= ms;
      t.issuedMs -= ms;
      t.grantMs -= ms;
    }
  }

  /// The whole OAuth side: null when `url` is none of its paths, else {status, headers?, body?, html?,
  /// location?} (body: JSON; location: a 302).
  route(method, url, headers = {}, rawBody = '') {
    const correlationId = headers['client-request-id'] ?? url.searchParams.get('client-request-id') ?? undefined;
    const ctx = { correlationId };
    if (url.pathname === '/oidc/userinfo') return this.#userinfo(method, headers);
    const m = PATHS.exec(url.pathname);
    if (!m) return null;
    let tenant;
    try { tenant = decodeURIComponent(m[1]).toLowerCase(); } catch { tenant = m[1]; }
    const endpoint = m[2];
    const html = endpoint.startsWith('oauth2/v2.0/authorize');
    if (!this.#tenantKnown(tenant)) {
      const e = sts(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
      return html ? this.#errorPage(e, ctx) : this.#errorJson(e, ctx);
    }
    switch (endpoint) {
      case 'v2.0/.well-known/openid-configuration':
        return method === 'GET' ? { status: 200, body: this.discovery(tenant) } : notAllowed('GET');
      case 'discovery/v2.0/keys':
        return method === 'GET' ? { status: 200, body: jwks() } : notAllowed('GET');
      case 'oauth2/v2.0/authorize':
        return method === 'GET' ? this.#authorize(tenant, Object.fromEntries(url.searchParams), ctx) : notAllowed('GET');
      case 'oauth2/v2.0/authorize/decision':
        return method === 'POST' ? this.#decide(tenant, Object.fromEntries(new URLSearchParams(rawBody)), ctx) : notAllowed('POST');
      default:
        return this.#token(method, tenant, headers, rawBody, ctx);
    }
  }

  /// The discovery document of tenant path `tenant`, field for field as Microsoft publishes it.
  discovery(tenant) {
    const base = this.#base();
    const issuerTenant = tenant === 'common' || tenant === 'organizations' ? '{tenantid}' : tenant === 'consumers' ? CONSUMER_TENANT : tenant;
    const at = `${base}/${tenant}`;
    return {
      token_endpoint: `${at}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${at}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${at}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${at}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${at}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud',
        'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${at}/kerberos`,
      tenant_region_scope: GUID.test(tenant) && tenant !== CONSUMER_TENANT ? 'NA' : null,
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  // ---- authorization endpoint ----

  #authorize(tenant, params, ctx) {
    if (!params.client_id) return this.#errorPage(missing('client_id'), ctx);
    const clientId = params.client_id.toLowerCase();
    const client = this.clients.get(clientId);
    if (!client || (GUID.test(tenant) && client.signInAudience === 'AzureADMyOrg' && client.homeTenantId !== tenant)) {
      return this.#errorPage(notFoundInDirectory(params.client_id, tenant), ctx);
    }
    if (!params.redirect_uri) return this.#errorPage(sts(400, 'invalid_request', 900971, 'No reply address provided.'), ctx);
    if (!client.redirectUris.includes(params.redirect_uri)) {
      return this.#errorPage(sts(400, 'invalid_request', 50011, `The redirect URI '${params.redirect_uri}' specified in the request does not match the redirect URIs configured for the application '${params.client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`), ctx);
    }
    // from here on, errors go back to the application
    const mode = ['query', 'fragment', 'form_post'].includes(params.response_mode) ? params.response_mode : 'query';
    const back = (e) => this.#toClient(params.redirect_uri, mode, { ...this.#errorParams(e, ctx), state: params.state });
    if (params.response_mode !== undefined && mode !== params.response_mode) {
      return back(sts(400, 'invalid_request', 70007, `The application returned an unsupported value of 'response_mode': '${params.response_mode}'.`));
    }
    if (params.response_type !== 'code') {
      return back(params.response_type
        ? sts(400, 'unsupported_response_type', 700054, `response_type '${params.response_type}' is not enabled for the application.`)
        : missing('response_type'));
    }
    const refused = this.#clientGate(client, tenant);
    if (refused) return back(refused);
    if (!params.scope) return back(missing('scope'));
    const { graph, oidc, unknown } = parseScopes(params.scope);
    if (unknown.length) {
      return back(sts(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${unknown.join(' ')}' does not exist.`));
    }
    if (params.code_challenge !== undefined || params.code_challenge_method !== undefined || this.#opt('requirePkce')) {
      if (!params.code_challenge) {
        return back(sts(400, 'invalid_request', 9002325, 'Proof Key for Code Exchange is required: send code_challenge and code_challenge_method=S256 (the contract fake requires PKCE S256 on every authorization request).'));
      }
      // Microsoft also accepts `plain` (and a missing method meaning plain); the fake takes S256 only
      if (params.code_challenge_method !== 'S256') return back(sts(400, 'invalid_request', 50149, 'Invalid Code_Challenge_method parameter (the contract fake accepts S256 only).'));
      if (!/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge)) return back(sts(400, 'invalid_request', 501491, 'Invalid size of Code_Challenge parameter.'));
    }
    if (params.prompt === 'none') {
      // the fake keeps no sign-in session, so nothing can be answered silently
      return back(sts(400, 'login_required', 50058, 'A silent sign-in request was sent but no user is signed in.'));
    }
    const id = random(16);
    this.requests.set(id, { tenant, clientId, redirectUri: params.redirect_uri, mode, state: params.state, nonce: params.nonce,
      challenge: params.code_challenge, graph, oidc });
    const hint = params.login_hint?.toLowerCase();
    const options = [...this.state.users.keys()].map((k) => `<option value="${escapeHtml(k)}"${k === hint ? ' selected' : ''}>${escapeHtml(k)}</option>`).join('');
    const asked = [...oidc, ...graph.map((g) => `${GRAPH_RESOURCE}/${g}`)];
    return { status: 200, html: page('Pick an account', `<form method="post" action="/${escapeHtml(tenant)}/oauth2/v2.0/authorize/decision">
<input type="hidden" name="request" value="${id}"><select name="account">${options}</select>
<p>The application asks for: ${asked.map(escapeHtml).join(', ')}</p>
<button name="decision" value="allow">Accept</button> <button name="decision" value="deny">Cancel</button></form>`) };
  }

  #decide(tenant, { request, account, decision }, ctx) {
    const req = this.requests.get(request ?? '');
    if (!req || req.tenant !== tenant) return this.#errorPage(sts(400, 'invalid_request', 90023, 'This sign-in request is unknown or was used.'), ctx);
    const key = String(account ?? '').toLowerCase();
    const user = this.state.users.get(key);
    if (!user) return this.#errorPage(sts(400, 'invalid_request', 50034, `The user account {EmailHidden} does not exist in the '${tenant}' directory. To sign into this application, the account must be added to the directory.`), ctx);
    if (decision !== 'allow') {
      this.requests.delete(request);
      return this.#toClient(req.redirectUri, req.mode, { error: 'access_denied', error_subcode: 'cancel',
        error_description: this.#describe(sts(400, 'access_denied', 65004, 'User declined to consent to access the app.'), ctx), state: req.state });
    }
    // a refused account stays on Microsoft's page (the request stays open: another account may be picked)
    const refused = this.#userGate(this.clients.get(req.clientId), tenant, user);
    if (refused) return this.#errorPage(refused, ctx);
    this.requests.delete(request);
    const code = `${user.kind === 'consumer' ? 'M.R3_BAY.' : '0.A'}${random(90)}`;
    this.codes.set(code, { request: req, user: key, issuedMs: this.#now(), used: false });
    return this.#toClient(req.redirectUri, req.mode, { code, state: req.state,
      session_state: user.kind === 'consumer' ? undefined : randomUUID() });
  }

  // ---- token endpoint ----

  #token(method, tenant, headers, rawBody, ctx) {
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(headers['content-type'] ?? '');
    const form = isForm ? new URLSearchParams(rawBody) : new URLSearchParams();
    const grant = form.get('grant_type') ?? undefined;
    const answer = (status, body, entry) => {
      this.tokenLog.push({ grant, status, ...entry });
      return { status, headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache',
        ...(ctx.correlationId ? { 'client-request-id': ctx.correlationId } : {}) }, body };
    };
    const scripted = this.failNext.shift();
    if (scripted) {
      const body = this.#scriptedBody(scripted, ctx);
      return answer(scripted.status ?? 400, body, { error: scripted.error, codes: body.error_codes });
    }
    try {
      if (method !== 'POST') throw sts(400, 'invalid_request', 900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${method} request.`);
      if (!isForm || !grant) throw missing('grant_type');
      const clientId = this.#authenticate(form, headers, tenant);
      const refused = this.#clientGate(this.clients.get(clientId), tenant);
      if (refused) throw refused;
      let body;
      if (grant === 'authorization_code') body = this.#codeGrant(tenant, form, clientId);
      else if (grant === 'refresh_token') body = this.#refreshGrant(tenant, form, clientId);
      else throw sts(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`);
      return answer(200, body, {});
    } catch (e) {
      if (!(e instanceof StsError)) throw e;
      return answer(e.status, this.#errorBody(e, ctx), { error: e.error, codes: [e.code] });
    }
  }

  #authenticate(form, headers, tenant) {
    let id = form.get('client_id') ?? undefined;
    let secret = form.get('client_secret') ?? undefined;
    if (headers.authorization !== undefined) {
      const creds = basicCredentials(headers.authorization);
      if (!creds) throw sts(401, 'invalid_client', 7000215, 'Invalid client secret provided: the Authorization header is not HTTP Basic with form-urlencoded client_id:client_secret.');
      // RFC 6749 §2.3: one authentication method per request
      if (secret !== undefined) throw sts(400, 'invalid_request', 9002313, 'Invalid request. Request is malformed or invalid. (client_secret in both the body and the Authorization header)');
      if (id !== undefined && id.toLowerCase() !== creds.id.toLowerCase()) throw sts(400, 'invalid_request', 9002313, 'Invalid request. Request is malformed or invalid. (client_id differs between the body and the Authorization header)');
      ({ id, secret } = creds);
    }
    if (!id) throw missing('client_id');
    const client = this.clients.get(id.toLowerCase());
    if (!client) throw notFoundInDirectory(id, tenant, 'unauthorized_client');
    if (client.secret === undefined) {
      if (secret !== undefined) throw sts(401, 'invalid_client', 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.");
    } else {
      if (!secret) throw sts(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      if (!sameSecret(client.secret, secret)) {
        throw sts(401, 'invalid_client', 7000215, `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${id}'.`);
      }
    }
    return id.toLowerCase();
  }

  #codeGrant(tenant, form, clientId) {
    const code = form.get('code');
    if (!code) throw missing('code');
    if (!form.get('redirect_uri')) throw missing('redirect_uri');
    const entry = this.codes.get(code);
    if (!entry) throw CODE_SHAPE.test(code) ? sts(400, 'invalid_grant', 70000, "The provided value for the 'code' parameter is not valid.") : malformed();
    // Microsoft: a second redemption fails, what the first one issued stays valid ("use an existing refresh token")
    if (entry.used) throw sts(400, 'invalid_grant', 54005, 'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.');
    entry.used = true;
    const req = entry.request;
    if (this.#now() - entry.issuedMs > this.#opt('codeLifetimeMs')) {
      throw sts(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
    }
    if (req.clientId !== clientId) throw sts(400, 'invalid_grant', 70000, "The provided value for the 'code' parameter is not valid.");
    if (req.tenant !== tenant) {
      throw sts(400, 'invalid_grant', 700005, 'Provided Authorization Code is intended to use against other tenant, thus rejected.');
    }
    if (form.get('redirect_uri') !== req.redirectUri) {
      throw sts(400, 'invalid_grant', 50011, `The reply address '${form.get('redirect_uri')}' does not match the reply address '${req.redirectUri}' provided when requesting Authorization code.`);
    }
    if (req.challenge !== undefined && !pkceMatches(form.get('code_verifier') ?? '', req.challenge)) {
      throw sts(400, 'invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    const user = this.state.users.get(entry.user);
    if (!user) throw sts(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
    // the `scope` parameter (a Microsoft extension) may narrow the Graph permissions consented, never
    // widen them; the OIDC scopes (id token, refresh token) are those of the authorization request
    const graph = form.has('scope') ? this.#narrow(form.get('scope'), req, clientId).graph : req.graph;
    return this.#mint(entry.user, clientId, graph, req.oidc, { offline: req.oidc.includes('offline_access'), nonce: req.nonce,
      signInTenant: this.#guestTenant(this.state.users.get(entry.user), req.tenant),
      clientInfo: form.get('client_info') === '1' });
  }

  #refreshGrant(tenant, form, clientId) {
    const token = form.get('refresh_token');
    if (!token) throw missing('refresh_token');
    const t = this.refreshTokens.get(token);
    const notValid = () => sts(400, 'invalid_grant', 70000, "The provided value for the input parameter 'refresh_token' or 'assertion' is not valid.");
    if (!t) throw REFRESH_SHAPE.test(token) ? notValid() : malformed();
    if (t.clientId !== clientId || t.rotatedOut) throw notValid();
    const now = this.#now();
    if (t.revoked) {
      throw sts(400, 'invalid_grant', 50173, `The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '${dotnetIso(t.grantMs)}' and the TokensValidFrom date (before which tokens are not valid) for this user is '${dotnetIso(this.tokensValidFrom.get(t.user) ?? now)}'.`);
    }
    const idle = this.#opt('refreshTokenIdleMs');
    if (now - t.lastUsedMs > idle) {
      throw sts(400, 'invalid_grant', 700082, `The refresh token has expired due to inactivity. The token was issued on ${dotnetIso(t.issuedMs)} and was inactive for ${timeSpan(idle)}.`, { suberror: 'bad_token' });
    }
    const user = this.state.users.get(t.user);
    if (!user) throw sts(400, 'invalid_grant', 50034, 'The user account does not exist in the directory.');
    const refused = this.#userGate(this.clients.get(clientId), tenant, user);
    if (refused) throw sts(400, 'invalid_grant', refused.code, refused.message);
    let { graph, oidc } = t;
    if (form.has('scope')) {
      const asked = this.#narrow(form.get('scope'), t, clientId);
      graph = asked.graph;
      oidc = [...new Set([...t.oidc, ...asked.oidc.filter((s) => s !== 'offline_access')])];
    }
    t.lastUsedMs = now;
    let refreshToken;
    if (this.#opt('rotateRefreshTokens')) {
      refreshToken = this.#newRefreshToken(user, { ...t, issuedMs: now, lastUsedMs: now });
      if (!this.#opt('oldRefreshTokenValidAfterRotation')) t.rotatedOut = true;
    }
    const out = this.#response(t.user, clientId, graph, oidc, { clientInfo: form.get('client_info') === '1', signInTenant: t.signInTenant });
    if (refreshToken) out.refresh_token = refreshToken;
    return this.#order(out);
  }

  /// The scopes of a token request's `scope` parameter: Graph permissions within what `granted`
  /// ({graph}) holds (none named: all of them); OIDC scopes are always allowed (consenting to anything
  /// consents to them).
  #narrow(raw, granted, clientId) {
    const { graph, oidc, unknown } = parseScopes(raw);
    if (unknown.length) throw sts(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope '${unknown.join(' ')}' does not exist.`);
    if (graph.some((g) => !granted.graph.includes(g))) {
      throw sts(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${clientId}' named 'contract fake client'. Send an interactive authorization request for this user and resource.`, { suberror: 'consent_required' });
    }
    return { graph: graph.length ? graph : [...granted.graph], oidc };
  }

  // ---- tokens ----

  #mint(userKey, clientId, graph, oidc, { offline, nonce, clientInfo, signInTenant }) {
    const user = this.state.users.get(userKey);
    const out = this.#response(userKey, clientId, graph, oidc, { nonce, clientInfo, signInTenant });
    if (offline) {
      const now = this.#now();
      out.refresh_token = this.#newRefreshToken(user, { user: userKey, clientId, graph: [...graph], oidc: [...oidc],
        grantMs: now, issuedMs: now, lastUsedMs: now, signInTenant });
    }
    return this.#order(out);
  }

  #newRefreshToken(user, record) {
    const token = `${user.kind === 'consumer' ? 'M.C5_BAY.' : '0.A'}${random(120)}`;
    this.refreshTokens.set(token, { ...record, revoked: false, rotatedOut: false });
    return token;
  }

  /// An access token (and an id token with openid) for `graph` + `oidc`, as the token endpoint answers.
  #response(userKey, clientId, graph, oidc, { nonce, clientInfo, signInTenant } = {}) {
    const user = this.state.users.get(userKey);
    const lifetime = this.#opt('accessTokenLifetimeS');
    const access = `EwB${random(96)}`;
    this.accessTokens.set(access, { user: userKey, clientId, graph: [...graph], oidc: [...oidc], tenantId: tenantOf(user),
      expiresMs: this.#now() + lifetime * 1000, revoked: false });
    // as Microsoft writes it: the OIDC scopes by name (offline_access never listed), Graph's as URLs
    const scope = [...['profile', 'openid', 'email'].filter((s) => oidc.includes(s)), ...graph.map((g) => `${GRAPH_RESOURCE}/${g}`)].join(' ');
    const out = { token_type: 'Bearer', scope, expires_in: lifetime, ext_expires_in: lifetime, access_token: access };
    if (oidc.includes('openid')) out.id_token = this.#idToken(user, clientId, oidc, nonce, signInTenant);
    if (clientInfo) out.client_info = Buffer.from(JSON.stringify({ uid: user.id, utid: tenantOf(user) })).toString('base64url');
    return out;
  }

  #order(out) {
    const keys = ['token_type', 'scope', 'expires_in', 'ext_expires_in', 'access_token', 'refresh_token', 'id_token', 'client_info'];
    return Object.fromEntries(keys.filter((k) => out[k] !== undefined).map((k) => [k, out[k]]));
  }

  #access(token) {
    const t = token && this.accessTokens.get(token);
    if (!t || t.revoked || t.expiresMs <= this.#now()) return null;
    return t;
  }

  /// v2.0 id token claims: the real tenant in iss and tid; name, preferred_username and oid need
  /// `profile`, email needs `email`; no at_hash/c_hash (Microsoft omits them on /token answers).
  /// A guest (signed in through a tenant GUID path of a tenant that invited them) gets that tenant
  /// as tid and iss, and `idp` naming the identity provider of their home account.
  #idToken(user, clientId, oidc, nonce, signInTenant) {
    const tid = signInTenant ?? tenantOf(user);
    const now = Math.floor(this.#now() / 1000);
    const claims = { aud: clientId, iss: `${this.#base()}/${tid}/v2.0`, iat: now, nbf: now, exp: now + this.#opt('idTokenLifetimeS') };
    if (signInTenant) claims.idp = user.kind === 'consumer' ? 'live.com' : `https://sts.windows.net/${tenantOf(user)}/`;
    if (oidc.includes('email') && user.email) claims.email = user.email;
    if (oidc.includes('profile')) Object.assign(claims, { name: user.name, oid: user.id, preferred_username: user.email });
    Object.assign(claims, { aio: random(48), ...(nonce !== undefined ? { nonce } : {}), rh: `0.A${random(40)}.`,
      sub: pairwiseSub(user, clientId), tid, uti: random(16), ver: '2.0' });
    return signJwt(claims);
  }

  // ---- userinfo (a Graph endpoint: Graph's error shape) ----

  #userinfo(method, headers) {
    if (method !== 'GET' && method !== 'POST') return notAllowed('GET, POST');
    const m = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
    const t = m && this.#access(m[1]);
    if (!t) {
      return { status: 401, headers: { 'www-authenticate': `Bearer realm="", authorization_uri="${this.#base()}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"` },
        body: new GraphError(401, 'InvalidAuthenticationToken', m ? 'Access token validation failure.' : 'Access token is empty.').body(this.#now()) };
    }
    if (!t.oidc.includes('openid')) {
      return { status: 403, body: new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.').body(this.#now()) };
    }
    const user = this.state.users.get(t.user);
    const body = { sub: pairwiseSub(user, t.clientId) };
    if (t.oidc.includes('profile')) {
      const parts = String(user.name ?? '').trim().split(/\s+/).filter(Boolean);
      Object.assign(body, { name: user.name, ...(parts.length > 1 ? { family_name: parts.at(-1), given_name: parts.slice(0, -1).join(' ') } : {}),
        picture: 'https://graph.microsoft.com/v1.0/me/photo/$value' });
    }
    if (t.oidc.includes('email') && user.email) body.email = user.email;
    return { status: 200, body };
  }

  // ---- tenants and audiences ----

  #tenantKnown(tenant) {
    if (KEYWORD_TENANTS.includes(tenant) || tenant === CONSUMER_TENANT) return true;
    if (!GUID.test(tenant)) return false;
    for (const u of this.state.users.values()) if (u.kind !== 'consumer' && u.tenantId?.toLowerCase() === tenant) return true;
    for (const c of this.clients.values()) if (c.homeTenantId === tenant) return true;
    return false;
  }

  /// Whether `client` may be used on tenant path `tenant` at all: an StsError, or null.
  #clientGate(client, tenant) {
    const consumers = tenant === 'consumers' || tenant === CONSUMER_TENANT;
    if (client.signInAudience !== 'AzureADandPersonalMicrosoftAccount' && consumers) {
      return sts(400, 'invalid_request', 9002332, `Application '${this.#clientIdOf(client)}'(contract fake client) is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.`);
    }
    if (client.signInAudience === 'AzureADMyOrg') {
      if (tenant === 'common' || tenant === 'organizations') {
        return sts(400, 'invalid_request', 50194, `Application '${this.#clientIdOf(client)}'(contract fake client) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.`);
      }
      if (tenant !== client.homeTenantId) return notFoundInDirectory(this.#clientIdOf(client), tenant, 'unauthorized_client');
    }
    return null;
  }

  /// Whether `user` may sign in to `client` through tenant path `tenant`: an StsError, or null.
  #userGate(client, tenant, user) {
    const tid = tenantOf(user).toLowerCase();
    const personal = user.kind === 'consumer';
    const notInTenant = (name) => sts(400, 'invalid_request', 50020, `User account '{EmailHidden}' from identity provider '${personal ? 'live.com' : `https://sts.windows.net/${tid}/`}' does not exist in tenant '${name}' and cannot access the application '${this.#clientIdOf(client)}'(contract fake client) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`);
    const personalRefused = () => sts(400, 'invalid_request', 500200, `User account '{EmailHidden}' is a personal Microsoft account. Personal Microsoft accounts are not supported for this application unless explicitly invited to an organization. Try signing out and signing back in with an organizational account.`);
    if (tenant === 'consumers' || tenant === CONSUMER_TENANT) { if (!personal) return notInTenant('Microsoft Account'); }
    else if (tenant === 'organizations') { if (personal) return personalRefused(); }
    else if (tenant !== 'common' && tid !== tenant && !(user.guestOf ?? []).includes(tenant)) return notInTenant(tenant);
    // (an AzureADMyOrg client only ever gets here on its home tenant's path: #clientGate)
    if (client.signInAudience === 'AzureADMultipleOrgs' && personal) return personalRefused();
    return null;
  }

  /// The tenant a guest signs in to: `tenant` when it is a tenant GUID the user was invited to
  /// (not their home tenant); undefined otherwise.
  #guestTenant(user, tenant) {
    return user && tenant !== tenantOf(user).toLowerCase() && (user.guestOf ?? []).includes(tenant) ? tenant : undefined;
  }

  #clientIdOf(client) { for (const [id, c] of this.clients) if (c === client) return id; return ''; }

  // ---- answers ----

  /// The error_description: "AADSTSn: message Trace ID: … Correlation ID: … Timestamp: …".
  #describe(e, ctx, ids = this.#ids(ctx)) {
    return `AADSTS${e.code}: ${e.message} Trace ID: ${ids.trace} Correlation ID: ${ids.correlation} Timestamp: ${ids.timestamp}`;
  }

  #ids(ctx) { return { trace: randomUUID(), correlation: ctx.correlationId ?? randomUUID(), timestamp: stsTimestamp(this.#now()) }; }

  #errorBody(e, ctx) {
    const ids = this.#ids(ctx);
    return { error: e.error, error_description: this.#describe(e, ctx, ids), error_codes: [e.code], timestamp: ids.timestamp,
      trace_id: ids.trace, correlation_id: ids.correlation, error_uri: `https://login.microsoftonline.com/error?code=${e.code}`, ...e.extra };
  }

  #scriptedBody({ error, description, codes = [] }, ctx) {
    const ids = this.#ids(ctx);
    const text = description ?? error;
    return { error, error_description: `${codes.length ? `AADSTS${codes[0]}: ` : ''}${text} Trace ID: ${ids.trace} Correlation ID: ${ids.correlation} Timestamp: ${ids.timestamp}`,
      error_codes: [...codes], timestamp: ids.timestamp, trace_id: ids.trace, correlation_id: ids.correlation,
      ...(codes.length ? { error_uri: `https://login.microsoftonline.com/error?code=${codes[0]}` } : {}) };
  }

  #errorJson(e, ctx) { return { status: e.status, body: this.#errorBody(e, ctx) }; }

  #errorParams(e, ctx) {
    return { error: e.error, error_description: this.#describe(e, ctx), error_uri: `https://login.microsoftonline.com/error?code=${e.code}` };
  }

  /// Microsoft's "Sorry, but we're having trouble signing you in" page: the application hears nothing.
  #errorPage(e, ctx) {
    const ids = this.#ids(ctx);
    return { status: e.status, html: page('Sign in', `<p>Sorry, but we’re having trouble signing you in.</p>
<p id="message">AADSTS${e.code}: ${escapeHtml(e.message)}</p>
<p>Request Id: ${ids.trace}<br>Correlation Id: ${ids.correlation}<br>Timestamp: ${escapeHtml(new Date(this.#now()).toISOString())}</p>`) };
  }

  /// Sends `params` back to the application in `mode` (query, fragment or form_post).
  #toClient(redirectUri, mode, params) {
    const defined = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    if (mode === 'form_post') {
      const inputs = Object.entries(defined).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
      return { status: 200, html: page('Working...', `<form method="POST" name="hiddenform" action="${escapeHtml(redirectUri)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript></form><script>document.forms[0].submit()</script>`) };
    }
    if (mode === 'fragment') {
      const url = new URL(redirectUri);
      url.hash = new URLSearchParams(defined).toString();
      return { status: 302, location: url.toString() };
    }
    return { status: 302, location: withQuery(redirectUri, defined) };
  }
}

function notFoundInDirectory(clientId, tenant, error = 'unauthorized_client') {
  return sts(400, error, 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
}

const notAllowed = (allow) => ({ status: 405, headers: { allow }, body: { error: 'invalid_request', error_description: `Method not allowed; use ${allow}.` } });

/// The v2.0 `sub`: pairwise, the same for one user and one application, different across applications.
export function pairwiseSub(user, clientId) {
  return createHash('sha256').update(`${user.id}|${tenantOf(user)}|${String(clientId).toLowerCase()}`).digest('base64url');
}
