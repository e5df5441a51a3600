// calendarView delta (CONTRACT.md §2 "calendarView delta"): the window is required on the first
// request and encoded, with everything else about the round, in opaque sealed tokens; the client
// replays @odata.nextLink / @odata.deltaLink verbatim (any added or changed parameter: 400). The
// server keeps the state behind a delta link (what the client has seen, by id and version), as
// Graph does, so forgetting it (control: expire) answers 410 Gone with a Location to start over,
// or a 400 syncStateNotFound / resyncRequired (options.expiredDeltaAnswer).
// A round's changes are fixed when it starts: a change made while the client pages shows in the
// next round. Items are full events; deletions and items that left the window are
// {"@odata.type", id, "@removed": {"reason": "deleted"}}. Switches make Graph's looseness visible:
// replays of unchanged items (replayRate), the same item twice in a round (duplicateRate), empty
// pages that still carry a nextLink (emptyPages), and a shuffled order (shuffle).
import { badRequest, GraphError } from './errors.mjs';
import { represent, responseZone, viewOf, windowOf } from './events.mjs';
import { seal, unseal } from '../common/seal.mjs';
import { generator } from '../common/random.mjs';

// the only parameters a delta request carries: the window (first request) or one token
const ALLOWED = ['startDateTime', 'endDateTime', '$skiptoken', '$deltatoken'];

function pageSizeOf(header, options) {
  const m = /odata\.maxpagesize=(\d+)/i.exec(header('prefer') ?? '');
  if (!m) return options.defaultPageSize;
  const n = Number(m[1]);
  return Math.max(1, Math.min(n, options.maxPageSize));
}

export class Delta {
  #random;
  rounds = new Map();  // round id -> {stateId, items: [...] fixed at the round's start}

  constructor(state, options) {
    this.state = state;
    this.options = options;
    this.#random = generator(options.seed + 7);
  }

  reseed(seed) { this.#random = generator(seed + 7); }

  /// GET <mailbox>[/calendars/{id}]/calendarView/delta
  handle(ctx) {
    const { query, calendar } = ctx;
    for (const k of Object.keys(query)) {
      // $select, $expand, $filter, $orderby, $search, $top, ... in any spelling, and anything unknown
      if (!ALLOWED.includes(k.toLowerCase() === '$skiptoken' ? '$skiptoken' : k.toLowerCase() === '$deltatoken' ? '$deltatoken' : k)) {
        throw badRequest(`The query option '${k}' is not supported with calendarView delta.`, 'ErrorInvalidUrlQuery');
      }
    }
    const tokenName = Object.keys(query).find((k) => ['$skiptoken', '$deltatoken'].includes(k.toLowerCase()));
    if (tokenName === undefined || (tokenName.toLowerCase() === '$deltatoken' && query[tokenName] === '')) {
      const extra = Object.keys(query).filter((k) => k !== tokenName && k !== 'startDateTime' && k !== 'endDateTime');
      if (extra.length) throw badRequest(`The query option '${extra[0]}' is not supported with calendarView delta.`, 'ErrorInvalidUrlQuery');
      return this.#begin(ctx, null);
    }
    const extra = Object.keys(query).filter((k) => k !== tokenName);
    if (extra.length) throw badRequest(`A delta link is used as given: '${extra.join("', '")}' may not be added to it.`, 'ErrorInvalidUrlQuery');
    const token = unseal(query[tokenName]);
    if (!token || token.calendarId !== calendar.id || token.user !== ctx.user) throw badRequest('The delta or skip token is not valid.', 'ErrorInvalidUrlQuery');
    if (tokenName.toLowerCase() === '$deltatoken') {
      if (token.kind !== 'delta') throw badRequest('The delta token is not valid.', 'ErrorInvalidUrlQuery');
      const syncState = this.state.syncStates.get(token.stateId);
      if (!syncState || this.#aged(syncState)) return this.#expired(ctx, token);
      return this.#begin(ctx, { syncState, stateId: token.stateId, window: token.window });
    }
    if (token.kind !== 'page') throw badRequest('The skip token is not valid.', 'ErrorInvalidUrlQuery');
    const round = this.rounds.get(token.roundId);
    if (!round || !this.state.syncStates.has(round.stateId)) return this.#expired(ctx, token);
    return this.#page(ctx, round, token.offset);
  }

  #aged(syncState) {
    return this.options.deltaTokenLifetimeMs !== null && this.state.clock.now() - syncState.createdMs > this.options.deltaTokenLifetimeMs;
  }

  #expired(ctx, token) {
    const restart = new URL(ctx.requestBase);
    restart.searchParams.set('startDateTime', new Date(token.window.fromMs).toISOString());
    restart.searchParams.set('endDateTime', new Date(token.window.toMs).toISOString());
    restart.searchParams.set('$deltatoken', '');
    if (this.options.expiredDeltaAnswer === '410') {
      throw new GraphError(410, 'syncStateNotFound', 'The sync state generation is not found; start a new round.', { headers: { Location: restart.toString() } });
    }
    throw new GraphError(400, this.options.expiredDeltaAnswer, 'The sync state is not valid; start a full resync.');
  }

