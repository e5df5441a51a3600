// Change-notification subscriptions (CONTRACT.md §2 "Subscriptions"): POST /subscriptions answers
// 201 only after the validation handshake succeeded on notificationUrl and lifecycleNotificationUrl
// (a POST with ?validationToken=..., text/plain; the receiver must answer 200 text/plain with the
// decoded token within options.validationTimeoutMs); HTTPS only; expirationDateTime at most
// options.maxSubscriptionMinutes ahead (4230 by default, the stricter of the two documented
// values); clientState at most 128 characters; lifecycleNotificationUrl only at creation. Renew by
// PATCH, DELETE, POST .../reauthorize. Every change of an event in a subscribed mailbox is POSTed
// as {"value": [changeNotification]} without resource data; a delivery not answered 2xx within 3 s
// is retried (options.deliveryRetries). Lifecycle events come from the control interface. Graph
// does not promise every notification: options.notificationDropRate of the change notifications
// are never sent (recorded as dropped), options.notificationRepeatRate are sent twice. forge()
// sends what an attacker would: a subscription's notification with a wrong clientState, or one
// naming a subscription that does not exist.
import { request } from 'node:https';
import { randomUUID } from 'node:crypto';
import { generator } from '../common/random.mjs';
import { badRequest, decoded, GraphError, notFound } from './errors.mjs';
import { checkBody } from './csdl.mjs';

const RESOURCE = /^\/?(me|users\/([^/]+))(?:\/calendars\/([^/]+))?\/events$/i;
const CHANGE_TYPES = ['created', 'updated', 'deleted'];

export class Subscriptions {
  subscriptions = new Map();  // id -> subscription
  deliveries = [];            // every delivery attempt's outcome, for inspection
  handshakes = [];            // every validation request's outcome
  #pending = new Set();

  constructor(state, options) {
    this.state = state;
    this.options = options;
    this.random = generator(options.seed + 29);
    state.listeners.push((calendar, event, changeType) => this.#changed(calendar, event, changeType));
  }

  #live(sub) { return sub && sub.expiresMs > this.state.clock.now(); }

  #expiration(value) {
    const ms = Date.parse(value ?? '');
    if (typeof value !== 'string' || Number.isNaN(ms)) throw badRequest('expirationDateTime is required (an ISO 8601 date and time).', 'InvalidRequest');
    const now = this.state.clock.now();
    if (ms <= now) throw badRequest('Subscription expiration must be in the future.', 'InvalidRequest');
    if (ms > now + this.options.maxSubscriptionMinutes * 60000) {
      throw badRequest(`Subscription expiration can only be ${this.options.maxSubscriptionMinutes} minutes in the future.`, 'InvalidRequest');
    }
    return ms;
  }

