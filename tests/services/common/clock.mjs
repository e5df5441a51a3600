// A contract fake's clock: real time by default; tests freeze it and move it (rate windows, token,
// channel and subscription expiry) through the fake's control interface.
export class Clock {
  #frozenAt = null;
  #offset = 0;
  now() { return this.#frozenAt ?? Date.now() + this.#offset; }
  set({ now, advanceMs, frozen }) {
    if (now !== undefined) {
      const ms = typeof now === 'number' ? now : Date.parse(now);
      if (this.#frozenAt !== null || frozen) this.#frozenAt = ms; else this.#offset = ms - Date.now();
    }
    if (advanceMs !== undefined) {
      if (this.#frozenAt !== null) this.#frozenAt += advanceMs; else this.#offset += advanceMs;
    }
    if (frozen === true && this.#frozenAt === null) this.#frozenAt = this.now();
    if (frozen === false && this.#frozenAt !== null) { this.#offset = this.#frozenAt - Date.now(); this.#frozenAt = null; }
  }
}
