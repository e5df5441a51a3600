"""Helpers for the REST API tests: run `calgate serve`, make users with calgate-admin, talk HTTP with
every JSON answer checked against schemas/openapi.yaml, edit CalDAV servers directly, look into the
SQLite database.

Stdlib + Debian's python3-yaml and python3-jsonschema only. Run with /usr/bin/python3.
"""

import base64
import datetime
import hashlib
import http.client
import html.parser
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CALGATE_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
CALGATE = os.environ.get("CALGATE_BINARY") or os.path.join(SOURCE_DIR, "build", "dev", "gateway", "calgate")
CALGATE_ADMIN = os.environ.get("CALGATE_ADMIN_BINARY") or os.path.join(
    SOURCE_DIR, "build", "dev", "admin-cli", "calgate-admin")
SPEC_PATH = os.environ.get("CG_TEST_OPENAPI") or os.path.join(SOURCE_DIR, "schemas", "openapi.yaml")

PROBLEM_PREFIX = "urn:calgate:problem:"
ID_RE = {k: re.compile("^%s_[a-z2-7]{26}$" % k) for k in ("usr", "tok", "acc", "cal", "par", "fed")}


class SpecMismatch(AssertionError):
    """A response that openapi.yaml does not describe."""


# --------------------------------------------------------------------------------------------------
# The OpenAPI document

