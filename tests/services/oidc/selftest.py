#!/usr/bin/env python3
"""Self-test of the test OpenID provider (tests/services/oidc.sh + server.mjs) and of
tests/api/oidc_browser.py. Starts nothing: run it against a provider that oidc.sh started.

  tests/services/oidc.sh start /tmp/oidc-state
  python3 tests/services/oidc/selftest.py /tmp/oidc-state
  tests/services/oidc.sh stop /tmp/oidc-state

Checks the code flow with PKCE S256 (id_token signature against the JWKS and its claims,
userinfo), refusal of a request without code_challenge, invalid_grant for a wrong code_verifier,
refresh token rotation and reuse, /__control/revoke-grants, consent denial, the revocation
endpoint, the access token TTL setting and the request log. Prints one line per check and
"N passed, N failed"; exit code 0 when all passed, 1 otherwise. Stdlib only.
"""

import base64
import hashlib
import json
import os
import secrets
import sys
import traceback
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "api"))
import oidc_browser  # noqa: E402

CLIENT_ID, CLIENT_SECRET = "calgate-selftest", "selftest-secret"
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"  # never contacted: authorize() stops before it
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
ALICE = {"email": "alice@example.test", "email_verified": True, "hd": "example.test",
         "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "preferred_username": "alice@example.test",
         "name": "Alice Example"}


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def get_json(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
        return json.loads(r.read())


def post_form(url, fields, basic=None):
    """POST a form; returns (status, JSON body). basic=(id, secret) for client_secret_basic."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if basic:
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % tuple(urllib.parse.quote(x, safe="") for x in basic)).encode()).decode()
    req = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body = r.read()
            return r.status, json.loads(body) if body else {}
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body else {}


def verify_rs256(jwt, jwks):
    """Checks an RS256 JWS against the JWKS with plain integer RSA; returns its payload."""
    header_b64, payload_b64, sig_b64 = jwt.split(".")
    header = json.loads(b64url_decode(header_b64))
    assert header["alg"] == "RS256", header
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    n = int.from_bytes(b64url_decode(key["n"]), "big")
    e = int.from_bytes(b64url_decode(key["e"]), "big")
    size = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(b64url_decode(sig_b64), "big"), e, n).to_bytes(size, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(
        (header_b64 + "." + payload_b64).encode()).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    assert em == expected, "id_token signature does not verify against the JWKS"
    return json.loads(b64url_decode(payload_b64))


class SelfTest:
    def __init__(self, state_dir):
        self.control = oidc_browser.Control(state_dir)
        self.disco = get_json(self.control.issuer + "/.well-known/openid-configuration")
        self.control.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
        self.control.add_account("alice", ALICE)
        self.control.add_account("bob", {"email": "bob@example.test"})

    # --- helpers ---
    def auth_url(self, scope, challenge=True, **extra):
        self.verifier = secrets.token_urlsafe(48)
        self.state, self.nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI,
                  "scope": scope, "state": self.state, "nonce": self.nonce}
        if challenge:
            params["code_challenge"] = base64.urlsafe_b64encode(
                hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
            params["code_challenge_method"] = "S256"
        params.update(extra)
        return self.disco["authorization_endpoint"] + "?" + urllib.parse.urlencode(params)

    def code_for(self, login="alice", scope="openid email profile " + CALENDAR_SCOPE, **extra):
        location = oidc_browser.authorize(self.auth_url(scope, **extra), login)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert location.startswith(REDIRECT_URI + "?"), location
        assert q.get("state") == [self.state], location
        assert q.get("iss") == [self.control.issuer], location
        return q["code"][0]

    def exchange(self, code, verifier=None):
        return post_form(self.disco["token_endpoint"], {
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier or self.verifier}, basic=(CLIENT_ID, CLIENT_SECRET))

    def tokens(self, **kw):
        status, body = self.exchange(self.code_for(**kw))
        assert status == 200, (status, body)
        return body

    def refresh(self, refresh_token):  # client_secret_post this time
        return post_form(self.disco["token_endpoint"], {
            "grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})

    # --- checks ---
    def test_discovery(self):
        d = self.disco
        assert d["issuer"] == self.control.issuer, d
        assert d["code_challenge_methods_supported"] == ["S256"], d
        for k in ("authorization_endpoint", "token_endpoint", "revocation_endpoint",
                  "userinfo_endpoint", "jwks_uri"):
            assert d[k].startswith(self.control.issuer + "/"), (k, d.get(k))
        assert {"openid", "offline_access", CALENDAR_SCOPE, "Calendars.ReadWrite"} <= set(d["scopes_supported"])

    def test_code_flow_with_pkce(self):
        t = self.tokens()
        assert t["token_type"].lower() == "bearer" and t["expires_in"] == 3600, t
        assert t["access_token"] and t["refresh_token"] and t["id_token"], t
        assert set(t["scope"].split()) == {"openid", "email", "profile", CALENDAR_SCOPE}, t["scope"]
        claims = verify_rs256(t["id_token"], get_json(self.disco["jwks_uri"]))
        assert claims["iss"] == self.control.issuer and claims["aud"] == CLIENT_ID, claims
        assert claims["nonce"] == self.nonce and claims["sub"] == "alice", claims
        for k, v in ALICE.items():
            assert claims.get(k) == v, (k, claims)
        info = get_json(self.disco["userinfo_endpoint"], {"Authorization": "Bearer " + t["access_token"]})
        assert info["sub"] == "alice" and info["email"] == ALICE["email"], info

    def test_scopes_echoed(self):
        scope = ("openid email offline_access https://www.googleapis.com/auth/calendar.calendarlist.readonly "
                 "Calendars.ReadWrite calendar")
        t = self.tokens(login="bob", scope=scope, prompt="consent")
        assert set(t["scope"].split()) == set(scope.split()), t["scope"]
        assert t["refresh_token"], t
        # OIDC Core 11: without prompt=consent offline_access is ignored; a refresh token comes anyway
        t = self.tokens(login="bob", scope=scope)
        assert set(t["scope"].split()) == set(scope.split()) - {"offline_access"}, t["scope"]
        assert t["refresh_token"], t

    def test_no_code_challenge_refused(self):
        location = oidc_browser.authorize(self.auth_url("openid email", challenge=False), "alice")
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert location.startswith(REDIRECT_URI) and q.get("error") == ["invalid_request"], location
        assert "code" not in q, location

    def test_wrong_code_verifier(self):
        code = self.code_for()
        status, body = self.exchange(code, verifier=secrets.token_urlsafe(48))
        assert status == 400 and body["error"] == "invalid_grant", (status, body)

    def test_refresh_rotates(self):
        t = self.tokens()
        status, r1 = self.refresh(t["refresh_token"])
        assert status == 200, (status, r1)
        assert r1["refresh_token"] != t["refresh_token"] and r1["access_token"] != t["access_token"], r1
        assert r1["id_token"] and set(r1["scope"].split()) == set(t["scope"].split()), r1
        status, r2 = self.refresh(r1["refresh_token"])
        assert status == 200 and r2["refresh_token"] != r1["refresh_token"], (status, r2)
        status, body = self.refresh(t["refresh_token"])  # rotated away
        assert status == 400 and body["error"] == "invalid_grant", (status, body)
        assert self.control.log()[-1]["error_detail"] == "refresh token already used", self.control.log()[-1]
        # reuse detection: presenting a rotated token revokes the grant, the newest token too
        status, body = self.refresh(r2["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant", (status, body)

    def test_control_revoke_grants(self):
        t = self.tokens()
        assert self.control.revoke_grants("alice") >= 1
        status, body = self.refresh(t["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant", (status, body)
        t = self.tokens(login="bob")
        assert self.control.revoke_grants(client_id=CLIENT_ID) >= 1
        status, body = self.refresh(t["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant", (status, body)

    def test_consent_denied(self):
        location = oidc_browser.authorize(self.auth_url("openid email"), "alice", approve=False)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert location.startswith(REDIRECT_URI + "?"), location
        assert q.get("error") == ["access_denied"] and q.get("state") == [self.state], location
        assert "code" not in q, location

    def test_unknown_login_refused(self):
        try:
            oidc_browser.authorize(self.auth_url("openid"), "nobody")
        except oidc_browser.BrowserError as e:
            assert "400" in str(e) and "unknown account" in str(e), e
        else:
            raise AssertionError("login as an unknown account went through")

    def test_revocation_endpoint(self):
        t = self.tokens()
        status, body = post_form(self.disco["revocation_endpoint"], {
            "token": t["refresh_token"], "token_type_hint": "refresh_token"}, basic=(CLIENT_ID, CLIENT_SECRET))
        assert status == 200, (status, body)
        status, body = self.refresh(t["refresh_token"])
        assert status == 400 and body["error"] == "invalid_grant", (status, body)
        rev = [e for e in self.control.log() if e["endpoint"] == "revocation"][-1]
        assert rev["status"] == 200 and rev["client_id"] == CLIENT_ID and "RefreshToken" in rev["entities"], rev

    def test_access_token_ttl_setting(self):
        assert self.control.settings(access_token_ttl=120)["access_token_ttl"] == 120
        try:
            assert self.tokens()["expires_in"] == 120
        finally:
            self.control.settings(access_token_ttl=3600)

    def test_request_log(self):
        self.control.clear_log()
        code = self.code_for()
        self.exchange(code)
        status, _ = post_form(self.disco["token_endpoint"], {
            "grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI},
            basic=(CLIENT_ID, CLIENT_SECRET))
        log = self.control.log()
        assert len(log) == 2, log
        assert log[0]["grant_type"] == "authorization_code" and log[0]["code_verifier"] is True, log
        assert log[0]["status"] == 200 and log[0]["client_auth"] == "client_secret_basic", log
        assert log[1]["code_verifier"] is False and log[1]["error"] == "invalid_grant", log

    def test_control_needs_token(self):
        req = urllib.request.Request(self.control.issuer + "/__control/log")
        try:
            urllib.request.urlopen(req, timeout=30)
        except urllib.error.HTTPError as e:
            assert e.code == 401, e.code
        else:
            raise AssertionError("control API answered without its token")


def main():
    if len(sys.argv) != 2:
        print("usage: selftest.py STATE_DIR", file=sys.stderr)
        return 2
    t = SelfTest(sys.argv[1])
    passed = failed = 0
    for name in [n for n in dir(t) if n.startswith("test_")]:
        try:
            getattr(t, name)()
            passed += 1
            print("ok   %s" % name)
        except Exception:  # noqa: BLE001 - report every failure and go on
            failed += 1
            print("FAIL %s\n%s" % (name, traceback.format_exc()))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
