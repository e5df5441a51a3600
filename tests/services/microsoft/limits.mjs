// Throttling and injected faults, checked before a request reaches its handler (CONTRACT.md §2
// "Errors/throttling/batch"):
//   - scripted faults: rules {route?, status, code?, times?, rate?, retryAfter?} - the next `times`
//     matching requests (or a seeded `rate` share of them) fail;
//   - per app and mailbox: at most options.mailboxRequestsPer10Min requests in 10 minutes, and at
//     most options.maxConcurrentPerMailbox in flight at once (Outlook's 4) -> 429 TooManyRequests
//     (ApplicationThrottled) with a fractional Retry-After (absent when options.retryAfterSeconds
//     is null: the client must back off on its own).
// Requests inside a $batch count one each.
import { GraphError } from './errors.mjs';
import { ScriptedFaults } from '../common/faults.mjs';

const FAULT_CODES = {
  400: 'BadRequest', 401: 'InvalidAuthenticationToken', 403: 'ErrorAccessDenied', 404: 'ErrorItemNotFound',
  409: 'ErrorIrresolvableConflict', 412: 'ErrorIrresolvableConflict', 429: 'TooManyRequests', 500: 'generalException',
  502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout',
};

export class Limits {
  #windows = new Map();   // `${app} ${mailbox}` -> {window, count}
  #inFlight = new Map();  // mailbox -> count
  constructor(clock, options) {
    this.clock = clock;
    this.options = options;
    this.faults = new ScriptedFaults(options.seed, 'route');
  }

  setFaults(rules) {
    for (const r of Array.isArray(rules) ? rules : []) {
      if (!Number.isInteger(r?.status) || r.status < 400 || r.status > 599) throw new Error('a fault needs an HTTP status from 400 to 599');
      if (!FAULT_CODES[r.status] && typeof r.code !== 'string') throw new Error(`fault status ${r.status} needs a code`);
      if (r.rate !== undefined && !(typeof r.rate === 'number' && r.rate >= 0 && r.rate <= 1)) throw new Error('a fault rate is from 0 to 1');
      if (r.times !== undefined && !(Number.isInteger(r.times) && r.times >= 0)) throw new Error('fault times is a count');
      if (r.retryAfter !== undefined && !(typeof r.retryAfter === 'number' && r.retryAfter >= 0)) throw new Error('fault retryAfter is seconds');
    }
    this.faults.set(rules);
  }

  reseed(seed) { this.faults.reseed(seed); }

  #throttled(message) {
    const s = this.options.retryAfterSeconds;
    return new GraphError(429, 'TooManyRequests', message, { headers: s === null ? {} : { 'Retry-After': String(s) } });
  }

  /// Throws the GraphError this request meets; otherwise counts it in flight until release().
  /// `route` names the operation ("events.create", "delta", ...).
  admit(route, app, mailbox) {
    const rule = this.faults.hit(route);
    if (rule) {
      const retry = rule.retryAfter ?? (rule.status === 429 || rule.status === 503 ? this.options.retryAfterSeconds : null);
      throw new GraphError(rule.status, rule.code ?? FAULT_CODES[rule.status], rule.message ?? 'Injected fault.',
        { headers: retry === null || retry === undefined ? {} : { 'Retry-After': String(retry) } });
    }
    if (this.options.mailboxRequestsPer10Min !== null) {
      const key = `${app} ${mailbox}`;
      const window = Math.floor(this.clock.now() / 600000);
      const entry = this.#windows.get(key);
      const count = entry?.window === window ? entry.count + 1 : 1;
      this.#windows.set(key, { window, count });
      if (count > this.options.mailboxRequestsPer10Min) throw this.#throttled('Application is over its MailboxConcurrency limit or request limit for this mailbox.');
    }
    const busy = this.#inFlight.get(mailbox) ?? 0;
    if (busy >= this.options.maxConcurrentPerMailbox) throw this.#throttled('Application is over its MailboxConcurrency limit.');
    this.#inFlight.set(mailbox, busy + 1);
  }

  release(mailbox) {
    const busy = this.#inFlight.get(mailbox) ?? 0;
    if (busy <= 1) this.#inFlight.delete(mailbox); else this.#inFlight.set(mailbox, busy - 1);
  }
}
