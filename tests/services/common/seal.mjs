// Opaque tokens for the contract fakes (page, sync and delta tokens): base64url JSON sealed with an
// HMAC of the process's secret, so a token that was edited, truncated or made up is refused, never
// read as "start over".
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const secret = randomBytes(32);

export function seal(payload) {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22);
  return `${body}.${mac}`;
}

/// The payload of a token this process sealed; null for anything else.
export function unseal(token) {
  if (typeof token !== 'string') return null;
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return null;
  const body = token.slice(0, dot);
  const mac = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('base64url').slice(0, 22));
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
  try { return JSON.parse(Buffer.from(body, 'base64url').toString()); } catch { return null; }
}