  async create(ctx) {
    const body = ctx.body ?? {};
    checkBody('subscription', body);
    for (const f of ['changeType', 'notificationUrl', 'resource', 'expirationDateTime']) {
      if (body[f] === undefined || body[f] === null) throw badRequest(`The property '${f}' is required.`, 'InvalidRequest');
    }
    const types = body.changeType.split(',');
    if (!types.length || types.some((t) => !CHANGE_TYPES.includes(t)) || new Set(types).size !== types.length) {
      throw badRequest(`changeType must be a comma list of ${CHANGE_TYPES.join(', ')}.`, 'InvalidRequest');
    }
    const m = RESOURCE.exec(body.resource);
    if (!m) throw badRequest(`The fake supports event subscriptions only (/me/events, /users/{id}/events), not '${body.resource}'.`, 'InvalidRequest');
    const owner = m[1].toLowerCase() === 'me' ? this.state.user(ctx.user) : this.state.user(decoded(m[2]));
    if (!owner || owner.email.toLowerCase() !== ctx.user) throw new GraphError(403, 'ExtensionError', 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied]');
    const calendarId = m[3] ? decoded(m[3]) : null;
    if (calendarId && this.state.calendars.get(calendarId)?.owner !== ctx.user) throw notFound('The specified calendar was not found.');
    if (body.includeResourceData === true) {
      // rich notifications need an encryption certificate, and live at most a day: not offered
      throw badRequest('includeResourceData needs an encryptionCertificate; the fake offers notifications without resource data only.', 'InvalidRequest');
    }
    if (body.clientState !== undefined && body.clientState !== null && body.clientState.length > 128) {
      throw badRequest('clientState may have at most 128 characters.', 'InvalidRequest');
    }
    for (const f of ['notificationUrl', 'lifecycleNotificationUrl']) {
      if (body[f] === undefined || body[f] === null) continue;
      let url;
      try { url = new URL(body[f]); } catch { throw badRequest(`${f} is not a URL.`, 'InvalidRequest'); }
      if (url.protocol !== 'https:') throw badRequest(`Subscription validation request failed. ${f} must be an HTTPS URL.`, 'InvalidRequest');
    }
    const expiresMs = this.#expiration(body.expirationDateTime);
    const mine = [...this.subscriptions.values()].filter((s) => this.#live(s) && s.mailbox === ctx.user);
    if (mine.length >= this.options.maxSubscriptionsPerMailbox) throw new GraphError(403, 'ExtensionError', 'The maximum number of subscriptions for this mailbox has been reached.');
    for (const f of ['notificationUrl', 'lifecycleNotificationUrl']) {
      if (body[f]) await this.#validate(body[f]);
    }
    const sub = { id: randomUUID(), resource: body.resource, changeType: body.changeType, clientState: body.clientState ?? null,
      notificationUrl: body.notificationUrl, lifecycleNotificationUrl: body.lifecycleNotificationUrl ?? null, expiresMs,
      mailbox: ctx.user, calendarId, applicationId: ctx.clientId, creatorId: owner.id,
      tenantId: owner.tenantId, userId: owner.id };
    this.subscriptions.set(sub.id, sub);
    return { status: 201, body: { '@odata.context': `${ctx.base}$metadata#subscriptions/$entity`, ...this.#represent(sub) } };
  }

  #represent(sub) {
    return { id: sub.id, resource: sub.resource, applicationId: sub.applicationId, changeType: sub.changeType, clientState: sub.clientState,
      notificationUrl: sub.notificationUrl, notificationQueryOptions: null, lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
      expirationDateTime: new Date(sub.expiresMs).toISOString(), creatorId: sub.creatorId, includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2', encryptionCertificate: null, encryptionCertificateId: null, notificationUrlAppId: null };
  }

  #mine(ctx) {
    const sub = this.subscriptions.get(ctx.params.subscriptionId);
    if (!this.#live(sub) || sub.mailbox !== ctx.user || sub.applicationId !== ctx.clientId) {
      throw new GraphError(404, 'ResourceNotFound', 'The object was not found.');
    }
    return sub;
  }

  get(ctx) { return { status: 200, body: this.#represent(this.#mine(ctx)) }; }

  async renew(ctx) {
    const sub = this.#mine(ctx);
    const body = ctx.body ?? {};
    checkBody('subscription', body);
    if ('lifecycleNotificationUrl' in body) throw badRequest('lifecycleNotificationUrl can only be set when the subscription is created.', 'InvalidRequest');
    const extra = Object.keys(body).filter((k) => k !== 'expirationDateTime' && k !== 'notificationUrl');
    if (extra.length) throw badRequest(`Only expirationDateTime and notificationUrl can change, not ${extra.join(', ')}.`, 'InvalidRequest');
    const expiresMs = body.expirationDateTime === undefined ? sub.expiresMs : this.#expiration(body.expirationDateTime);
    if (body.notificationUrl !== undefined) {
      // a new notification URL is validated like the first one
      let url;
      try { url = new URL(body.notificationUrl); } catch { throw badRequest('notificationUrl is not a URL.', 'InvalidRequest'); }
      if (url.protocol !== 'https:') throw badRequest('Subscription validation request failed. notificationUrl must be an HTTPS URL.', 'InvalidRequest');
      await this.#validate(body.notificationUrl);
      sub.notificationUrl = body.notificationUrl;
    }
    sub.expiresMs = expiresMs;
    return { status: 200, body: this.#represent(sub) };
  }

  remove(ctx) {
    const sub = this.#mine(ctx);
    this.subscriptions.delete(sub.id);
    return { status: 204, body: null };
  }

  reauthorize(ctx) {
    const sub = this.#mine(ctx);
    sub.needsReauthorization = false;
    return { status: 204, body: null };
  }

  /// The validation handshake: POST ?validationToken=..; answer must be 200 text/plain, the token.
  async #validate(address) {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const url = new URL(address);
    url.searchParams.append('validationToken', token);
    const outcome = await this.#post(url, '', 'text/plain; charset=utf-8', this.options.validationTimeoutMs);
    const ok = outcome.status === 200 && /^text\/plain\b/i.test(outcome.contentType ?? '') && outcome.body === token;
    this.handshakes.push({ url: address, status: outcome.status ?? null, ok, error: outcome.error });
    if (!ok) {
      throw badRequest(`Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request (got ${outcome.status ?? outcome.error}${outcome.status === 200 ? ', wrong body or Content-Type' : ''}).`, 'ValidationError');
    }
  }

  #post(url, text, contentType, timeoutMs) {
    return new Promise((resolve) => {
      const req = request(url, { method: 'POST', ca: this.options.deliveryCa, timeout: timeoutMs,
        headers: { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString() }));
      });
      req.on('timeout', () => { req.destroy(); resolve({ error: 'timeout' }); });
      req.on('error', (e) => resolve({ error: e.code ?? e.message }));
      req.end(text);
    });
  }

  #changed(calendar, event, changeType) {
    for (const sub of this.subscriptions.values()) {
      if (!this.#live(sub) || sub.mailbox !== calendar.owner || !sub.changeType.split(',').includes(changeType)) continue;
      if (sub.calendarId && sub.calendarId !== calendar.id) continue;
      const notification = this.#change(sub, changeType, `Users/${sub.userId}/Events/${event.id}`, event);
      if (this.random() < this.options.notificationDropRate) {
        this.deliveries.push({ subscriptionId: sub.id, url: sub.notificationUrl, attempt: 0, status: null, ok: false, dropped: true, notification });
        continue;
      }
      this.#deliver(sub, sub.notificationUrl, notification);
      if (this.random() < this.options.notificationRepeatRate) this.#deliver(sub, sub.notificationUrl, notification);
    }
  }

  #change(sub, changeType, resource, event) {
    return { subscriptionId: sub.id, subscriptionExpirationDateTime: new Date(sub.expiresMs).toISOString(), changeType, resource,
      resourceData: { '@odata.type': '#Microsoft.Graph.Event', '@odata.id': resource, '@odata.etag': `W/"${event.changeKey}"`, id: event.id },
      clientState: sub.clientState, tenantId: sub.tenantId };
  }

