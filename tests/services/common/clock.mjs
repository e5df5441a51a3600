// A contract fake's clock: real time by default; tests freeze it and move it (rate windows, token,
// channel and subscription expiry) through the fake's control interface.
export class Clock {
  #frozenAt = null;
  #offset = 0;
  now() { return this.#frozenAt ?? Date.now() + this.#offset; }
  /// Throws (the control interface answers 400) for a time that is not a finite number of ms or a
  /// parseable date, an advance that is not a finite number, or a `frozen` that is not a boolean.
  set({ now, advanceMs, frozen }) {
    const ms = now === undefined ? undefined : typeof now === 'number' ? now : typeof now === 'string' ? Date.parse(now) : NaN;
    if (now !== undefined && !Number.isFinite(ms)) throw new Error(`clock: now must be ms since 1970 or a date, not ${JSON.stringify(now)}`);
    if (advanceMs !== undefined && (typeof advanceMs !== 'number' || !Number.isFinite(advanceMs))) throw new Error('clock: advanceMs must be a number');
    if (frozen !== undefined && typeof frozen !== 'boolean') throw new Error('clock: frozen must be true or false');
    if (now !== undefined) {
      if (this.#frozenAt !== null || frozen) this.#frozenAt = ms; else this.#offset = ms - Date.now();
    }
    if (advanceMs !== undefined) {
      if (this.#frozenAt !== null) this.#frozenAt += advanceMs; else this.#offset += advanceMs;
    }
    if (frozen === true && this.#frozenAt === null) this.#frozenAt = this.now();
    if (frozen === false && this.#frozenAt !== null) { this.#offset = this.#frozenAt - Date.now(); this.#frozenAt = null; }
  }
}
