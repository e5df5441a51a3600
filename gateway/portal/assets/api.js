// calgate web portal: the HTTP client.
// Every call goes to the same origin with the session cookie (HttpOnly, never seen here). Non-GET
// calls to /v1 carry the session's CSRF token in X-CSRF-Token. Errors are problem+json documents
// (RFC 9457) and become ApiError; a failed connection is NetworkError; a 401 from /v1 means the
// session ended: the app is told (it shows the sign-in view) and the caller gets SessionEnded.

/** An error answer from calgate: `message` is the problem's detail (else its title). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.problem = problem ?? {};
    this.type = this.problem.type ?? '';
    this.slug = this.type.replace('urn:calgate:problem:', '');
    this.field = this.problem.field ?? null;
  }
}

/** The request never got an answer (offline, server down, connection reset). */
export class NetworkError extends Error {}

/** A /v1 call answered 401: the session is over. */
export class SessionEnded extends Error {}

let csrfToken = '';
let sessionEndedHandler = () => {};

export const setCsrfToken = (token) => { csrfToken = token ?? ''; };
export const onSessionEnded = (fn) => { sessionEndedHandler = fn; };

/** The raw fetch with headers, CSRF token and error mapping; resolves to the Response when ok. */
async function send(method, path, body, { retryCsrf = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && path.startsWith('/v1/')) headers['X-CSRF-Token'] = csrfToken;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new NetworkError('network');
  }
  if (res.ok) return res;
  const problem = await readJson(res);
  if (res.status === 401 && path.startsWith('/v1/') && path !== '/v1/session') {
    sessionEndedHandler();
    throw new SessionEnded('session ended');
  }
  // a stale CSRF token (e.g. the session was renewed in another tab): fetch it again, retry once
  if (res.status === 403 && retryCsrf && String(problem?.type ?? '').endsWith('csrf')) {
    const session = await getSession();
    if (session) return send(method, path, body, { retryCsrf: false });
  }
  throw new ApiError(res.status, problem);
}

async function readJson(res) {
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return null;
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/** A JSON call: api('GET', '/v1/pairs'), api('POST', '/v1/pairs', {...}). Resolves to the body (null for 204). */
export async function api(method, path, body) {
  const res = await send(method, path, body);
  return readJson(res);
}

/** A GET answered as a Blob (the data export). */
export async function apiBlob(path) {
  const res = await send('GET', path);
  return res.blob();
}

/** GET /v1/session: the signed-in user, or null when not signed in (401). Sets the CSRF token. */
export async function getSession() {
  try {
    const session = await api('GET', '/v1/session');
    setCsrfToken(session?.csrf_token);
    return session;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

const enc = encodeURIComponent;
export const paths = {
  account: (id) => `/v1/accounts/${enc(id)}`,
  calendars: (id, refresh = false) => `/v1/accounts/${enc(id)}/calendars${refresh ? '?refresh=true' : ''}`,
  oauth: (provider) => `/v1/accounts/oauth/${enc(provider)}`,
  pair: (id) => `/v1/pairs/${enc(id)}`,
  pairPart: (id, part) => `/v1/pairs/${enc(id)}/${part}`,
  policy: (domain) => `/v1/policy/${enc(domain)}`,
  feed: (id) => `/v1/feeds/${enc(id)}`,
  session: (id) => `/v1/me/sessions/${enc(id)}`,
  signin: (provider) => `/portal/signin/${enc(provider)}`,
};

/**
 * Accounts with their calendars, and an index calendar id -> {calendar, account}.
 * Used by every view that names calendars (pairs, feeds, accounts).
 */
export async function loadAccountsWithCalendars() {
  const { accounts } = await api('GET', '/v1/accounts');
  const lists = await Promise.all(accounts.map((a) => api('GET', paths.calendars(a.id))));
  const byId = new Map();
  accounts.forEach((account, i) => {
    account.calendars = lists[i].calendars;
    for (const calendar of account.calendars) byId.set(calendar.id, { calendar, account });
  });
  return { accounts, byId };
}
