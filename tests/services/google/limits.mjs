// Usage limits and injected faults, checked before a request reaches its method:
//   - scripted faults: rules {method?, status, reason?, times?, rate?} - the next `times` matching
//     requests (or a `rate` share of them, from a seeded generator so a run repeats) fail;
//   - a per-user request rate (options.userRatePerMinute) -> 403 userRateLimitExceeded, or 429
//     rateLimitExceeded when options.rateLimitStatus is 429 (Google sends both);
//   - a daily quota per OAuth client (options.dailyQuota) -> 403 quotaExceeded.
// Google documents no Retry-After for Calendar: none is sent unless options.retryAfterSeconds.
// Requests of a batch count one each.
import { ApiError, sampleError } from './errors.mjs';
import { ScriptedFaults } from '../common/faults.mjs';

const FAULTS = {
  400: ['badRequest', 'Bad Request', 'global'],
  401: ['authError', 'Invalid Credentials', 'global'],
  403: ['rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits'],
  404: ['notFound', 'Not Found', 'global'],
  409: ['conflict', 'Conflict', 'global'],
  429: ['rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits'],
  500: ['backendError', 'Backend Error', 'global'],
  503: ['backendError', 'Service Unavailable', 'global'],
};

export class Limits {
  #perUser = new Map();   // user -> {window, count}
  #perClient = new Map(); // client -> {day, count}
  constructor(clock, options) {
    this.clock = clock;
    this.options = options;
    this.faults = new ScriptedFaults(options.seed, 'method');
  }

  setFaults(rules) {
    for (const r of rules ?? []) if (!FAULTS[r.status] && !r.reason) throw new Error(`fault status ${r.status} needs a reason`);
    this.faults.set(rules);
  }

  reseed(seed) { this.faults.reseed(seed); }

  /// Throws the ApiError this request meets, if any. `method` is the discovery id
  /// ("calendar.events.list").
  check(method, user, clientId) {
    const headers = this.options.retryAfterSeconds !== null ? { 'Retry-After': String(this.options.retryAfterSeconds) } : {};
    const rule = this.faults.hit(method);
    if (rule) {
      const [reason, message, domain] = FAULTS[rule.status] ?? [rule.reason, rule.message ?? rule.reason, 'global'];
      throw new ApiError(rule.status, rule.reason ?? reason, rule.message ?? message, { domain: rule.domain ?? domain, headers });
    }
    const now = this.clock.now();
    if (this.options.userRatePerMinute !== null) {
      const window = Math.floor(now / 60000);
      const entry = this.#perUser.get(user);
      const count = entry?.window === window ? entry.count + 1 : 1;
      this.#perUser.set(user, { window, count });
      if (count > this.options.userRatePerMinute) {
        throw this.options.rateLimitStatus === 429 ? sampleError(429, 'rateLimitExceeded', { headers })
          : sampleError(403, 'userRateLimitExceeded', { headers });
      }
    }
    if (this.options.dailyQuota !== null) {
      const day = Math.floor(now / 86400000);
      const entry = this.#perClient.get(clientId);
      const count = entry?.day === day ? entry.count + 1 : 1;
      this.#perClient.set(clientId, { day, count });
      if (count > this.options.dailyQuota) throw sampleError(403, 'quotaExceeded', { headers });
    }
  }
}
