"""The contract fakes (tests/services/<name>/main.mjs: Google, Microsoft Graph) for the API suite: one
fake process per test class on a free loopback port, its control interface, and a browser that
goes through calgate's start page, the fake's consent page and back to calgate's callback.
Stdlib only."""

import json
import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import calgate_api as cg


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(method, url, body=None, headers=None):
    """(status, headers, text) without following redirects."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with OPENER.open(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class ContractFake:
    def __init__(self, name, *options, port=0):
        args = ["/usr/bin/node", os.path.join(cg.SOURCE_DIR, "tests", "services", name, "main.mjs"), "--port", str(port)]
        for o in options:
            args += ["--option", o]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("the %s fake did not start: %s" % (name, self.proc.stderr.read().decode()))
        started = json.loads(line)
        self.url = started["url"]
        self.issuer = self.url.rstrip("/")
        self.token = started["controlToken"]

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        status, _, text = fetch(method, self.url + "__control/" + path, data,
                                {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        if status != 200:
            raise AssertionError("control %s %s: %s %s" % (method, path, status, text))
        return json.loads(text)

    def calendar_path(self, calendar_id):
        return "calendars/" + urllib.parse.quote(calendar_id, safe="")

    def events(self, calendar_id):
        for c in self.control("GET", "state")["calendars"]:
            if c["id"] == calendar_id:
                return c["events"]
        raise AssertionError("no calendar " + calendar_id)

    def violations(self):
        return self.control("GET", "state")["violations"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


def connect(api, provider, public_url, account, decision="allow"):
    """Connects an account as a person would: calgate's start link and button, the fake's consent
    page, the redirect back to calgate's callback. Returns (status, page) of the callback."""
    r = api.post("/v1/accounts/oauth/" + provider, {})
    assert r.status == 200, r
    return follow(r.json["authorization_url"], public_url, account, decision)


def follow(start, public_url, account, decision="allow"):
    """A browser opening a start link (from the API or calgate-admin) and signing in at the fake."""
    status, headers, page = fetch("GET", start)
    assert status == 200, (status, page)
    status, headers, _ = fetch("POST", start, b"", {"Origin": public_url, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, (status, headers)
    cookie = headers["Set-Cookie"].split(";")[0]
    provider_url = headers["Location"]
    status, _, consent = fetch("GET", provider_url)
    assert status == 200, (status, consent)
    request_id = consent.split('name="request" value="')[1].split('"')[0]
    decision_url = urllib.parse.urljoin(provider_url, re.search(r'<form method="post" action="([^"]+)"', consent).group(1))
    form = urllib.parse.urlencode({"request": request_id, "account": account, "decision": decision}).encode()
    status, headers, _ = fetch("POST", decision_url, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302, status
    callback = headers["Location"]
    assert callback.startswith(public_url + "/oauth/callback"), callback
    status, _, page = fetch("GET", callback, None, {"Cookie": cookie})
    return status, page


def start_gateway(cls, fake, client_id, client_secret, env, name):
    """For a test class: registers calgate as `client_id` at `fake` (redirect URI on a free port),
    writes the client secret to a 0600 file, starts calgate with `env(fake, secret_file,
    public_url, port)`, and a Radicale for the CalDAV side. Sets cls.public_url, cls.server, cls.dav."""
    import stat
    import tempfile
    port = cg.free_port()
    cls.public_url = "http://127.0.0.1:%d" % port
    fake.control("POST", "clients", {"clientId": client_id, "clientSecret": client_secret,
                                     "redirectUris": [cls.public_url + "/oauth/callback"]})
    directory = tempfile.mkdtemp(prefix="cg-%s-" % name)
    secret_file = os.path.join(directory, "client-secret")
    with open(secret_file, "w") as f:
        f.write(client_secret + "\n")
    os.chmod(secret_file, stat.S_IRUSR | stat.S_IWUSR)
    cls.server = cg.Calgate(env(fake, secret_file, cls.public_url, port), name=name).start()
    cls.addClassCleanup(cls.server.cleanup)
    cls.dav = cg.caldav_server("radicale")


def wait_synced(api, pair_id):
    """Asks for a sync of the pair and waits for its status to show a successful one with no run
    queued or running: the request may have queued a second run behind one under way (the pair's
    first), and a test that changes a calendar next must not race that run's listing."""
    api.post("/v1/pairs/%s/sync" % pair_id)
    return cg.wait_until(lambda: (lambda s: s if s["last_success_at"] and not s["job"]["queued"]
                                  and not s["job"]["running"] else None)(
        api.get("/v1/pairs/%s/status" % pair_id).json), timeout=60, what="a successful sync, then no run")
