// HTTP plumbing shared by the contract fakes.
/// The request body as text; rejects with {tooLarge} beyond `limit` bytes (read to the end, kept
/// nothing, so the 413 reaches the client).
export function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= limit) chunks.push(c);  // beyond the limit: read to the end, keep nothing, answer 413
    });
    req.on('end', () => (size > limit ? reject(Object.assign(new Error('too large'), { tooLarge: true }))
      : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/// Writes a response: a JSON body (object) or text, no body for 204/304.
export function send(res, status, headers, body, contentType = 'application/json; charset=UTF-8') {
  const text = body === null || body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const h = { ...headers };
  if (text !== '') h['Content-Type'] = contentType;
  res.writeHead(status, h);
  res.end(status === 304 || status === 204 ? undefined : text);
}
