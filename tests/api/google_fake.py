"""The Google Calendar contract fake (tests/services/google/main.mjs) for the API suite: one fake
process per test class on a free loopback port, its control interface, and a browser that goes
through calgate's start page, the fake's consent page and back to calgate's callback.
Stdlib only."""

import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import calgate_api as cg

MAIN = os.path.join(cg.SOURCE_DIR, "tests", "services", "google", "main.mjs")
CLIENT_ID = "calgate-api-test.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-api-test-secret"


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


class GoogleFake:
    def __init__(self, *options):
        args = ["/usr/bin/node", MAIN, "--port", "0"]
        for o in options:
            args += ["--option", o]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode()
        if not line:
            raise RuntimeError("the Google fake did not start: " + self.proc.stderr.read().decode())
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


def calgate_env(fake, secret_file, public_url, port):
    return {
        "CALGATE_GOOGLE_CLIENT_ID": CLIENT_ID,
        "CALGATE_GOOGLE_CLIENT_SECRET_FILE": secret_file,
        "CALGATE_GOOGLE_ISSUER": fake.issuer,
        "CALGATE_GOOGLE_API_ROOT": fake.url,
        "CALGATE_GOOGLE_ALLOW_INSECURE_LOOPBACK": "true",
        "CALGATE_SERVER_PUBLIC_URL": public_url,
        "CALGATE_SERVER_PORT": str(port),
    }


def connect(api, public_url, account, decision="allow"):
    """Connects a Google account as a person would: calgate's start link and button, the fake's
    consent page, the redirect back to calgate's callback. Returns (status, page) of the callback."""
    r = api.post("/v1/accounts/oauth/google", {})
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
    decision_url = urllib.parse.urljoin(provider_url, "/o/oauth2/v2/auth/decision")
    form = urllib.parse.urlencode({"request": request_id, "account": account, "decision": decision}).encode()
    status, headers, _ = fetch("POST", decision_url, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302, status
    callback = headers["Location"]
    assert callback.startswith(public_url + "/oauth/callback"), callback
    status, _, page = fetch("GET", callback, None, {"Cookie": cookie})
    return status, page
