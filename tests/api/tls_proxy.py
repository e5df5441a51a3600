"""A TLS-terminating reverse proxy in front of calgate, as operators run it (docs/operations.md):
Debian's nginx with a certificate for 127.0.0.1 from a test CA made here by openssl, proxying to
calgate's plain-HTTP port on loopback. Google and Microsoft deliver push notifications only to
https, so the push tests reach calgate through it. Stdlib only."""

import os
import shutil
import subprocess
import tempfile
import time

import calgate_api as cg

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class TlsProxy:
    """https://127.0.0.1:<port>/ -> http://127.0.0.1:<upstream>/, or to several upstreams in turn
    (nginx's round robin, as a load balancer in front of several calgate processes). `ca_file` is
    the test CA a client must trust (the fakes' deliveryCa)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cg-tls-")
        os.chmod(self.dir, 0o755)  # nginx workers (nobody when started as root) read their temp dirs here
        self.port = cg.free_port()
        self.url = "https://127.0.0.1:%d" % self.port
        self.ca_file = os.path.join(self.dir, "ca.pem")
        self.proc = None
        d = self.dir
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                 "-subj", "/CN=calgate test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                 "-subj", "/CN=127.0.0.1", cwd=d)
        with open(os.path.join(d, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
        _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
        with open(self.ca_file) as f:
            self.ca_pem = f.read()

    def start(self, upstream_ports, timeout=10):
        d = self.dir
        ports = upstream_ports if isinstance(upstream_ports, (list, tuple)) else [upstream_ports]
        servers = "".join("    server 127.0.0.1:%d;\n" % p for p in ports)
        temp = os.path.join(d, "temp")
        os.makedirs(temp, mode=0o777, exist_ok=True)
        os.chmod(temp, 0o777)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path %(t)s/body;
  proxy_temp_path %(t)s/proxy;
  fastcgi_temp_path %(t)s/fastcgi;
  uwsgi_temp_path %(t)s/uwsgi;
  scgi_temp_path %(t)s/scgi;
  client_max_body_size 2m;
  upstream calgate {
%(servers)s  }
  server {
    listen 127.0.0.1:%(port)d ssl;
    ssl_certificate %(d)s/server.pem;
    ssl_certificate_key %(d)s/server.key;
    location / {
      proxy_pass http://calgate;
      proxy_http_version 1.1;
      proxy_set_header Host $host:$server_port;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      proxy_read_timeout 60s;
    }
  }
}
""" % {"d": d, "t": temp, "port": self.port, "servers": servers})
        self.proc = subprocess.Popen([NGINX, "-e", os.path.join(d, "error.log"), "-c", conf, "-p", d, "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        import socket
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: %s %s" % (self.proc.stderr.read().decode(), self.error_log()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not listen on %d: %s" % (self.port, self.error_log()))

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stderr.close()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
