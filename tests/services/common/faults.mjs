// Scripted faults of a contract fake: rules {<match key>?, status, times?, rate?, ...} that make the
// next `times` matching requests (default 1), or a `rate` share of them drawn from a seeded
// generator so a run repeats, fail. The fake words the failure; this only decides which rule hits.
import { generator } from './random.mjs';

export class ScriptedFaults {
  rules = [];
  #random;

  /// `key` names the rule field that restricts a rule to one operation ("method", "route").
  constructor(seed, key) {
    this.key = key;
    this.#random = generator(seed);
  }

  reseed(seed) { this.#random = generator(seed); }

  set(rules) {
    if (!Array.isArray(rules)) throw new Error('faults: a list of rules');
    this.rules = rules.map((r) => ({ ...r }));
  }

  /// A draw of the seeded generator in [0, 1) (for the fake's other seeded choices).
  random() { return this.#random(); }

  /// The rule operation `name` meets now (one of its `times` used up), or null.
  hit(name) {
    for (const rule of this.rules) {
      if (rule[this.key] && rule[this.key] !== name) continue;
      const hit = rule.rate !== undefined ? this.#random() < rule.rate : (rule.times ?? 1) > 0;
      if (!hit) continue;
      if (rule.rate === undefined) rule.times = (rule.times ?? 1) - 1;
      return rule;
    }
    return null;
  }
}