class Spec:
    METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

    def __init__(self, path=SPEC_PATH):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver(base_uri="", referrer=self.doc)
        self._paths = []
        for template in self.doc["paths"]:
            regex = "^" + re.sub(r"\\\{[^/]+?\\\}", "([^/]+)", re.escape(template)) + "$"
            self._paths.append((template.count("{"), template, re.compile(regex)))
        self._paths.sort(key=lambda t: t[0])  # literal paths win over templated ones

    def deref(self, node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), ref
            node = self.doc
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
            assert seen < 20, "ref loop"
        return node

    def operations(self):
        """[(METHOD, template, operation)] for every operation in the document."""
        out = []
        for template, item in self.doc["paths"].items():
            for method in self.METHODS:
                if method in item:
                    out.append((method.upper(), template, item[method]))
        return out

    def is_authenticated(self, operation):
        security = operation.get("security", self.doc.get("security", []))
        return any("bearer" in req for req in security)

    def find(self, method, path):
        """The template and operation for a concrete request path (no query), or (None, None)."""
        for _, template, regex in self._paths:
            if regex.match(path):
                op = self.doc["paths"][template].get(method.lower())
                return template, op
        return None, None

    def response(self, operation, status):
        responses = operation.get("responses", {})
        r = responses.get(str(status))
        if r is None:
            r = responses.get("%dXX" % (status // 100))
        return None if r is None else self.deref(r)

    def validate(self, schema, instance, where):
        validator = jsonschema.Draft202012Validator(schema, resolver=self.resolver)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            lines = []
            for e in errors[:10]:
                lines.append("  at %s: %s" % ("/".join(str(p) for p in e.absolute_path) or "<root>",
                                             e.message[:400]))
            raise SpecMismatch("%s: the body does not match openapi.yaml:\n%s\nbody: %s" % (
                where, "\n".join(lines), json.dumps(instance)[:2000]))

    def schema(self, name):
        return {"$ref": "#/components/schemas/" + name}


_SPEC = None


def spec():
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec()
    return _SPEC


# --------------------------------------------------------------------------------------------------
# HTTP

class Tags(html.parser.HTMLParser):
    """Every start tag of a page with its attributes (to find scripts, external resources, forms)."""

    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(text):
    """[(tag, {attr: value})] of an HTML text."""
    p = Tags()
    p.feed(text)
    return p.tags


class Response:
    def __init__(self, method, path, status, headers, body):
        self.method = method
        self.path = path
        self.status = status
        self.headers = headers  # lower-cased name -> value (last one wins)
        self.body = body        # bytes
        self._json = None

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def json(self):
        if self._json is None:
            self._json = json.loads(self.body.decode("utf-8"))
        return self._json

    @property
    def problem_type(self):
        if self.content_type != "application/problem+json":
            return None
        t = self.json.get("type", "")
        return t[len(PROBLEM_PREFIX):] if t.startswith(PROBLEM_PREFIX) else t

    def headers_all(self, name):
        """Every value of a header that may repeat (Set-Cookie)."""
        return [v for k, v in getattr(self, "header_list", []) if k == name.lower()]

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return "<%s %s -> %d %s %s>" % (self.method, self.path, self.status, self.content_type, self.text[:500])


class Client:
    """HTTP/1.1 client for one calgate. Every answer is checked against openapi.yaml unless
    validate=False: the status must be documented for the operation, the body must match the
    documented schema of its content type, 204 has no body, X-Request-Id is always present."""

    def __init__(self, port, token=None, host="127.0.0.1"):
        self.host = host
        self.port = port
        self.token = token

    def with_token(self, token):
        return Client(self.port, token, self.host)

    def request(self, method, path, body=None, *, json_body=None, headers=None, token=Ellipsis,
                content_type=None, validate=True, query=None):
        hdrs = {}
        tok = self.token if token is Ellipsis else token
        if tok is not None:
            hdrs["Authorization"] = "Bearer " + tok
        if json_body is not None:
            body = json.dumps(json_body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type is not None:
            hdrs["Content-Type"] = content_type
        if headers:
            hdrs.update(headers)
        full = path
        if query:
            full += "?" + urllib.parse.urlencode(query)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, full, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            headers_out = {k.lower(): v for k, v in r.getheaders()}
            resp = Response(method, full, r.status, headers_out, data)
            resp.header_list = [(k.lower(), v) for k, v in r.getheaders()]
        finally:
            conn.close()
        if validate:
            check_response(resp, path)
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request("PATCH", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def check_response(resp, path):
    """Raises SpecMismatch unless `resp` is what openapi.yaml documents for its request."""
    s = spec()
    where = "%s %s -> %d" % (resp.method, resp.path, resp.status)
    if not resp.header("x-request-id"):
        raise SpecMismatch("%s: no X-Request-Id header" % where)
    template, op = s.find(resp.method, path)
    if op is None:
        # Not an operation of the document: only the generic router answers are acceptable.
        if resp.status in (404, 405) and resp.content_type == "application/problem+json":
            s.validate(s.schema("Problem"), resp.json, where)
            return
        raise SpecMismatch("%s: no such operation in openapi.yaml (%s)" % (where, resp))
    documented = s.response(op, resp.status)
    if documented is None:
        raise SpecMismatch("%s: status %d is not documented for %s %s; body: %s" % (
            where, resp.status, resp.method, template, resp.text[:1000]))
    content = documented.get("content")
    if not content:
        if resp.body:
            raise SpecMismatch("%s: documented without a body, got %r" % (where, resp.body[:300]))
        return
    if resp.content_type not in content:
        raise SpecMismatch("%s: content type %r not documented (%s); body %s" % (
            where, resp.content_type, ", ".join(content), resp.text[:500]))
    media = content[resp.content_type]
    for name, h in (documented.get("headers") or {}).items():
        h = s.deref(h)
        value = resp.header(name)
        sch = h.get("schema", {})
        if value is not None and "const" in sch and value != sch["const"]:
            raise SpecMismatch("%s: header %s is %r, documented %r" % (where, name, value, sch["const"]))
        if value is not None and sch.get("type") == "integer" and not re.match(r"^\d+$", value):
            raise SpecMismatch("%s: header %s is %r, documented as an integer" % (where, name, value))
    if resp.content_type.endswith("json"):
        try:
            body = resp.json
        except ValueError as e:
            raise SpecMismatch("%s: body is not JSON (%s): %r" % (where, e, resp.body[:300]))
        if "schema" in media:
            s.validate(media["schema"], body, where)
        if resp.content_type == "application/problem+json" and body.get("status") != resp.status:
            raise SpecMismatch("%s: problem status %r differs from the HTTP status" % (where, body.get("status")))


# --------------------------------------------------------------------------------------------------
# calgate processes

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def closed_port():
    """A loopback port nothing listens on (bound and closed at once)."""
    return free_port()


def base_env():
    """The process environment without any CALGATE_* variable (calgate refuses unknown ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALGATE_")}
    env.setdefault("LC_ALL", "C.UTF-8")
    return env


def json_lines(text):
    """The JSON objects of a log, one per line (other lines skipped)."""
    out = []
    for raw in text.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                out.append(json.loads(raw))
            except ValueError:
                pass
    return out


class Calgate:
    """One `calgate serve` on a free port with a private data directory (SQLite)."""

    def __init__(self, extra_env=None, name="calgate"):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="cg-api-%s-" % name)
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir, mode=0o700)
        self.env = base_env()
        self.env.update({
            "CALGATE_DATA_DIR": self.data_dir,
            "CALGATE_SERVER_PORT": "0",
            "CALGATE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
            "CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS": "true",
            "CALGATE_DNS_SERVERS": "127.0.0.1:9",
            "CALGATE_DNS_TIMEOUT_MS": "100",
            "CALGATE_SYNC_POLL_INTERVAL_SECONDS": "3600",
            "CALGATE_LOG_LEVEL": "info",
        })
        if extra_env:
            self.env.update(extra_env)
        self.log_path = os.path.join(self.dir, "calgate.log")
        self.proc = None
        self.port = None

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "calgate.db")

    def start(self, timeout=30):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([CALGATE, "serve"], env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in self.log_lines():
                if line.get("event") == "server.started":
                    self.port = int(line["port"])
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("calgate exited with %s:\n%s" % (self.proc.returncode, self.log_text()[-4000:]))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("calgate did not log server.started:\n" + self.log_text()[-4000:])

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_lines(self):
        return json_lines(self.log_text())

    def stop(self):
        """Stops calgate with SIGTERM. It must exit cleanly (code 0) and its log must hold no
        sanitizer report (the asan preset runs these tests against instrumented binaries)."""
        if not self.proc:
            return
        crashed_before = self.proc.poll() is not None
        if not crashed_before:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        code, self.proc = self.proc.returncode, None
        log = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in log, "%s: sanitizer report in the calgate log:\n%s" % (self.name, log[-4000:])
        assert code == 0 and not crashed_before, "%s: calgate exited with %s%s" % (
            self.name, code, " before it was stopped" if crashed_before else "")

    def cleanup(self):
        self.stop()
        if os.environ.get("CG_TEST_KEEP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, token=None):
        return Client(self.port, token)

    def metrics(self):
        """GET /metrics (from loopback, no token configured) as {"name{labels}": value}."""
        r = self.client().get("/metrics")
        assert r.status == 200, r
        out = {}
        for line in r.text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                out[name] = float(value)
        return out

    # ---- calgate-admin

    def admin(self, *args, check=True):
        r = subprocess.run([CALGATE_ADMIN] + list(args), env=self.env, capture_output=True, text=True, timeout=60)
        if check and r.returncode != 0:
            raise RuntimeError("calgate-admin %s failed (%d): %s %s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def add_user(self, email=None):
        """Creates a user; returns dict(email, token, token_id, id)."""
        email = email or "u-%s@example.com" % uuid.uuid4().hex[:10]
        out = json.loads(self.admin("users", "add", email, "--json").stdout)
        user = {"email": out["email"], "token": out["token"], "token_id": out["token_id"]}
        me = self.client(user["token"]).get("/v1/me")
        assert me.status == 200, me
        user["id"] = me.json["id"]
        return user

    def add_token(self, email, label="second"):
        out = json.loads(self.admin("users", "tokens", "add", email, "--label", label, "--json").stdout)
        return {"token": out["token"], "token_id": out["token_id"]}

    def revoke_token(self, token_id):
        self.admin("users", "tokens", "revoke", token_id)

    # ---- database

    def db(self):
        conn = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=10)
        conn.row_factory = sqlite3.Row
        return conn

    def query(self, sql, params=()):
        conn = self.db()
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def execute(self, sql, params=()):
        """Changes the database behind calgate's back, as a crashed worker or an operator's repair would."""
        conn = sqlite3.connect(self.db_path, timeout=10)
        try:
            with conn:
                conn.execute(sql, params)
        finally:
            conn.close()

    def count(self, table, where="1=1", params=()):
        return self.query("SELECT COUNT(*) AS n FROM %s WHERE %s" % (table, where), params)[0]["n"]

    def db_bytes(self):
        """The database file plus its WAL/journal, as bytes (for 'is this string anywhere' checks)."""
        out = b""
        for suffix in ("", "-wal", "-journal"):
            p = self.db_path + suffix
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out += f.read()
        return out

    def table_dump(self, table):
        """Every row of `table` as text (for substring checks)."""
        return json.dumps(self.query("SELECT * FROM %s" % table), default=str)


def sha256_hex(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------------
# CalDAV servers (tests/services/caldav.sh)

class Dav:
    """Edits a CalDAV server directly, like a user's other apps would."""

    def __init__(self, name, base, user, password, collections, principal):
        self.name = name
        self.base = base
        self.user = user
        self.password = password
        self.collections = collections  # URL under which test calendars are made
        self.principal = principal
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port

    def send(self, method, url, body=b"", headers=None, auth=True):
        u = urllib.parse.urlsplit(url)
        path = u.path + ("?" + u.query if u.query else "")
        hdrs = dict(headers or {})
        if auth and self.user:
            hdrs["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (self.user, self.password)).encode()).decode()
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return r.status, r.read().decode("utf-8", errors="replace")
        finally:
            conn.close()

    def make_calendar(self, name, display=None):
        url = self.collections + name + "/"
        body = ('<?xml version="1.0"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                '<d:set><d:prop><d:displayname>%s</d:displayname><c:supported-calendar-component-set>'
                '<c:comp name="VEVENT"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>'
                % (display or name))
        status, text = self.send("MKCALENDAR", url, body, {"Content-Type": "application/xml"})
        assert status in (200, 201), "MKCALENDAR %s: %d %s" % (url, status, text[:500])
        return url

    def put(self, calendar_url, uid, ics):
        status, text = self.send("PUT", calendar_url + uid + ".ics", ics, {"Content-Type": "text/calendar"})
        assert status in (200, 201, 204), "PUT: %d %s" % (status, text[:500])

    def events(self, calendar_url):
        """{href: calendar-data} of every resource in the calendar (REPORT calendar-query)."""
        body = ('<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
                '<d:prop><d:getetag/><c:calendar-data/></d:prop>'
                '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"/></c:comp-filter></c:filter>'
                '</c:calendar-query>')
        status, text = self.send("REPORT", calendar_url, body, {"Content-Type": "application/xml", "Depth": "1"})
        assert status == 207, "REPORT %s: %d %s" % (calendar_url, status, text[:500])
        ns = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}
        out = {}
        for resp in ET.fromstring(text).findall("d:response", ns):
            href = resp.findtext("d:href", default="", namespaces=ns)
            data = None
            for ps in resp.findall("d:propstat", ns):
                cd = ps.find("d:prop/c:calendar-data", ns)
                if cd is not None and cd.text:
                    data = cd.text
            if data is not None:
                out[href] = data
        return out


def caldav_server(which=None):
    """The server `which` (radicale|xandikos; default env CG_TEST_CALDAV_SERVER or radicale) of the
    fixture whose state directory is CG_TEST_CALDAV_STATE."""
    which = which or os.environ.get("CG_TEST_CALDAV_SERVER") or "radicale"
    state = os.environ.get("CG_TEST_CALDAV_STATE")
    if not state:
        raise unittest.SkipTest("CG_TEST_CALDAV_STATE is not set (start tests/services/caldav.sh start DIR)")
    with open(os.path.join(state, which + ".url")) as f:
        base = f.read().strip()
    if not base.endswith("/"):
        base += "/"
    if which == "radicale":
        return Dav("radicale", base, "alice", "alice-app-password", base + "alice/", base + "alice/")
    return Dav("xandikos", base, "", "", base + "user/calendars/", base + "user/")


def timed_event(uid, title, day, hour, minutes=60):
    """An iCalendar event on `day` at `hour` UTC with a title, a description ('secret notes') and a
    location ('Room 42') that must never leave the source in private mode."""
    start = datetime.datetime.combine(day, datetime.time(hour, 0))
    end = start + datetime.timedelta(minutes=minutes)
    fmt = "%Y%m%dT%H%M%SZ"
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"
            "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nDESCRIPTION:secret notes\r\nLOCATION:Room 42\r\nEND:VEVENT\r\n"
            "END:VCALENDAR\r\n" % (uid, start.strftime(fmt), end.strftime(fmt), title))


def unique(prefix):
    return "%s%s" % (prefix, uuid.uuid4().hex[:12])


def unfold(ics):
    return re.sub(r"\r?\n[ \t]", "", ics)


def ics_lines(ics):
    return [l for l in unfold(ics).replace("\r\n", "\n").split("\n") if l]


def vevents(ics):
    """The VEVENT blocks of a document, each as a list of unfolded lines."""
    out, cur = [], None
    for line in ics_lines(ics):
        if line == "BEGIN:VEVENT":
            cur = []
        elif line == "END:VEVENT":
            out.append(cur)
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def prop(lines, name):
    """Values of property `name` in unfolded `lines`."""
    out = []
    for l in lines:
        head, _, value = l.partition(":")
        if head.split(";")[0].upper() == name.upper():
            out.append(value)
    return out


def wait_until(predicate, timeout=60, interval=0.25, what="condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %ss waiting for %s (last: %r)" % (timeout, what, last))


def routes_from_binary():
    """`calgate routes --json` as a set of (METHOD, pattern, authenticated)."""
    r = subprocess.run([CALGATE, "routes", "--json"], env=base_env(), capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("calgate routes --json failed (%d): %s %s" % (r.returncode, r.stdout, r.stderr))
    return json.loads(r.stdout)


class ApiTestCase(unittest.TestCase):
    """Assertions shared by the API tests."""

    maxDiff = 4000

    def assertStatus(self, resp, status, msg=None):
        self.assertEqual(resp.status, status, msg or repr(resp))

    def assertProblem(self, resp, status, slug, field=None):
        self.assertEqual((resp.status, resp.problem_type), (status, slug), repr(resp))
        self.assertEqual(resp.content_type, "application/problem+json", repr(resp))
        if field is not None:
            self.assertEqual(resp.json.get("field"), field, repr(resp))

    def assertNoneIn(self, needles, haystack, what):
        if isinstance(haystack, bytes):
            found = [n for n in needles if n and n.encode("utf-8") in haystack]
        else:
            found = [n for n in needles if n and n in haystack]
        self.assertEqual(found, [], "%s contains %r" % (what, found))


def calendar_for(calendars, dav_url):
    """The calendar (API object) whose provider_calendar_id is the collection `dav_url` (a full URL or
    an absolute path, with or without the trailing slash)."""
    want = urllib.parse.urlsplit(dav_url).path.rstrip("/")
    found = [c for c in calendars if urllib.parse.urlsplit(c["provider_calendar_id"]).path.rstrip("/") == want]
    assert len(found) == 1, "calendar %s not found once in %r" % (dav_url, calendars)
    return found[0]
