// Everything the Graph fake holds: users (work accounts in a tenant, consumer accounts), their
// mailboxes' calendars and events, the server-side state behind delta links, and the clock.
// Events are stored as Outlook stores them: single instances, series masters (with their
// exceptions and cancelled occurrences) — occurrences are computed, never stored. Every change
// goes through change(), which bumps the calendar's sequence, the event's changeKey and tells the
// listeners (subscriptions).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CONSUMER_TENANT } from './oauth.mjs';

/// An Outlook-shaped opaque id ("AAMkA..." base64url); immutable ids in the fake.
export function outlookId(prefix = 'AAMkA') {
  return `${prefix}${randomBytes(33).toString('base64url')}`;
}

const guidOf = (text) => {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export class FakeState {
  users = new Map();       // lower-case UPN -> {email, id, tenantId, kind, name, timeZone}
  calendars = new Map();   // id -> calendar
  events = new Map();      // id -> stored event (single instance, series master or exception)
  syncStates = new Map();  // delta state id -> {calendarId, user, window, known: Map id -> version}
  listeners = [];          // (calendar, event, changeType) => void, after every change
  #changeCounter = 1000;

  constructor(clock) { this.clock = clock; }

  /// A user: kind 'work' (tenant from the domain unless tenantId) or 'consumer' (the MSA tenant).
  /// `guestOf`: tenant ids that invited the user as a guest (they may sign in through those tenants'
  /// paths and get tokens of those tenants, with `idp` naming their home).
  addUser({ email, kind = 'work', tenantId, name, timeZone = 'UTC', guestOf = [] }) {
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error('a user needs an email');
    const key = email.toLowerCase();
    if (this.users.has(key)) throw new Error(`user ${email} exists`);
    if (!['work', 'consumer'].includes(kind)) throw new Error('kind: work or consumer');
    const tid = kind === 'consumer' ? CONSUMER_TENANT : tenantId ?? guidOf(`tenant ${key.split('@')[1]}`);
    if (!Array.isArray(guestOf) || guestOf.some((t) => typeof t !== 'string')) throw new Error('guestOf: a list of tenant ids');
    const user = { email, id: guidOf(`user ${key}`), tenantId: tid, kind, name: name ?? email.split('@')[0], timeZone,
      guestOf: guestOf.map((t) => t.toLowerCase()) };
    this.users.set(key, user);
    this.addCalendar(key, { name: 'Calendar', isDefault: true });
    return user;
  }

  user(emailOrId) {
    if (typeof emailOrId !== 'string') return null;
    const byEmail = this.users.get(emailOrId.toLowerCase());
    if (byEmail) return byEmail;
    for (const u of this.users.values()) if (u.id === emailOrId) return u;
    return null;
  }

  addCalendar(owner, { name = 'Calendar', isDefault = false, color = 'auto' } = {}) {
    const user = this.user(owner);
    if (!user) throw new Error(`no user ${owner}`);
    const calendar = { id: outlookId('AAMkACal'), owner: user.email.toLowerCase(), name, isDefault, color, seq: 0,
      changeKey: this.#changeKey(), access: new Map() };
    this.calendars.set(calendar.id, calendar);
    return calendar;
  }

  defaultCalendar(user) {
    for (const c of this.calendars.values()) if (c.owner === user && c.isDefault) return c;
    return null;
  }

  /// 'owner' | 'write' | 'read' | null: what `user` may do with `calendar`.
  accessOf(user, calendar) {
    return calendar.owner === user ? 'owner' : calendar.access.get(user) ?? null;
  }

  /// The owner shares `calendar` with `user` ('read' or 'write').
  share(calendar, user, role) {
    if (!this.user(user)) throw new Error(`no user ${user}`);
    if (!['read', 'write'].includes(role)) throw new Error('role: read or write');
    calendar.access.set(user.toLowerCase(), role);
  }

  /// Calendars `user` sees: their own and those shared with them.
  calendarsOf(user) {
    return [...this.calendars.values()].filter((c) => this.accessOf(user, c));
  }

  #changeKey() { return Buffer.from(`ck${++this.#changeCounter}${randomBytes(6).toString('hex')}`).toString('base64'); }

  /// Stores `event` (a stored event object) as changed now: new changeKey, lastModifiedDateTime,
  /// calendar sequence; listeners hear `changeType` (created | updated | deleted).
  change(event, changeType) {
    const calendar = this.calendars.get(event.calendarId);
    const now = this.clock.now();
    event.changeKey = this.#changeKey();
    event.lastModifiedMs = now;
    event.seq = ++calendar.seq;
    if (changeType === 'created') event.createdMs = now;
    if (changeType === 'deleted') this.events.delete(event.id); else this.events.set(event.id, event);
    for (const listener of this.listeners) listener(calendar, event, changeType);
    return event;
  }

  newStoredEvent(calendar, fields) {
    return { id: outlookId(), calendarId: calendar.id, iCalUId: `040000008200E00074C5B7101A82E008${randomBytes(24).toString('hex').toUpperCase()}`,
      fields, exceptions: new Map(), cancelled: new Set(), extended: new Map(), transactionId: null, createdMs: 0,
      lastModifiedMs: 0, seq: 0, changeKey: null };
  }

  /// Every delta state of `calendar` (or all) forgotten: the next use of their links answers 410.
  expireDeltaStates(calendarId) {
    for (const [id, s] of this.syncStates) if (!calendarId || s.calendarId === calendarId) this.syncStates.delete(id);
  }

  newSyncStateId() { return randomUUID(); }

  snapshot() {
    return {
      now: new Date(this.clock.now()).toISOString(),
      users: [...this.users.values()],
      calendars: [...this.calendars.values()].map((c) => ({ id: c.id, owner: c.owner, name: c.name, isDefault: c.isDefault,
        seq: c.seq, access: Object.fromEntries(c.access),
        events: [...this.events.values()].filter((e) => e.calendarId === c.id).map((e) => ({
          id: e.id, seq: e.seq, changeKey: e.changeKey, transactionId: e.transactionId, ...e.fields,
          exceptions: [...e.exceptions.entries()].map(([at, x]) => ({ originalStart: new Date(at).toISOString(), ...x.fields })),
          cancelled: [...e.cancelled].map((at) => new Date(at).toISOString()),
          extended: Object.fromEntries(e.extended) })) })),
      deltaStates: this.syncStates.size,
    };
  }
}
