// An HTTPS server on 127.0.0.1 for the fakes' tests: it records what the fake delivers (push
// notifications, validation handshakes) and answers with what `receiver.answer(request)` returns
// ({status, contentType?, body?}) or `receiver.status`. Its certificate is made by openssl for
// 127.0.0.1 and returned as `receiver.ca` (the fakes' deliveryCa).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function httpsReceiver(path = '/webhooks') {
  const dir = mkdtempSync(join(tmpdir(), 'fake-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const receiver = { requests: [], status: 200, answer: null, ca: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const request = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() };
      receiver.requests.push(request);
      const a = receiver.answer ? await receiver.answer(request)
        : { status: typeof receiver.status === 'function' ? receiver.status() : receiver.status };
      if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
      res.writeHead(a.status, a.contentType ? { 'Content-Type': a.contentType } : {});
      res.end(a.body);
    });
  });
  rmSync(dir, { recursive: true });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `https://127.0.0.1:${server.address().port}${path}`;
  receiver.close = () => { server.closeAllConnections(); return new Promise((resolve) => server.close(resolve)); };
  return receiver;
}
