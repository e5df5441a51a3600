// OAuth plumbing shared by the contract fakes' authorization servers: one RS256 signing key per
// process (JWKS and PEM forms), JWT signing, PKCE S256, constant-time secret comparison, the
// minimal HTML of consent pages.
import { createHash, createSign, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const kid = randomBytes(8).toString('hex');

export const random = (n = 32) => randomBytes(n).toString('base64url');
export const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function sameSecret(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

/// Whether `verifier` hashes (SHA-256, base64url) to the S256 `challenge` (RFC 7636 §4.6).
export const pkceMatches = (verifier, challenge) => createHash('sha256').update(verifier).digest('base64url') === challenge;

/// The left half of SHA-256 of an access token, base64url (OIDC Core at_hash for RS256).
export const atHash = (token) => createHash('sha256').update(token).digest().subarray(0, 16).toString('base64url');

/// A compact RS256 JWT of `payload` under the process key.
export function signJwt(payload) {
  const header = { alg: 'RS256', kid, typ: 'JWT' };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(privateKey).toString('base64url')}`;
}

export const jwks = () => ({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] });
/// The keys as {kid: PEM}, the form of Google's v1 certs endpoint.
export const pemKeys = () => ({ [kid]: publicKey.export({ format: 'pem', type: 'spki' }) });

export function withQuery(uri, params) {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export function page(title, content) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${content}</body></html>`;
}
