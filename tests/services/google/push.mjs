// Push notifications (CONTRACT.md §1 "Push (watch)"): events.watch opens a channel on a calendar's
// events, channels.stop closes it. Deliveries are HTTPS POSTs without a body, with Google's
// X-Goog-* headers: first a "sync" message (number 1, by default before the watch answer returns),
// then "exists" on every change, message numbers increasing but not consecutive. 500/502/503/504
// are retried with backoff; anything else but 200/201/202/204/102 is a failed delivery. Channels
// expire (lifetime capped by options.maxChannelLifetimeMs) and are never renewed. Google says its
// notifications are not 100 % reliable: options.notificationDropRate of the "exists" messages are
// never sent (recorded as dropped), options.notificationRepeatRate are sent a second time (same
// message number). forge() sends what an attacker would: a channel's notification with a wrong
// token or resource id, or one for a channel that does not exist.
import { request } from 'node:https';
import { invalid, notFound, required, ApiError } from './errors.mjs';
import { base32hexId } from './state.mjs';
import { generator } from '../common/random.mjs';

const CHANNEL_ID = /^[A-Za-z0-9\-_+/=]{1,64}$/;
const SUCCESS = [102, 200, 201, 202, 204];
const RETRY = [500, 502, 503, 504];
const USER_AGENT = 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)';

export class Push {
  channels = new Map();    // id -> channel
  usedIds = new Set();     // ids ever used: a reused id is refused
  deliveries = [];         // every delivery attempt's outcome, for inspection
  #pending = new Set();

  constructor(state, options, rootUrl) {
    this.state = state;
    this.options = options;
    this.rootUrl = rootUrl;
    this.random = generator(options.seed + 29);
    state.listeners.push((calendar) => this.#changed(calendar));
  }

  async watch(ctx) {
    const body = ctx.body ?? {};
    if (!body.id) throw required('id', 'body');
    if (!CHANNEL_ID.test(body.id)) throw invalid('Invalid channel id: at most 64 characters of [A-Za-z0-9-_+/=].', 'id', 'body');
    if (this.usedIds.has(body.id)) throw new ApiError(400, 'channelIdNotUnique', `Channel id ${body.id} not unique`, { location: 'id', locationType: 'body' });
    if (body.type !== 'web_hook' && body.type !== 'webhook') throw invalid(`Invalid channel type: '${body.type ?? ''}'.`, 'type', 'body');
    if (!body.address) throw required('address', 'body');
    let address;
    try { address = new URL(body.address); } catch { throw invalid(`Invalid address: '${body.address}'.`, 'address', 'body'); }
    if (address.protocol !== 'https:') throw new ApiError(400, 'push.webhookUrlNotHttps', `WebHook callback must be HTTPS: ${body.address}`, { location: 'address', locationType: 'body' });
    if (body.token !== undefined && body.token.length > 256) throw invalid('The channel token may have at most 256 characters.', 'token', 'body');
    if (body.payload === true) throw invalid('Payloads are not supported for this resource.', 'payload', 'body');
    const now = this.state.clock.now();
    const requested = body.expiration !== undefined ? Number(body.expiration) : null;
    if (requested !== null && requested <= now) throw invalid('The expiration lies in the past.', 'expiration', 'body');
    const expiration = Math.min(requested ?? Infinity, now + this.options.maxChannelLifetimeMs);
    const calendar = ctx.calendar;
    const channel = { id: body.id, resourceId: calendar.resourceId, calendarId: calendar.id, user: ctx.user,
      clientId: ctx.clientId, address: body.address, token: body.token, expiration, number: 0, stopped: false,
      resourceUri: `${this.rootUrl}calendar/v3/calendars/${encodeURIComponent(calendar.id)}/events?alt=json` };
    this.usedIds.add(channel.id);
    this.channels.set(channel.id, channel);
    const sync = this.#deliver(channel, 'sync');
    if (this.options.syncBeforeWatchResponse) await sync;
    const out = { kind: 'api#channel', id: channel.id, resourceId: channel.resourceId, resourceUri: channel.resourceUri,
      expiration: String(expiration) };
    if (channel.token !== undefined) out.token = channel.token;
    return { status: 200, body: out };
  }

  stop(ctx) {
    const body = ctx.body ?? {};
    if (!body.id) throw required('id', 'body');
    if (!body.resourceId) throw required('resourceId', 'body');
    const channel = this.channels.get(body.id);
    // only the user and OAuth client that opened it may stop it; to anyone else it does not exist
    if (!channel || channel.stopped || channel.resourceId !== body.resourceId || channel.user !== ctx.user ||
        channel.clientId !== ctx.clientId) {
      throw notFound();
    }
    channel.stopped = true;
    return { status: 204, body: null };
  }

  /// Resolves when every delivery started so far has finished (tests wait on it).
  async settle() {
    while (this.#pending.size) await Promise.allSettled([...this.#pending]);
  }

  snapshot() {
    return { channels: [...this.channels.values()].map(({ token, ...c }) => ({ ...c, hasToken: token !== undefined })),
      deliveries: this.deliveries };
  }

  #changed(calendar) {
    for (const channel of this.channels.values()) {
      if (channel.calendarId === calendar.id && !channel.stopped && channel.expiration > this.state.clock.now()) {
        if (this.random() < this.options.notificationDropRate) {
          this.#advance(channel, 'exists');
          this.deliveries.push({ channelId: channel.id, number: channel.number, state: 'exists', attempts: 0, status: null, error: null, dropped: true });
          continue;
        }
        this.#deliver(channel, 'exists');
        if (this.random() < this.options.notificationRepeatRate) this.#deliver(channel, 'exists', { repeat: true });
      }
    }
  }

  /// A forged notification to a channel's address, as anyone who learnt it could send: `kind`
  /// wrong_token | wrong_resource | unknown_channel. Resolves to the receiver's status.
  async forge(channelId, kind) {
    const channel = this.channels.get(channelId);
    if (!channel) throw new Error(`no channel ${channelId}`);
    const headers = this.#headers(channel, 'exists');
    headers['X-Goog-Message-Number'] = String(channel.number + 1);
    if (kind === 'wrong_token') headers['X-Goog-Channel-Token'] = 'forged-token';
    else if (kind === 'wrong_resource') headers['X-Goog-Resource-ID'] = 'forged-resource';
    else if (kind === 'unknown_channel') headers['X-Goog-Channel-ID'] = `forged-${channel.id}`.slice(0, 64);
    else throw new Error(`unknown forgery ${kind}`);
    const record = { channelId: channel.id, number: null, state: 'exists', attempts: 1, status: null, error: null, forged: kind };
    this.deliveries.push(record);
    try { record.status = await post(channel.address, headers, this.options.deliveryCa); } catch (e) { record.error = e.message; }
    return { status: record.status, error: record.error };
  }

  #advance(channel, state) {
    channel.number = state === 'sync' ? 1 : channel.number + (this.options.messageNumberGaps ? 1 + Math.floor(Math.random() * 3) : 1);
  }

