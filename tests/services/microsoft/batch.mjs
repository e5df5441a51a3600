// JSON batching (CONTRACT.md §2): POST /v1.0/$batch {"requests": [{id, method, url, headers?, body?,
// dependsOn?}]}: at most 20 requests, unique ids, a body only with a Content-Type header, urls
// relative to the version root. Answers 200 {"responses": [{id, status, headers, body}]} in an
// order of its own (options.shuffle); each request meets throttling on its own; a request whose
// dependency failed answers 424. [U] Outlook runs at most options.batchParallelism (4) requests of
// a batch at a time.
import { badRequest, GraphError } from './errors.mjs';

const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'];

/// Checks the batch envelope (400 for the whole batch) and returns its requests.
export function parseBatch(body) {
  if (!body || !Array.isArray(body.requests)) throw badRequest('The batch body needs a "requests" array.', 'BadRequest');
  if (body.requests.length === 0) throw badRequest('A batch needs at least one request.', 'BadRequest');
  if (body.requests.length > 20) throw badRequest('The number of batch requests exceeds the limit of 20.', 'BadRequest');
  const ids = new Set();
  for (const r of body.requests) {
    if (typeof r?.id !== 'string' || r.id === '') throw badRequest('Every batch request needs a string id.', 'BadRequest');
    if (ids.has(r.id)) throw badRequest(`Batch request ids must be unique: '${r.id}' repeats.`, 'BadRequest');
    ids.add(r.id);
    if (typeof r.method !== 'string' || !METHODS.includes(r.method.toUpperCase())) throw badRequest(`Batch request ${r.id}: invalid method '${r.method}'.`, 'BadRequest');
    if (typeof r.url !== 'string' || /^[a-z]+:\/\//i.test(r.url)) throw badRequest(`Batch request ${r.id}: the url must be relative.`, 'BadRequest');
    if (r.headers !== undefined && (typeof r.headers !== 'object' || r.headers === null)) throw badRequest(`Batch request ${r.id}: headers must be an object.`, 'BadRequest');
    if (r.dependsOn !== undefined && (!Array.isArray(r.dependsOn) || r.dependsOn.some((d) => !ids.has(d) || d === r.id))) {
      throw badRequest(`Batch request ${r.id}: dependsOn must name earlier requests of the batch.`, 'BadRequest');
    }
    const contentType = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
    if (r.body !== undefined && !contentType) throw badRequest(`Batch request ${r.id}: a body requires a Content-Type header.`, 'BadRequest');
  }
  return body.requests;
}

/// Runs `requests` through `call(method, path, headers, rawBody)`; returns the responses array.
export async function runBatch(requests, call, { parallelism, shuffle, random, contentType }) {
  const results = new Map();
  const queue = [...requests];
  const running = new Set();
  const start = (r) => {
    const p = (async () => {
      const failed = (r.dependsOn ?? []).find((d) => { const s = results.get(d)?.status; return !(s >= 200 && s < 300); });
      if (failed !== undefined) {
        const body = new GraphError(424, 'FailedDependency', `The request it depends on (${failed}) failed.`).body();
        results.set(r.id, { id: r.id, status: 424, headers: { 'Content-Type': contentType }, body });
        return;
      }
      const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      const raw = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      const out = await call(r.method.toUpperCase(), `/v1.0/${r.url.replace(/^\//, '')}`, headers, raw);
      // like Graph, an answer with a body says its Content-Type (clients decode by it)
      const h = { ...(out.headers ?? {}), ...(out.body === null ? {} : { 'Content-Type': contentType }) };
      results.set(r.id, { id: r.id, status: out.status, headers: h, ...(out.body === null ? {} : { body: out.body }) });
    })().finally(() => running.delete(p));
    running.add(p);
  };
  while (queue.length || running.size) {
    // a request waits until what it depends on has answered
    const ready = queue.findIndex((r) => (r.dependsOn ?? []).every((d) => results.has(d)));
    if (ready >= 0 && running.size < parallelism) { start(queue.splice(ready, 1)[0]); continue; }
    if (!running.size) throw new Error('a batch request waits for one that never runs');  // parseBatch refuses such batches
    await Promise.race(running);
  }
  const out = requests.map((r) => results.get(r.id));
  if (shuffle) {
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
  }
  return out;
}
