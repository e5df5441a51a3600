// Batch requests (CONTRACT.md §1 "Batch"): POST /batch/calendar/v3 with a multipart/mixed body,
// each part `Content-Type: application/http` holding one HTTP request whose request line has a
// path only. The outer request's headers (Authorization) apply to every part unless the part sets
// its own. At most 1000 parts; each counts as one request for limits. The answer is multipart/mixed
// with one application/http part per request, in request order, each with
// `Content-ID: <response-ID>`; parts fail independently.
import { randomBytes } from 'node:crypto';
import { invalid } from './errors.mjs';

export const MAX_PARTS = 1000;

function boundaryOf(contentType) {
  const m = /^multipart\/mixed\s*;(?:.*;)?\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return m ? (m[1] ?? m[2]) : null;
}

function splitHead(text) {
  const sep = /\r?\n\r?\n/.exec(text);
  return sep ? [text.slice(0, sep.index), text.slice(sep.index + sep[0].length)] : [text, ''];
}

function headersOf(lines) {
  const out = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw invalid(`Malformed header in a batch part: '${line.slice(0, 40)}'.`, 'body', 'body');
    out[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return out;
}

/// The requests of a batch body: [{contentId, method, path, headers, body}]. 400 when the body is
/// not a well-formed batch.
export function parseBatch(contentType, body) {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw invalid('A batch request must be multipart/mixed with a boundary.', 'Content-Type', 'header');
  const chunks = body.split(`--${boundary}`);
  if (chunks.length < 3 || !/^--\s*$/.test(chunks.at(-1))) throw invalid('The batch body does not end with its closing boundary.', 'body', 'body');
  const parts = chunks.slice(1, -1);
  if (parts.length > MAX_PARTS) throw invalid(`A batch may hold at most ${MAX_PARTS} requests.`, 'body', 'body');
  return parts.map((raw) => {
    const [partHead, inner] = splitHead(raw.replace(/^\r?\n/, ''));
    const partHeaders = headersOf(partHead.split(/\r?\n/).filter(Boolean));
    if (!/^application\/http\b/i.test(partHeaders['content-type'] ?? '')) throw invalid('Every batch part must be application/http.', 'Content-Type', 'body');
    const [innerHead, innerBody] = splitHead(inner);
    const [requestLine, ...headerLines] = innerHead.split(/\r?\n/);
    const m = /^(GET|POST|PUT|PATCH|DELETE) (\/\S*)(?: HTTP\/1\.1)?$/.exec(requestLine.trim());
    if (!m) throw invalid(`Malformed request line in a batch part: '${requestLine.slice(0, 60)}'.`, 'body', 'body');
    return { contentId: partHeaders['content-id'] ?? null, method: m[1], path: m[2], headers: headersOf(headerLines.filter(Boolean)),
      body: innerBody.replace(/\r?\n$/, '') };
  });
}

/// The multipart answer for [{contentId, status, headers, body}].
export function formatBatch(responses) {
  const boundary = `batch_${randomBytes(12).toString('base64url')}`;
  let out = '';
  for (const r of responses) {
    out += `--${boundary}\r\nContent-Type: application/http\r\n`;
    if (r.contentId) out += `Content-ID: <response-${r.contentId.replace(/^<|>$/g, '')}>\r\n`;
    out += `\r\nHTTP/1.1 ${r.status} ${r.reason}\r\n`;
    for (const [k, v] of Object.entries(r.headers)) out += `${k}: ${v}\r\n`;
    out += `\r\n${r.body ?? ''}\r\n`;
  }
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: `${out}--${boundary}--\r\n` };
}