  /// A forged change notification to a subscription's notificationUrl, as anyone who learnt it
  /// could send: `kind` wrong_client_state | unknown_subscription. Resolves to the receiver's status.
  async forge(id, kind) {
    const sub = this.subscriptions.get(id);
    if (!sub) throw new Error(`no subscription ${id}`);
    const notification = this.#change(sub, 'updated', `Users/${sub.userId}/Events/forged`, { id: 'forged', changeKey: 'forged' });
    if (kind === 'wrong_client_state') notification.clientState = 'forged-client-state';
    else if (kind === 'unknown_subscription') notification.subscriptionId = randomUUID();
    else throw new Error(`unknown forgery ${kind}`);
    const outcome = await this.#post(new URL(sub.notificationUrl), JSON.stringify({ value: [notification] }), 'application/json; charset=utf-8',
      this.options.notificationTimeoutMs);
    this.deliveries.push({ subscriptionId: sub.id, url: sub.notificationUrl, attempt: 1, status: outcome.status ?? null, error: outcome.error,
      ok: false, forged: kind, notification });
    return { status: outcome.status ?? null, error: outcome.error ?? null };
  }

  /// A lifecycle event (reauthorizationRequired | subscriptionRemoved | missed) for `id`.
  lifecycle(id, lifecycleEvent) {
    const sub = this.subscriptions.get(id);
    if (!sub) throw new Error(`no subscription ${id}`);
    if (!['reauthorizationRequired', 'subscriptionRemoved', 'missed'].includes(lifecycleEvent)) throw new Error(`unknown lifecycle event ${lifecycleEvent}`);
    if (!sub.lifecycleNotificationUrl) throw new Error('the subscription has no lifecycleNotificationUrl');
    if (lifecycleEvent === 'subscriptionRemoved') this.subscriptions.delete(id);
    if (lifecycleEvent === 'reauthorizationRequired') sub.needsReauthorization = true;
    this.#deliver(sub, sub.lifecycleNotificationUrl, { subscriptionId: sub.id, subscriptionExpirationDateTime: new Date(sub.expiresMs).toISOString(),
      tenantId: sub.tenantId, clientState: sub.clientState, lifecycleEvent });
  }

  #deliver(sub, address, notification) {
    const text = JSON.stringify({ value: [notification] });
    const attempt = async () => {
      for (let i = 0; i <= this.options.deliveryRetries; i++) {
        const started = Date.now();
        const outcome = await this.#post(new URL(address), text, 'application/json; charset=utf-8', this.options.notificationTimeoutMs);
        const ok = outcome.status >= 200 && outcome.status < 300;
        this.deliveries.push({ subscriptionId: sub.id, url: address, attempt: i + 1, status: outcome.status ?? null, error: outcome.error,
          ok, elapsedMs: Date.now() - started, notification });
        if (ok) return;
        await new Promise((r) => setTimeout(r, this.options.deliveryBackoffMs * 2 ** i));
      }
    };
    const p = attempt().finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  async settle() { while (this.#pending.size) await Promise.allSettled([...this.#pending]); }

  snapshot() {
    return { subscriptions: [...this.subscriptions.values()].map((s) => ({ ...this.#represent(s), mailbox: s.mailbox, live: this.#live(s),
      needsReauthorization: !!s.needsReauthorization })), deliveries: this.deliveries, handshakes: this.handshakes };
  }
}
