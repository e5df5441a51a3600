"""A CalDAV server that misbehaves on purpose: a loopback proxy in front of a real one (Radicale or
Xandikos) that answers discovery (PROPFIND, OPTIONS) at once and, depending on `mode`, answers
REPORTs (the listings feeds, previews and pulls read) as a hostile or overloaded server would:
  "drip"    (or drip = True) every REPORT answer one byte a second; `holding` counts those in progress
  "huge"    a listing of `huge_bytes` (200 MiB), streamed
  "loop507" every sync-collection answer truncated (507) with the same token and nothing listed
  "gate"    every PUT waits for a permit: release(n) lets n through (a run's writes, step by step)
None forwards everything unchanged."""

import http.client
import http.server
import threading
import time
import urllib.parse


class SlowDav:
    def __init__(self, upstream_base, drip_seconds=20):
        self.upstream = urllib.parse.urlsplit(upstream_base)
        self.drip = False
        self.mode = None
        self.huge_bytes = 200 * 1024 * 1024
        self.drip_seconds = drip_seconds
        self.holding = 0
        self.dripped = 0
        self.permits = threading.Semaphore(0)
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.command == "PUT" and proxy.mode == "gate":
                    proxy.permits.acquire(timeout=120)
                if self.command == "REPORT" and proxy.mode == "huge":
                    return proxy._huge(self)
                if self.command == "REPORT" and proxy.mode == "loop507" and b"sync-collection" in body:
                    return proxy._loop507(self)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    r = conn.getresponse()
                    data = r.read()
                    status, reply_headers = r.status, r.getheaders()
                finally:
                    conn.close()
                self.send_response(status)
                for k, v in reply_headers:
                    if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "REPORT" and (proxy.drip or proxy.mode == "drip"):
                    proxy._drip(self.wfile, data)
                else:
                    self.wfile.write(data)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_OPTIONS = forward

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = "http://127.0.0.1:%d%s" % (self.server.server_address[1], self.upstream.path or "/")

    def release(self, n=1):
        """Lets `n` more PUTs through ("gate" mode)."""
        for _ in range(n):
            self.permits.release()

    def _drip(self, out, data):
        with self._lock:
            self.holding += 1
            self.dripped += 1
        try:
            sent = 0
            deadline = time.monotonic() + self.drip_seconds
            while time.monotonic() < deadline and sent < len(data) - 1:
                out.write(data[sent:sent + 1])
                out.flush()
                sent += 1
                time.sleep(1)
            out.write(data[sent:])
            out.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # calgate gave up on us
        finally:
            with self._lock:
                self.holding -= 1

    def _huge(self, handler):
        member = (b'<d:response><d:href>/h/%08d.ics</d:href><d:propstat><d:prop><d:getetag>"x"</d:getetag>'
                  b'</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>')
        head = b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">'
        handler.send_response(207)
        handler.send_header("Content-Type", "application/xml; charset=utf-8")
        handler.send_header("Content-Length", str(self.huge_bytes))
        handler.end_headers()
        sent = 0
        try:
            handler.wfile.write(head)
            sent += len(head)
            chunk = b"".join(member % i for i in range(1000))
            while sent + len(chunk) <= self.huge_bytes:
                handler.wfile.write(chunk)
                sent += len(chunk)
            handler.wfile.write(b" " * (self.huge_bytes - sent))
        except (BrokenPipeError, ConnectionResetError):
            pass  # calgate stopped reading: what this test wants
        handler.close_connection = True

    def _loop507(self, handler):
        path = handler.path
        body = ('<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:response><d:href>%s</d:href>'
                '<d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>'
                '<d:sync-token>http://example.com/sync/loop</d:sync-token></d:multistatus>' % path).encode()
        handler.send_response(207)
        handler.send_header("Content-Type", "application/xml; charset=utf-8")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
