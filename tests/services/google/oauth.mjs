// Google's OAuth 2.0 / OpenID Connect side, as strict as the contract allows:
//   GET  /.well-known/openid-configuration, /oauth2/v3/certs (JWKS, RS256)
//   GET  /o/oauth2/v2/auth            consent page (an account chooser); PKCE S256 required
//   POST /o/oauth2/v2/auth/decision   the user's choice -> 302 to redirect_uri with code or error
//   POST /token                       authorization_code (+code_verifier) and refresh_token grants
//   POST /revoke                      revokes a token and the grant behind it
//   GET  /v1/userinfo, /oauth2/v3/userinfo   sub, email, email_verified, hd, name
// Like Google: a refresh token only on the first offline consent (or with prompt=consent); refresh
// tokens are not rotated unless options.rotateRefreshTokens; a reused code is invalid_grant and
// revokes what it issued; error bodies {"error", "error_description"}.
import { knownScopes } from './discovery.mjs';
import { atHash, escapeHtml, jwks, page, pemKeys, pkceMatches, random, sameSecret, signJwt, withQuery } from '../common/oauth.mjs';

const CODE_LIFETIME_MS = 10 * 60 * 1000;
const SCOPE_ALIASES = { email: 'https://www.googleapis.com/auth/userinfo.email', profile: 'https://www.googleapis.com/auth/userinfo.profile' };
const IDENTITY_SCOPES = ['openid', 'email', 'profile', ...Object.values(SCOPE_ALIASES)];

class OAuthError extends Error {
  constructor(status, error, description) { super(description); this.status = status; this.error = error; }
}

export class OAuth {
  clients = new Map();        // client_id -> {secret, redirectUris}
  requests = new Map();       // consent request id -> authorization request
  codes = new Map();          // code -> {request, user, issuedMs, used, issued: [tokens]}
  grants = new Map();         // `${user} ${client}` -> {scopes, refreshTokens: Set}
  refreshTokens = new Map();  // token -> {user, clientId, scopes, revoked}
  accessTokens = new Map();   // token -> {user, clientId, scopes, expiresMs, refreshToken}
  tokenLog = [];              // every token endpoint answer: {grant, status, error}
  failNext = [];              // scripted token-endpoint failures: {status, error, description}

  constructor(state, options) { this.state = state; this.options = options; }

  registerClient({ clientId, clientSecret, redirectUris }) {
    if (!clientId || !clientSecret || !Array.isArray(redirectUris)) throw new Error('a client needs clientId, clientSecret, redirectUris');
    this.clients.set(clientId, { secret: clientSecret, redirectUris });
  }

  /// The access token's grant, or null (unknown, expired or revoked).
  accessToken(token) {
    const t = this.accessTokens.get(token);
    if (!t || t.expiresMs <= this.state.clock.now()) return null;
    if (t.refreshToken && this.refreshTokens.get(t.refreshToken)?.revoked) return null;
    return t;
  }

  /// Issues tokens for `user` directly (tests that do not need a consent round).
  issue({ user, clientId, scopes }) {
    if (!this.state.users.has(user) || !this.clients.has(clientId)) throw new Error('unknown user or client');
    return this.#tokens(user, clientId, scopes.map((s) => SCOPE_ALIASES[s] ?? s), { offline: true, forceRefresh: true });
  }

  /// Revokes every refresh token of `user` (its next refresh is invalid_grant).
  revokeUser(user) {
    for (const t of this.refreshTokens.values()) if (t.user === user) t.revoked = true;
    for (const [key, grant] of this.grants) if (key.startsWith(`${user} `)) grant.scopes = [];
  }

  expireAccessTokens(user) {
    for (const t of this.accessTokens.values()) if (!user || t.user === user) t.expiresMs = 0;
  }