  #headers(channel, state) {
    const headers = {
      'User-Agent': USER_AGENT,
      'X-Goog-Channel-ID': channel.id,
      'X-Goog-Message-Number': String(channel.number),
      'X-Goog-Resource-ID': channel.resourceId,
      'X-Goog-Resource-State': state,
      'X-Goog-Resource-URI': channel.resourceUri,
      'X-Goog-Channel-Expiration': new Date(channel.expiration).toUTCString(),
      'Content-Length': '0',
    };
    if (channel.token !== undefined) headers['X-Goog-Channel-Token'] = channel.token;
    return headers;
  }

  /// A repeat is the same message (number) once more.
  #deliver(channel, state, { repeat = false } = {}) {
    if (!repeat) this.#advance(channel, state);
    const headers = this.#headers(channel, state);
    const record = { channelId: channel.id, number: channel.number, state, attempts: 0, status: null, error: null, repeat };
    this.deliveries.push(record);
    const run = this.#attempt(channel, headers, record, 0).finally(() => this.#pending.delete(run));
    this.#pending.add(run);
    return run;
  }

  async #attempt(channel, headers, record, attempt) {
    record.attempts = attempt + 1;
    try {
      record.status = await post(channel.address, headers, this.options.deliveryCa);
      record.error = null;
    } catch (e) {
      record.status = null;
      record.error = e.message;
    }
    if (SUCCESS.includes(record.status) || channel.stopped) return;  // a stopped channel is not retried
    if ((record.status === null || RETRY.includes(record.status)) && attempt < this.options.deliveryRetries) {
      await new Promise((r) => setTimeout(r, this.options.deliveryBackoffMs * 2 ** attempt));
      return this.#attempt(channel, headers, record, attempt + 1);
    }
  }
}

function post(address, headers, ca) {
  return new Promise((resolve, reject) => {
    const req = request(address, { method: 'POST', headers, ca, timeout: 10000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

