// The HTTP side of a contract fake's control interface: /__control/<operation> with the control
// bearer token (compared in constant time), routed through a table of [verb, pattern, op] where
// op(control, decodedMatch, jsonBody) returns the answer.
import { timingSafeEqual } from 'node:crypto';

function authorized(expected, header) {
  if (!expected || !header?.startsWith('Bearer ')) return false;
  const a = Buffer.from(header.slice(7));
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/// 401 without the control token, 404 for an unknown operation, 400 with {error} when the
/// operation refuses its input (`describe(e)` words the error).
export async function serveControlRoutes(routes, control, token, { method, path, headers, raw, res, send, describe }) {
  if (!authorized(token, headers.authorization)) return send(res, 401, {}, { error: 'control token required' });
  const rest = path.slice('/__control/'.length);
  for (const [verb, pattern, op] of routes) {
    const m = pattern.exec(rest);
    if (!m || verb !== method) continue;
    try {
      const decoded = m.map((x) => (x === undefined ? x : decodeURIComponent(x)));
      const body = raw ? JSON.parse(raw) : {};
      const out = await op(control, decoded, body);
      return send(res, 200, {}, out ?? {});
    } catch (e) {
      return send(res, 400, {}, { error: describe(e) });
    }
  }
  return send(res, 404, {}, { error: `no control operation ${method} ${rest}` });
}