  discovery(base) {
    return { issuer: base, authorization_endpoint: `${base}/o/oauth2/v2/auth`, token_endpoint: `${base}/token`,
      userinfo_endpoint: `${base}/v1/userinfo`, revocation_endpoint: `${base}/revoke`, jwks_uri: `${base}/oauth2/v3/certs`,
      response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: ['openid', 'email', 'profile'], token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      claims_supported: ['aud', 'email', 'email_verified', 'exp', 'hd', 'iat', 'iss', 'name', 'sub', 'nonce'],
      code_challenge_methods_supported: ['S256'], grant_types_supported: ['authorization_code', 'refresh_token'] };
  }

  /// The signing keys as Google's v1 certs endpoint lists them ({kid: PEM}), for clients (like
  /// google-auth-library's verifyIdToken) that read that form.
  pemKeys() { return pemKeys(); }

  jwks() { return jwks(); }

  /// GET /o/oauth2/v2/auth: {status, html} or {status: 302, location}.
  authorize(params) {
    const client = this.clients.get(params.client_id);
    if (!client) return { status: 401, html: page('Error 401: invalid_client', 'The OAuth client was not found.') };
    if (!params.redirect_uri || !client.redirectUris.includes(params.redirect_uri)) {
      return { status: 400, html: page('Error 400: redirect_uri_mismatch', 'The redirect URI in the request does not match the ones authorized for the OAuth client.') };
    }
    const back = (error, description) => ({ status: 302, location: withQuery(params.redirect_uri, { error, error_description: description, state: params.state }) });
    if (params.response_type !== 'code') return back('unsupported_response_type', 'response_type must be code');
    const scopes = (params.scope ?? '').split(' ').filter(Boolean).map((s) => SCOPE_ALIASES[s] ?? s);
    if (!scopes.length) return back('invalid_request', 'Missing required parameter: scope');
    const unknown = scopes.filter((s) => !IDENTITY_SCOPES.includes(s) && !knownScopes.includes(s));
    if (unknown.length) return back('invalid_scope', `Some requested scopes were invalid: ${unknown.join(' ')}`);
    if (!params.code_challenge) return back('invalid_request', 'Missing required parameter: code_challenge (PKCE is required)');
    if (params.code_challenge_method !== 'S256') return back('invalid_request', 'code_challenge_method must be S256');
    const id = random(12);
    this.requests.set(id, { ...params, scopes });
    const options = [...this.state.users.values()].map((u) => `<option value="${escapeHtml(u.email)}"${u.email === params.login_hint ? ' selected' : ''}>${escapeHtml(u.email)}</option>`).join('');
    return { status: 200, html: page('Choose an account', `<form method="post" action="/o/oauth2/v2/auth/decision">
<input type="hidden" name="request" value="${id}"><select name="account">${options}</select>
<p>The application asks for: ${scopes.map(escapeHtml).join(', ')}</p>
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Cancel</button></form>`),
      // the form's answer redirects to the client: a browser applies form-action to that redirect
      formTarget: new URL(params.redirect_uri).origin };
  }

  /// POST /o/oauth2/v2/auth/decision.
  decide({ request, account, decision }) {
    const params = this.requests.get(request);
    if (!params) return { status: 400, html: page('Error 400: invalid_request', 'This consent request is unknown or was used.') };
    this.requests.delete(request);
    const user = this.state.users.get(account);
    if (!user) return { status: 400, html: page('Error 400: invalid_request', 'No such account.') };
    if (decision !== 'allow') return { status: 302, location: withQuery(params.redirect_uri, { error: 'access_denied', state: params.state }) };
    const code = `4/${random(30)}`;
    this.codes.set(code, { request: params, user: user.email, issuedMs: this.state.clock.now(), used: false, issued: [] });
    const query = { code, scope: params.scopes.join(' '), state: params.state, authuser: '0', prompt: 'consent' };
    if (user.hd) query.hd = user.hd;
    return { status: 302, location: withQuery(params.redirect_uri, query) };
  }

