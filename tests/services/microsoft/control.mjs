// The control interface: what tests do as a Microsoft 365 or Outlook.com user (create, edit,
// delete events in Outlook), what they do to the service (expire delta links, inject faults, set
// switches, move the clock, revoke or age grants, send lifecycle events) and what they inspect
// (the whole state). The same operations as a JS API (fake.control) and over HTTP under
// /__control/ with the control bearer token (main.mjs):
//   POST   /__control/users                  {email, kind?: work|consumer, tenantId?, name?, guestOf?: [tenant id]}  -> user
//   POST   /__control/clients                {clientId, clientSecret, redirectUris, signInAudience?}
//   POST   /__control/calendars              {owner, name?}                            -> {id}
//   POST   /__control/calendars/{id}/share   {user, role: read|write}
//   POST   /__control/calendars/{id}/events  event (as the owner, Graph's rules apply)  -> event
//   POST   /__control/calendars/{id}/bulk-events  {events: [event...]}          -> {ids} (benchmarks)
//   PATCH  /__control/events/{id}            patch (as the owner; occurrences too)     -> event
//   DELETE /__control/events/{id}
//   POST   /__control/calendars/{id}/expire-delta   every delta link of the calendar forgotten
//   POST   /__control/subscriptions/{id}/lifecycle  {event: reauthorizationRequired|subscriptionRemoved|missed}
//   POST   /__control/subscriptions/{id}/forge      {kind: wrong_client_state|unknown_subscription} -> {status}
//   POST   /__control/faults                 [{route?, status, code?, times?, rate?, retryAfter?}]
//   POST   /__control/options                {switch: value}
//   POST   /__control/clock                  {now?, advanceMs?, frozen?}
//   POST   /__control/tokens                 {user, clientId, scopes}  -> token response
//   POST   /__control/users/{email}/revoke   refresh tokens revoked
//   POST   /__control/users/{email}/expire-access-tokens
//   POST   /__control/users/{email}/age-refresh-tokens  {ms}
//   POST   /__control/token-failures         {status?, error, description?, codes?} (next /token answer)
//   GET    /__control/state                  everything, after pending deliveries settled
import { GraphError } from './errors.mjs';
import * as events from './events.mjs';
import { serveControlRoutes } from '../common/control.mjs';
import { checkSwitches } from './server.mjs';

export class Control {
  constructor(fake) { this.fake = fake; }

  addUser(spec) { return this.fake.state.addUser(spec); }
  registerClient(spec) { this.fake.oauth.registerClient(spec); }
  addCalendar(owner, spec = {}) { return { id: this.fake.state.addCalendar(owner, spec).id }; }
  share(calendarId, { user, role }) { this.fake.state.share(this.#calendar(calendarId), user, role); }

  #calendar(id) {
    const calendar = this.fake.state.calendars.get(id);
    if (!calendar) throw new Error(`no calendar ${id}`);
    return calendar;
  }

  #asOwner(calendar, params = {}, body = null) {
    const { fake } = this;
    return { state: fake.state, options: fake.options, user: calendar.owner, clientId: null, calendar, params, query: {}, body,
      header: () => undefined, base: `${fake.url}v1.0/`, requestBase: `${fake.url}v1.0/me/events` };
  }

