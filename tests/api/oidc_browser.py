"""The user's browser and the test's remote control for tests/services/oidc (oidc.sh + server.mjs).

authorize(auth_url, login, approve=True) opens an authorization URL of the test OpenID provider,
signs in as account `login` on its login page, presses Approve (or Deny) on its consent page and
returns the Location of the final redirect to the client's redirect_uri -- without following it,
since that one goes to the gateway. Errors that the provider sends back to the client (say
error=invalid_request for a missing code_challenge) come back the same way, as that Location.
A page that is neither a login nor a consent page, or a non-2xx/3xx answer, raises BrowserError.

Control(state_dir) talks to the provider's /__control/ API with the token oidc.sh wrote into
STATE_DIR/control-token; the issuer URL is in STATE_DIR/issuer.

Stdlib only.
"""

import http.cookiejar
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser


class BrowserError(AssertionError):
    """The provider showed something the browser did not expect."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # hand 3xx answers back to the caller


class _Forms(HTMLParser):
    """Collects <form>s: action, method, fields (name -> value) and submit buttons (name, value)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                               "fields": {}, "buttons": []})
        elif self.forms and tag == "input" and a.get("name"):
            if a.get("type", "text").lower() == "submit":
                self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))
            else:
                self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1]["buttons"].append((a["name"], a.get("value", "")))


def _same_endpoint(url, redirect_uri):
    u, r = urllib.parse.urlsplit(url), urllib.parse.urlsplit(redirect_uri)
    return (u.scheme, u.netloc, u.path) == (r.scheme, r.netloc, r.path)


def authorize(auth_url, login, approve=True, jar=None, max_steps=20):
    """Walk auth_url's login and consent pages; return the redirect Location for the client.

    jar: an http.cookiejar.CookieJar to share a provider session between calls (default: a new,
    empty one, so every call signs in and consents afresh)."""
    redirect_uri = urllib.parse.parse_qs(urllib.parse.urlsplit(auth_url).query).get("redirect_uri", [""])[0]
    provider = urllib.parse.urlsplit(auth_url).netloc
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(jar if jar is not None else http.cookiejar.CookieJar()), _NoRedirect())
    url, data = auth_url, None
    for _ in range(max_steps):
        try:
            resp = opener.open(urllib.request.Request(url, data=data), timeout=30)
            status, headers, body = resp.status, resp.headers, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, e.headers, e.read().decode("utf-8", "replace")
        if status in (301, 302, 303, 307, 308):
            location = urllib.parse.urljoin(url, headers["Location"])
            if (redirect_uri and _same_endpoint(location, redirect_uri)) \
                    or urllib.parse.urlsplit(location).netloc != provider:
                return location
            url, data = location, None
            continue
        if status != 200:
            raise BrowserError("%s answered %d: %s" % (url, status, body[:500]))
        parser = _Forms()
        parser.feed(body)
        form = next((f for f in parser.forms if f["method"] == "post"), None)
        if form is None:
            raise BrowserError("no form on %s: %s" % (url, body[:500]))
        fields = dict(form["fields"])
        if "login" in fields:
            fields["login"] = login
        else:
            wanted = "approve" if approve else "deny"
            button = next((b for b in form["buttons"] if b[1] == wanted), None)
            if button is None:
                raise BrowserError("no %s button on %s: %s" % (wanted, url, body[:500]))
            fields[button[0]] = button[1]
        url, data = urllib.parse.urljoin(url, form["action"]), urllib.parse.urlencode(fields).encode()
    raise BrowserError("more than %d steps from %s" % (max_steps, auth_url))


class Control:
    """The provider's /__control/ API; see tests/services/oidc/server.mjs for what each accepts."""

    def __init__(self, state_dir):
        with open(os.path.join(state_dir, "issuer"), encoding="utf-8") as f:
            self.issuer = f.read().strip()
        with open(os.path.join(state_dir, "control-token"), encoding="utf-8") as f:
            self.token = f.read().strip()

    def _call(self, method, path, body=None):
        req = urllib.request.Request(
            self.issuer + "/__control/" + path, method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise BrowserError("control %s %s: %d %s" % (method, path, e.code, e.read().decode()[:500])) from None

    def register_client(self, client_id, client_secret, redirect_uris,
                        token_endpoint_auth_method="client_secret_basic"):
        if isinstance(redirect_uris, str):
            redirect_uris = [redirect_uris]
        return self._call("POST", "clients", {
            "client_id": client_id, "client_secret": client_secret, "redirect_uris": list(redirect_uris),
            "token_endpoint_auth_method": token_endpoint_auth_method})

    def add_account(self, id, claims=None):
        return self._call("POST", "accounts", {"id": id, "claims": claims or {}})

    def revoke_grants(self, account=None, client_id=None):
        body = {k: v for k, v in (("account", account), ("client_id", client_id)) if v is not None}
        return self._call("POST", "revoke-grants", body)["revoked"]

    def settings(self, access_token_ttl=None, refresh_token_ttl=None):
        body = {k: v for k, v in (("access_token_ttl", access_token_ttl),
                                  ("refresh_token_ttl", refresh_token_ttl)) if v is not None}
        return self._call("POST", "settings", body)

    def log(self):
        return self._call("GET", "log")

    def clear_log(self):
        return self._call("DELETE", "log")