  /// POST /token with the form `form` and the Authorization header `authorization`.
  token(form, authorization) {
    try {
      const scripted = this.failNext.shift();
      if (scripted) throw new OAuthError(scripted.status ?? 400, scripted.error, scripted.description ?? 'Bad Request');
      const clientId = this.#authenticate(form, authorization);
      const out = form.grant_type === 'authorization_code' ? this.#codeGrant(form, clientId)
        : form.grant_type === 'refresh_token' ? this.#refreshGrant(form, clientId)
          : (() => { throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`); })();
      this.tokenLog.push({ grant: form.grant_type, status: 200 });
      return { status: 200, body: out };
    } catch (e) {
      if (!(e instanceof OAuthError)) throw e;
      this.tokenLog.push({ grant: form.grant_type, status: e.status, error: e.error });
      return { status: e.status, body: { error: e.error, error_description: e.message } };
    }
  }

  /// POST /revoke: 200, or 400 invalid_token.
  revoke(token) {
    const refresh = this.refreshTokens.get(token);
    const access = this.accessTokens.get(token);
    if (refresh && !refresh.revoked) {
      refresh.revoked = true;
      this.#revokeGrant(refresh.user, refresh.clientId);
      return { status: 200, body: {} };
    }
    if (access && this.accessToken(token)) {
      access.expiresMs = 0;
      // Google: revoking an access token revokes its refresh token too
      if (access.refreshToken) this.refreshTokens.get(access.refreshToken).revoked = true;
      this.#revokeGrant(access.user, access.clientId);
      return { status: 200, body: {} };
    }
    return { status: 400, body: { error: 'invalid_token', error_description: 'Token expired or revoked' } };
  }

  /// userinfo for a bearer token: {status, body}.
  userinfo(token) {
    const t = token && this.accessToken(token);
    if (!t) return { status: 401, body: { error: 'invalid_request', error_description: 'Invalid Credentials' } };
    if (!t.scopes.some((s) => s === 'openid' || s === SCOPE_ALIASES.email || s === SCOPE_ALIASES.profile)) {
      return { status: 403, body: { error: 'insufficient_scope', error_description: 'Insufficient Permission' } };
    }
    return { status: 200, body: this.#claims(t.user, t.scopes) };
  }

  #authenticate(form, authorization) {
    let id = form.client_id;
    let secret = form.client_secret;
    if (authorization?.startsWith('Basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString();
      const colon = decoded.indexOf(':');
      try {
        id = decodeURIComponent(decoded.slice(0, colon));
        secret = decodeURIComponent(decoded.slice(colon + 1));
      } catch {
        throw new OAuthError(401, 'invalid_client', 'Unauthorized');
      }
    }
    const client = this.clients.get(id);
    if (!client || !secret || !sameSecret(client.secret, secret)) throw new OAuthError(401, 'invalid_client', 'Unauthorized');
    return id;
  }

  #codeGrant(form, clientId) {
    const entry = this.codes.get(form.code ?? '');
    if (!entry) throw new OAuthError(400, 'invalid_grant', 'Malformed auth code.');
    if (entry.used) {
      // a code used twice: someone replays it; what it issued is revoked (RFC 6749 §4.1.2)
      for (const t of entry.issued) this.revoke(t);
      throw new OAuthError(400, 'invalid_grant', 'Bad Request');
    }
    entry.used = true;
    if (this.state.clock.now() - entry.issuedMs > CODE_LIFETIME_MS) throw new OAuthError(400, 'invalid_grant', 'Bad Request');
    const request = entry.request;
    if (request.client_id !== clientId) throw new OAuthError(400, 'invalid_grant', 'Bad Request');
    if (form.redirect_uri !== request.redirect_uri) throw new OAuthError(400, 'redirect_uri_mismatch', 'Bad Request');
    if (!form.code_verifier) throw new OAuthError(400, 'invalid_grant', 'Missing code verifier.');
    if (!pkceMatches(form.code_verifier, request.code_challenge)) throw new OAuthError(400, 'invalid_grant', 'Invalid code verifier.');
    const out = this.#tokens(entry.user, clientId, request.scopes, { offline: request.access_type === 'offline',
      forceRefresh: request.prompt?.split(' ').includes('consent'), nonce: request.nonce });
    entry.issued.push(out.access_token, ...(out.refresh_token ? [out.refresh_token] : []));
    return out;
  }

  #refreshGrant(form, clientId) {
    const t = this.refreshTokens.get(form.refresh_token ?? '');
    if (!t || t.revoked) throw new OAuthError(400, 'invalid_grant', 'Token has been expired or revoked.');
    if (t.clientId !== clientId) throw new OAuthError(400, 'unauthorized_client', 'Unauthorized');
    let scopes = t.scopes;
    if (form.scope) {
      scopes = form.scope.split(' ').map((s) => SCOPE_ALIASES[s] ?? s);
      if (scopes.some((s) => !t.scopes.includes(s))) throw new OAuthError(400, 'invalid_scope', 'The requested scope exceeds the granted one.');
    }
    let refreshToken = form.refresh_token;
    if (this.options.rotateRefreshTokens) {
      t.revoked = true;
      refreshToken = `1//${random(40)}`;
      this.refreshTokens.set(refreshToken, { ...t, revoked: false });
    }
    const access = this.#access(t.user, clientId, scopes, refreshToken);
    const out = { access_token: access, expires_in: this.options.accessTokenLifetimeS, scope: scopes.join(' '), token_type: 'Bearer' };
    if (scopes.includes('openid')) out.id_token = this.#idToken(t.user, clientId, scopes, undefined, access);
    if (this.options.rotateRefreshTokens) out.refresh_token = refreshToken;
    return out;
  }

  #tokens(user, clientId, scopes, { offline, forceRefresh, nonce }) {
    const key = `${user} ${clientId}`;
    const grant = this.grants.get(key) ?? { scopes: [], refreshTokens: new Set() };
    const firstConsent = grant.scopes.length === 0;
    grant.scopes = [...new Set([...grant.scopes, ...scopes])];
    this.grants.set(key, grant);
    let refreshToken;
    if (offline && (firstConsent || forceRefresh)) {
      refreshToken = `1//${random(40)}`;
      this.refreshTokens.set(refreshToken, { user, clientId, scopes, revoked: false });
      grant.refreshTokens.add(refreshToken);
    }
    const access = this.#access(user, clientId, scopes, refreshToken);
    const out = { access_token: access, expires_in: this.options.accessTokenLifetimeS, scope: scopes.join(' '), token_type: 'Bearer' };
    if (refreshToken) out.refresh_token = refreshToken;
    if (scopes.includes('openid')) out.id_token = this.#idToken(user, clientId, scopes, nonce, access);
    return out;
  }

  #access(user, clientId, scopes, refreshToken) {
    const token = `ya29.${random(48)}`;
    this.accessTokens.set(token, { user, clientId, scopes, refreshToken,
      expiresMs: this.state.clock.now() + this.options.accessTokenLifetimeS * 1000 });
    return token;
  }

  #revokeGrant(user, clientId) {
    const grant = this.grants.get(`${user} ${clientId}`);
    if (!grant) return;
    for (const t of grant.refreshTokens) this.refreshTokens.get(t).revoked = true;
    grant.scopes = [];
    for (const a of this.accessTokens.values()) if (a.user === user && a.clientId === clientId) a.expiresMs = 0;
  }

  #claims(email, scopes) {
    const u = this.state.users.get(email);
    const claims = { sub: u.sub };
    if (scopes.includes(SCOPE_ALIASES.email) || scopes.includes('openid')) {
      claims.email = u.email;
      claims.email_verified = u.emailVerified;
    }
    if (u.hd) claims.hd = u.hd;
    if (scopes.includes(SCOPE_ALIASES.profile)) claims.name = u.name;
    return claims;
  }

  #idToken(user, clientId, scopes, nonce, accessToken) {
    const now = Math.floor(this.state.clock.now() / 1000);
    const payload = { iss: this.options.issuer, azp: clientId, aud: clientId, ...this.#claims(user, scopes),
      at_hash: atHash(accessToken), iat: now, exp: now + 3600, ...(nonce ? { nonce } : {}) };
    return signJwt(payload);
  }
}
