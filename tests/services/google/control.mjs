// The control interface: what tests do as a Google user (create, edit, delete events in the web
// UI), what they do to the service (expire sync tokens, inject faults, set switches, move the
// clock, revoke grants) and what they inspect (the whole state). The same operations as a JS API
// (fake.control) and over HTTP under /__control/ with the control bearer token (main.mjs):
//   POST   /__control/users                  {email, hd?, emailVerified?, name?, timeZone?}
//   POST   /__control/clients                {clientId, clientSecret, redirectUris}
//   POST   /__control/calendars              {owner, summary?, timeZone?}            -> {id}
//   POST   /__control/calendars/{id}/events  event resource (as the owner)          -> event
//   POST   /__control/calendars/{id}/bulk-events  {events: [resource...]}    -> {ids} (benchmarks)
//   PATCH  /__control/calendars/{id}/events/{eventId}   patch                       -> event
//   DELETE /__control/calendars/{id}/events/{eventId}
//   POST   /__control/calendars/{id}/expire-sync-tokens
//   POST   /__control/calendars/{id}/share  {user, role: writer|reader|freeBusyReader}
//   POST   /__control/faults                 [{method?, status, reason?, times?, rate?}]
//   POST   /__control/options                {switch: value}
//   POST   /__control/clock                  {now?, advanceMs?, frozen?}
//   POST   /__control/tokens                 {user, clientId, scopes}  -> token response
//   POST   /__control/users/{email}/revoke   refresh tokens revoked (next refresh: invalid_grant)
//   POST   /__control/users/{email}/expire-access-tokens
//   POST   /__control/token-failures         {status?, error, description?} (next /token answer)
//   POST   /__control/channels/{id}/forge    {kind: wrong_token|wrong_resource|unknown_channel} -> {status}
//   GET    /__control/state                  everything, after pending deliveries settled
import { ApiError } from './errors.mjs';
import * as events from './events.mjs';
import { checkRequest } from './discovery.mjs';
import { serveControlRoutes } from '../common/control.mjs';

export class Control {
  constructor(fake) { this.fake = fake; }

  addUser(spec) { return this.fake.state.addUser(spec); }
  registerClient(spec) { this.fake.oauth.registerClient(spec); }
  addCalendar(owner, spec = {}) { return { id: this.fake.state.addCalendar(owner, spec).id }; }

  #asOwner(calendarId, params = {}, body = null) {
    const calendar = this.fake.state.calendars.get(calendarId);
    if (!calendar) throw new Error(`no calendar ${calendarId}`);
    return { state: this.fake.state, options: this.fake.options, clock: this.fake.clock, user: calendar.owner,
      clientId: null, calendar, params, query: {}, body, header: () => undefined };
  }

  /// The owner creates an event in Google's UI (the API's rules apply; errors throw ApiError).
  userCreatesEvent(calendarId, resource) {
    checkRequest('Event', resource);
    return events.insert(this.#asOwner(calendarId, {}, resource)).body;
  }
  /// Many events at once, as a user importing a file would (benchmarks seed thousands).
  userCreatesEvents(calendarId, resources) {
    if (!Array.isArray(resources)) throw new Error('events must be a list');
    return { ids: resources.map((r) => this.userCreatesEvent(calendarId, r).id) };
  }
  userEditsEvent(calendarId, eventId, patch) {
    checkRequest('Event', events.withoutNulls(patch));
    return events.patch(this.#asOwner(calendarId, { eventId }, patch)).body;
  }
  userDeletesEvent(calendarId, eventId) { events.remove(this.#asOwner(calendarId, { eventId })); }
  expireSyncTokens(calendarId) { this.fake.state.expireSyncTokens(this.#asOwner(calendarId).calendar); }
  share(calendarId, { user, role }) { this.fake.state.share(this.#asOwner(calendarId).calendar, user, role); }

  setFaults(rules) { this.fake.limits.setFaults(rules); }
  setOptions(values) {
    for (const key of Object.keys(values)) if (!(key in this.fake.options)) throw new Error(`unknown switch ${key}`);
    Object.assign(this.fake.options, values);
    if ('seed' in values) this.fake.limits.reseed(values.seed);
  }
  setClock(spec) { this.fake.clock.set(spec); }

  issueTokens(spec) { return this.fake.oauth.issue(spec); }
  revokeUser(email) { this.fake.oauth.revokeUser(email); }
  expireAccessTokens(email) { this.fake.oauth.expireAccessTokens(email); }
  failNextToken(spec) { this.fake.oauth.failNext.push(spec); }
  forge(channelId, kind) { return this.fake.push.forge(channelId, kind); }

  async state() {
    await this.fake.push.settle();
    return { ...this.fake.state.snapshot(), ...this.fake.push.snapshot(), requests: this.fake.requests,
      batches: this.fake.batches, violations: this.fake.violations, tokenLog: this.fake.oauth.tokenLog };
  }
}

const ROUTES = [
  ['POST', /^users$/, (c, m, b) => c.addUser(b)],
  ['POST', /^clients$/, (c, m, b) => c.registerClient(b)],
  ['POST', /^calendars$/, (c, m, b) => c.addCalendar(b.owner, b)],
  ['POST', /^calendars\/([^/]+)\/events$/, (c, m, b) => c.userCreatesEvent(m[1], b)],
  ['POST', /^calendars\/([^/]+)\/bulk-events$/, (c, m, b) => c.userCreatesEvents(m[1], b.events)],
  ['PATCH', /^calendars\/([^/]+)\/events\/([^/]+)$/, (c, m, b) => c.userEditsEvent(m[1], m[2], b)],
  ['DELETE', /^calendars\/([^/]+)\/events\/([^/]+)$/, (c, m) => c.userDeletesEvent(m[1], m[2])],
  ['POST', /^calendars\/([^/]+)\/expire-sync-tokens$/, (c, m) => c.expireSyncTokens(m[1])],
  ['POST', /^calendars\/([^/]+)\/share$/, (c, m, b) => c.share(m[1], b)],
  ['POST', /^faults$/, (c, m, b) => c.setFaults(b)],
  ['POST', /^options$/, (c, m, b) => c.setOptions(b)],
  ['POST', /^clock$/, (c, m, b) => c.setClock(b)],
  ['POST', /^tokens$/, (c, m, b) => c.issueTokens(b)],
  ['POST', /^users\/([^/]+)\/revoke$/, (c, m) => c.revokeUser(m[1])],
  ['POST', /^users\/([^/]+)\/expire-access-tokens$/, (c, m) => c.expireAccessTokens(m[1])],
  ['POST', /^token-failures$/, (c, m, b) => c.failNextToken(b)],
  ['POST', /^channels\/([^/]+)\/forge$/, (c, m, b) => c.forge(decodeURIComponent(m[1]), b.kind)],
  ['GET', /^state$/, (c) => c.state()],
];

/// Serves /__control/... (see common/control.mjs).
export const serveControl = (fake, method, path, headers, raw, res, send) =>
  serveControlRoutes(ROUTES, fake.control, fake.options.controlToken, { method, path, headers, raw, res, send,
    describe: (e) => (e instanceof ApiError ? `${e.status} ${e.reason}: ${e.message}` : e.message) });