  #ownerOf(eventId) {
    const occ = events.lookupAny(this.fake.state, eventId);
    if (!occ) throw new GraphError(404, 'ErrorItemNotFound', `no event ${eventId}`);
    return this.fake.state.calendars.get(occ.event.calendarId);
  }

  /// The owner creates an event in Outlook (the API's rules apply; errors throw GraphError).
  userCreatesEvent(calendarId, event) { return events.createEvent(this.#asOwner(this.#calendar(calendarId), {}, event)).body; }
  userCreatesEvents(calendarId, list) {
    if (!Array.isArray(list)) throw new Error('events must be a list');
    return { ids: list.map((e) => this.userCreatesEvent(calendarId, e).id) };
  }
  userEditsEvent(eventId, patch) { return events.updateEvent(this.#asOwner(this.#ownerOf(eventId), { eventId }, patch)).body; }
  userDeletesEvent(eventId) { events.deleteEvent(this.#asOwner(this.#ownerOf(eventId), { eventId })); }
  expireDelta(calendarId) { this.fake.state.expireDeltaStates(this.#calendar(calendarId).id); }
  lifecycle(subscriptionId, event) { this.fake.subscriptions.lifecycle(subscriptionId, event); }
  forge(subscriptionId, kind) { return this.fake.subscriptions.forge(subscriptionId, kind); }

  setFaults(rules) { this.fake.limits.setFaults(rules); }
  setOptions(values) {
    checkSwitches(values);
    Object.assign(this.fake.options, values);
    if ('seed' in values) { this.fake.limits.reseed(values.seed); this.fake.delta.reseed(values.seed); }
  }
  setClock(spec) { this.fake.clock.set(spec); }

  issueTokens(spec) { return this.fake.oauth.issue(spec); }
  revokeUser(email) { this.fake.oauth.revokeUser(email.toLowerCase()); }
  expireAccessTokens(email) { this.fake.oauth.expireAccessTokens(email.toLowerCase()); }
  ageRefreshTokens(email, ms) { this.fake.oauth.ageRefreshTokens(email.toLowerCase(), ms); }
  failNextToken(spec) { this.fake.oauth.failNext.push(spec); }

  async state() {
    await this.fake.subscriptions.settle();
    return { ...this.fake.state.snapshot(), ...this.fake.subscriptions.snapshot(), requests: this.fake.requests, batches: this.fake.batches,
      violations: this.fake.violations, tokenLog: this.fake.oauth.tokenLog };
  }
}

const ROUTES = [
  ['POST', /^users$/, (c, m, b) => c.addUser(b)],
  ['POST', /^clients$/, (c, m, b) => c.registerClient(b)],
  ['POST', /^calendars$/, (c, m, b) => c.addCalendar(b.owner, b)],
  ['POST', /^calendars\/([^/]+)\/share$/, (c, m, b) => c.share(m[1], b)],
  ['POST', /^calendars\/([^/]+)\/events$/, (c, m, b) => c.userCreatesEvent(m[1], b)],
  ['POST', /^calendars\/([^/]+)\/bulk-events$/, (c, m, b) => c.userCreatesEvents(m[1], b.events)],
  ['POST', /^calendars\/([^/]+)\/expire-delta$/, (c, m) => c.expireDelta(m[1])],
  ['PATCH', /^events\/([^/]+)$/, (c, m, b) => c.userEditsEvent(m[1], b)],
  ['DELETE', /^events\/([^/]+)$/, (c, m) => c.userDeletesEvent(m[1])],
  ['POST', /^subscriptions\/([^/]+)\/lifecycle$/, (c, m, b) => c.lifecycle(m[1], b.event)],
  ['POST', /^subscriptions\/([^/]+)\/forge$/, (c, m, b) => c.forge(m[1], b.kind)],
  ['POST', /^faults$/, (c, m, b) => c.setFaults(b)],
  ['POST', /^options$/, (c, m, b) => c.setOptions(b)],
  ['POST', /^clock$/, (c, m, b) => c.setClock(b)],
  ['POST', /^tokens$/, (c, m, b) => c.issueTokens(b)],
  ['POST', /^users\/([^/]+)\/revoke$/, (c, m) => c.revokeUser(m[1])],
  ['POST', /^users\/([^/]+)\/expire-access-tokens$/, (c, m) => c.expireAccessTokens(m[1])],
  ['POST', /^users\/([^/]+)\/age-refresh-tokens$/, (c, m, b) => c.ageRefreshTokens(m[1], b.ms)],
  ['POST', /^token-failures$/, (c, m, b) => c.failNextToken(b)],
  ['GET', /^state$/, (c) => c.state()],
];

/// Serves /__control/... (see common/control.mjs).
export const serveControl = (fake, method, path, headers, raw, res, send) =>
  serveControlRoutes(ROUTES, fake.control, fake.options.controlToken, { method, path, headers, raw, res, send,
    describe: (e) => (e instanceof GraphError ? `${e.status} ${e.code}: ${e.message}` : e.message) });