  /// A new round: from nothing (initial) or from the state behind a delta link.
  #begin(ctx, from) {
    const window = from ? from.window : windowOf(ctx.query);
    const view = viewOf(this.state, ctx.calendar, window.fromMs, window.toMs);
    const known = from ? from.syncState.known : new Map();
    const items = [];
    const now = new Map(view.map((v) => [v.id, v]));
    for (const v of view) {
      const changed = known.get(v.id) !== v.version;
      if (changed || (from && this.#random() < this.options.replayRate)) items.push({ item: v });
    }
    for (const id of known.keys()) if (!now.has(id)) items.push({ removed: id });
    const extras = [];
    for (const entry of items) if (this.#random() < this.options.duplicateRate) extras.push(entry);
    items.push(...extras);
    if (this.options.shuffle) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(this.#random() * (i + 1));
        [items[i], items[j]] = [items[j], items[i]];
      }
    }
    const stateId = this.state.newSyncStateId();
    this.state.syncStates.set(stateId, { calendarId: ctx.calendar.id, user: ctx.user, window, createdMs: this.state.clock.now(),
      known: new Map(view.map((v) => [v.id, v.version])) });
    // [U] whether a delta link works twice: by default it does (a client that crashed before
    // storing the next link repeats the round); options.deltaLinkSingleUse makes it single-use
    if (from && this.options.deltaLinkSingleUse) this.state.syncStates.delete(from.stateId);
    const roundId = this.state.newSyncStateId();
    const round = { stateId, window, items };
    this.rounds.set(roundId, round);
    round.id = roundId;
    return this.#page(ctx, round, 0);
  }

  #page(ctx, round, offset) {
    const size = pageSizeOf(ctx.header, this.options);
    // an empty page that still carries a nextLink, now and then (Graph does this)
    const empty = this.options.emptyPages && offset < round.items.length && this.#random() < 0.34;
    const slice = empty ? [] : round.items.slice(offset, offset + size);
    const rz = responseZone(ctx.header);
    const value = slice.map((e) => (e.removed
      ? { '@odata.type': '#microsoft.graph.event', id: e.removed, '@removed': { reason: 'deleted' } }
      : represent(this.state, e.item, rz)));
    const next = offset + slice.length;
    const body = { '@odata.context': `${ctx.base}$metadata#Collection(event)`, value };
    const common = { calendarId: ctx.calendar.id, user: ctx.user, window: round.window };
    if (next < round.items.length || empty) {
      body['@odata.nextLink'] = `${ctx.requestBase}?$skiptoken=${seal({ ...common, kind: 'page', roundId: round.id, offset: next })}`;
    } else {
      body['@odata.deltaLink'] = `${ctx.requestBase}?$deltatoken=${seal({ ...common, kind: 'delta', stateId: round.stateId })}`;
      this.rounds.delete(round.id);
    }
    const applied = [];
    if (/odata\.maxpagesize=/i.test(ctx.header('prefer') ?? '')) applied.push(`odata.maxpagesize=${size}`);
    if (/outlook\.timezone=/i.test(ctx.header('prefer') ?? '')) applied.push(`outlook.timezone="${rz.label}"`);
    return { status: 200, body, headers: applied.length ? { 'Preference-Applied': applied.join(', ') } : {} };
  }
}
