// Everything the fake holds: users, their calendars and events (cancelled ones kept as Google
// keeps them), a change sequence per calendar, and the fake's clock. Every change (through the API
// or through the control interface acting as a user) goes through change(), which bumps the
// sequence and ETag and tells the listeners (push channels).
import { createHash, randomBytes } from 'node:crypto';
import { iso } from './time.mjs';

export { Clock } from '../common/clock.mjs';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/// A random id in Google's event-id alphabet (base32hex, lower case).
export function base32hexId(length = 26) {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += BASE32HEX[b & 31];
  return out;
}

export class FakeState {
  users = new Map();      // email -> {email, sub, emailVerified, hd, name}
  calendars = new Map();  // id -> calendar
  listeners = [];         // (calendar, record) => void, after every change
  #etag = 1000;

  constructor(clock) { this.clock = clock; }

  nextEtag() { return `"${3392387934806000 + ++this.#etag}"`; }

  addUser({ email, hd, emailVerified = true, name, timeZone = 'UTC' }) {
    if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new Error('a user needs an email');
    if (this.users.has(email)) throw new Error(`user ${email} exists`);
    const sub = String(BigInt(`0x${createHash('sha256').update(email).digest('hex').slice(0, 15)}`));
    const user = { email, sub, emailVerified, hd, name: name ?? email.split('@')[0] };
    this.users.set(email, user);
    this.addCalendar(email, { id: email, summary: email, timeZone, primary: true });
    return user;
  }

  addCalendar(owner, { id, summary = 'Calendar', timeZone = 'UTC', primary = false } = {}) {
    if (!this.users.has(owner)) throw new Error(`no user ${owner}`);
    const calendarId = id ?? `${base32hexId(26)}@group.calendar.google.com`;
    const calendar = { id: calendarId, owner, summary, timeZone, primary, events: new Map(), seq: 0, acl: new Map(),
      tokenEpoch: 0, updatedMs: this.clock.now(), etag: this.nextEtag(), resourceId: base32hexId(27) };
    this.calendars.set(calendarId, calendar);
    return calendar;
  }

  /// `calendarId` ("primary" allowed) as `user` sees it, or null: their own, or one shared with them.
  calendarOf(user, calendarId) {
    const id = calendarId === 'primary' ? user : calendarId;
    const calendar = this.calendars.get(id);
    return calendar && this.roleOf(user, calendar) ? calendar : null;
  }

  /// owner | writer | reader | freeBusyReader, or null.
  roleOf(user, calendar) {
    return calendar.owner === user ? 'owner' : calendar.acl.get(user) ?? null;
  }

  /// Shares `calendar` with `user` in `role` (the owner's ACL change in Google's UI).
  share(calendar, user, role) {
    if (!this.users.has(user)) throw new Error(`no user ${user}`);
    if (!['writer', 'reader', 'freeBusyReader'].includes(role)) throw new Error(`role ${role}: writer, reader or freeBusyReader`);
    calendar.acl.set(user, role);
  }

  /// Stores `resource` as the event's new state (status "cancelled" = deleted), stamping etag and
  /// updated, and notifies listeners. Returns the record {resource, seq}.
  change(calendar, resource) {
    const now = this.clock.now();
    const stored = { ...resource, etag: this.nextEtag(), updated: iso(now) };
    const record = { resource: stored, seq: ++calendar.seq, updatedMs: now };
    calendar.events.set(stored.id, record);
    calendar.updatedMs = now;
    calendar.etag = this.nextEtag();
    for (const listener of this.listeners) listener(calendar, record);
    return record;
  }

  /// Invalidates every sync token issued so far for `calendar` (the next use answers 410).
  expireSyncTokens(calendar) { calendar.tokenEpoch++; }

  snapshot() {
    return {
      now: iso(this.clock.now()),
      users: [...this.users.values()],
      calendars: [...this.calendars.values()].map((c) => ({
        id: c.id, owner: c.owner, summary: c.summary, timeZone: c.timeZone, primary: c.primary, seq: c.seq,
        acl: Object.fromEntries(c.acl),
        tokenEpoch: c.tokenEpoch,
        events: [...c.events.values()].map((r) => ({ seq: r.seq, ...r.resource })),
      })),
    };
  }
}
