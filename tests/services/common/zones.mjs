// Wall-clock time in IANA zones through Intl (Node's ICU), shared by the contract fakes:
// whether a zone exists, the wall time of an instant, the instant of a wall time. A "wall ms" is a
// wall time written as a UTC-shaped epoch value (Date.UTC of its fields).
const formatters = new Map();
function formatter(zone) {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit',
      day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(zone, f);
  }
  return f;
}

/// Whether `zone` is an IANA zone ICU knows.
export function zoneValid(zone) {
  if (typeof zone !== 'string' || zone === '') return false;
  try { formatter(zone); return true; } catch { return false; }
}

/// The wall time of instant `ms` in `zone`, as wall ms.
export function wallOf(ms, zone) {
  const p = Object.fromEntries(formatter(zone).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) + (ms % 1000 + 1000) % 1000;
}

/// The instant a wall time (wall ms) in `zone` names; in a DST gap the later offset applies.
export function instantOf(wallMs, zone) {
  let guess = wallMs - (wallOf(wallMs, zone) - wallMs);
  const again = wallMs - (wallOf(guess, zone) - guess);
  if (again !== guess) guess = Math.max(again, guess);
  return guess;
}

/// The wall ms of a date "yyyy-mm-dd", and the date of wall ms.
export const dateWall = (date) => Date.parse(`${date}T00:00:00Z`);
export const wallDate = (wallMs) => new Date(wallMs).toISOString().slice(0, 10);
