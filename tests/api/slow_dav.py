"""A CalDAV server that is slow on purpose: a loopback proxy in front of a real one (Radicale or
Xandikos) that answers discovery (PROPFIND, OPTIONS) at once and, while `drip` is on, drips every
REPORT answer (the listings feeds and previews read) one byte a second, as a hostile or overloaded
server would. `holding` counts the answers it is dripping right now."""

import http.client
import http.server
import threading
import time
import urllib.parse


class SlowDav:
    def __init__(self, upstream_base, drip_seconds=20):
        self.upstream = urllib.parse.urlsplit(upstream_base)
        self.drip = False
        self.drip_seconds = drip_seconds
        self.holding = 0
        self.dripped = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
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
                if self.command == "REPORT" and proxy.drip:
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

    def close(self):
        self.server.shutdown()
        self.server.server_close()
