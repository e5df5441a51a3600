// Microsoft Graph's error answers: one JSON shape for every API error (CONTRACT.md §2),
//   {"error": {"code", "message", "innerError": {"request-id", "date", "client-request-id"?}}}
// Clients branch on `code`, never on `message`.
import { randomUUID } from 'node:crypto';

/// An API error the handlers throw; the server turns it into Graph's JSON body.
export class GraphError extends Error {
  constructor(status, code, message, { headers } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers ?? {};
  }
  /// The JSON body; `requestId` is the one the answer's request-id header carries.
  body(nowMs = Date.now(), clientRequestId = undefined, requestId = randomUUID()) {
    const innerError = { 'request-id': requestId, date: new Date(nowMs).toISOString().slice(0, 19) };
    if (clientRequestId) innerError['client-request-id'] = clientRequestId;
    return { error: { code: this.code, message: this.message, innerError } };
  }
}

export const badRequest = (message, code = 'ErrorInvalidRequest') => new GraphError(400, code, message);
export const notFound = (message = 'The specified object was not found in the store.') => new GraphError(404, 'ErrorItemNotFound', message);
/// What the fake deliberately does not implement: a clear 501 so a test notices at once.
export const unsupported = (what) => new GraphError(501, 'NotImplemented', `The contract fake does not implement ${what}.`);

/// True when `body` has Graph's error shape (the fake checks its own answers against it).
export function errorShapeOk(body) {
  const e = body?.error;
  return !!e && typeof e.code === 'string' && typeof e.message === 'string' && typeof e.innerError?.['request-id'] === 'string';
}

/// One decoded path segment; 400 for a malformed %-escape (never a thrown URIError).
export function decoded(segment) {
  try { return decodeURIComponent(segment); } catch { throw badRequest(`The path segment '${String(segment).slice(0, 80)}' is not valid percent-encoding.`, 'BadRequest'); }
}
