"""The web portal's server side through the real binaries: signing in with a one-time link from
calgate-admin and with Google (the contract fake's OpenID Connect), sessions in cookies (flags,
a new session at every sign-in: no fixation), CSRF protection of every state change made with the
cookie (a cross-site form post is refused), the session list and revocation, sign-out, erasure,
and the portal's files (embedded, strict CSP, nothing from elsewhere, no inline script)."""

import json
import os
import re
import tempfile
import unittest
import urllib.parse

import calgate_api as cg
import contract_fake as cf
import google_fake as gf
import graph_fake as mf
import oidc_browser

EVIL = "https://evil.example"


def session_cookie(resp, name="calgate_session"):
    """(value, attributes) of the Set-Cookie for `name` in a response, or (None, None)."""
    for header in resp.headers_all("set-cookie"):
        first, _, rest = header.partition(";")
        cname, _, value = first.partition("=")
        if cname.strip() == name:
            attrs = [a.strip() for a in rest.split(";") if a.strip()]
            return value, attrs
    return None, None


class Browser:
    """A cookie-carrying client as a browser on calgate's own page would be (Origin = public URL)."""

    def __init__(self, server, origin, cookie=None):
        self.server, self.origin, self.cookie, self.csrf = server, origin, cookie, None

    def request(self, method, path, json_body=None, headers=None, csrf=True, validate=True, **kw):
        h = {"Cookie": "calgate_session=" + self.cookie} if self.cookie else {}
        if method not in ("GET", "HEAD"):
            h["Origin"] = self.origin
            if csrf and self.csrf:
                h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        return self.server.client().request(method, path, json_body=json_body, headers=h, validate=validate, **kw)

    def load_session(self):
        r = self.request("GET", "/v1/session")
        assert r.status == 200, r
        self.csrf = r.json["csrf_token"]
        return r.json


def link_for(server, email):
    out = json.loads(server.admin("users", "login-link", email, "--json").stdout)
    return out["url"]


def use_link(server, url, origin, cookie=None):
    path = urllib.parse.urlsplit(url).path
    headers = {"Origin": origin, "Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = "calgate_session=" + cookie
    return server.client().request("POST", path, b"", headers=headers)


def start_sign_in(server, public_url, provider):
    """POST /portal/signin/{provider} from the portal's page: (provider URL, binding cookie)."""
    start = server.client().request("POST", "/portal/signin/" + provider, headers={"Origin": public_url})
    assert start.status == 200, start
    binding = [h.split(";")[0] for h in start.headers_all("set-cookie") if h.startswith("calgate_signin=")][0]
    return start.json["url"], binding


def finish_sign_in(server, public_url, callback, binding):
    """The browser back at calgate's callback (with its binding cookie, or None: another browser)."""
    assert callback.startswith(public_url + "/oauth/callback"), callback
    parts = urllib.parse.urlsplit(callback)
    return server.client().request("GET", parts.path, query=urllib.parse.parse_qsl(parts.query),
                                   headers={"Cookie": binding} if binding else {})


def fake_sign_in(server, public_url, provider, account, keep_cookie=True, decision="allow"):
    """Signing in to the portal at a contract fake (Google, Microsoft): its consent page, back."""
    url, binding = start_sign_in(server, public_url, provider)
    status, _, consent = cf.fetch("GET", url)
    assert status == 200, consent
    request_id = consent.split('name="request" value="')[1].split('"')[0]
    action = urllib.parse.urljoin(url, re.search(r'<form method="post" action="([^"]+)"', consent).group(1))
    form = urllib.parse.urlencode({"request": request_id, "account": account, "decision": decision}).encode()
    status, headers, _ = cf.fetch("POST", action, form, {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302, status
    return finish_sign_in(server, public_url, headers["Location"], binding if keep_cookie else None), url


class PortalSessions(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        port = cg.free_port()
        cls.public_url = "http://127.0.0.1:%d" % port
        cls.server = cg.Calgate({"CALGATE_SERVER_PORT": str(port), "CALGATE_SERVER_PUBLIC_URL": cls.public_url},
                                name="portal").start()
        cls.addClassCleanup(cls.server.cleanup)

    def signed_in(self, user=None):
        user = user or self.server.add_user()
        r = use_link(self.server, link_for(self.server, user["email"]), self.public_url)
        self.assertStatus(r, 303)
        value, attrs = session_cookie(r)
        self.assertTrue(value)
        b = Browser(self.server, self.public_url, value)
        b.load_session()
        return user, b, attrs

    def test_a_login_link_signs_in_once_with_a_strict_cookie(self):
        user = self.server.add_user()
        url = link_for(self.server, user["email"])
        self.assertTrue(url.startswith(self.public_url + "/portal/link/cgl_"), url)
        path = urllib.parse.urlsplit(url).path
        page = self.server.client().get(path)
        self.assertStatus(page, 200)
        self.assertIn(user["email"], page.text)  # whose sign-in it is, before anything is used up
        again = self.server.client().get(path)
        self.assertStatus(again, 200)  # a link preview or mail scanner uses nothing up
        # posted from another site's page: refused, and the link still works
        self.assertStatus(use_link(self.server, url, EVIL), 403)
        r = use_link(self.server, url, self.public_url)
        self.assertStatus(r, 303)
        self.assertEqual(r.header("location"), "/portal")
        value, attrs = session_cookie(r)
        self.assertTrue(value.startswith("cgs_"))
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Lax", attrs)
        self.assertIn("Path=/", attrs)
        self.assertNotIn("Secure", attrs)  # plain http to loopback: a Secure cookie would never come back
        self.assertEqual(self.server.count("portal_sessions", "secret_hash = ?", (cg.sha256_hex(value),)), 1)
        self.assertEqual(self.server.count("portal_sessions", "secret_hash = ?", (value,)), 0)  # only the hash
        self.assertStatus(use_link(self.server, url, self.public_url), 400)  # once only
        me = Browser(self.server, self.public_url, value).request("GET", "/v1/me")
        self.assertStatus(me, 200)
        self.assertEqual(me.json["email"], user["email"])

    def test_login_link_refuses_unknown_and_suspended_users_and_needs_a_public_url(self):
        r = self.server.admin("users", "login-link", "nobody@example.com", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no user", r.stderr)
        user = self.server.add_user()
        url = link_for(self.server, user["email"])
        self.server.admin("users", "disable", user["email"])
        self.assertStatus(use_link(self.server, url, self.public_url), 400)
        self.assertIn("suspended", self.server.admin("users", "login-link", user["email"], check=False).stderr)
        self.server.admin("users", "enable", user["email"])
        env = dict(self.server.env)
        env.pop("CALGATE_SERVER_PUBLIC_URL")
        import subprocess
        r = subprocess.run([cg.CALGATE_ADMIN, "users", "login-link", user["email"]], env=env, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("server.public_url", r.stderr)
        self.assertStatus(self.server.client().get("/portal/link/cgl_" + "a" * 43), 400)
        self.assertStatus(self.server.client().get("/portal/link/nonsense"), 400)

    def test_every_state_change_with_the_cookie_needs_the_csrf_token_and_our_origin(self):
        user, b, _ = self.signed_in()
        body = {"label": "Busy", "calendars": []}
        # a cross-site form post: the browser sends the cookie, but neither the token nor our origin
        form = b.request("POST", "/v1/feeds", headers={"Origin": EVIL, "Content-Type": "application/x-www-form-urlencoded"},
                         csrf=False)
        self.assertProblem(form, 403, "csrf")
        self.assertProblem(b.request("POST", "/v1/feeds", json_body=body, csrf=False), 403, "csrf")
        self.assertProblem(b.request("POST", "/v1/feeds", json_body=body, headers={"X-CSRF-Token": "0" * 64}), 403, "csrf")
        self.assertProblem(b.request("POST", "/v1/feeds", json_body=body, headers={"Origin": EVIL}), 403, "csrf")
        self.assertProblem(b.request("DELETE", "/v1/me", csrf=False), 403, "csrf")
        self.assertStatus(b.request("GET", "/v1/me"), 200)  # reading needs no token
        # with the token from our own page it goes through to the handler (which checks the body)
        r = b.request("POST", "/v1/feeds", json_body=body)
        self.assertNotEqual(r.status, 403, r)
        self.assertEqual(self.server.count("feeds", "user_id = ?", (user["id"],)), 0)
        # another session's token does not fit this one
        _, other, _ = self.signed_in(user)
        self.assertProblem(b.request("DELETE", "/v1/me", headers={"X-CSRF-Token": other.csrf}), 403, "csrf")
        self.assertEqual(self.server.count("users", "id = ?", (user["id"],)), 1)
        # API tokens are not cookies: no CSRF token needed, and /v1/session has nothing for them
        api = self.server.client(user["token"])
        self.assertProblem(api.get("/v1/session"), 404, "no-session")

    def test_every_sign_in_is_a_new_session_and_ends_the_one_the_browser_held(self):
        user, first, _ = self.signed_in()
        # an attacker plants a session id of their own choosing: it is nobody's, and stays so
        planted = "cgs_" + "A" * 43
        r = use_link(self.server, link_for(self.server, user["email"]), self.public_url, cookie=planted)
        value, _ = session_cookie(r)
        self.assertNotEqual(value, planted)
        self.assertStatus(Browser(self.server, self.public_url, planted).request("GET", "/v1/me"), 401)
        # signing in again in a browser that holds a live session replaces it
        r = use_link(self.server, link_for(self.server, user["email"]), self.public_url, cookie=first.cookie)
        second, _ = session_cookie(r)
        self.assertNotEqual(second, first.cookie)
        self.assertStatus(first.request("GET", "/v1/me"), 401)
        self.assertStatus(Browser(self.server, self.public_url, second).request("GET", "/v1/me"), 200)

    def test_sessions_are_listed_and_revoked_and_sign_out_clears_the_cookie(self):
        user, a, _ = self.signed_in()
        _, b, _ = self.signed_in(user)
        listed = a.request("GET", "/v1/me/sessions", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"})
        self.assertStatus(listed, 200)
        self.assertEqual(len(listed.json["sessions"]), 2)
        current = [s for s in listed.json["sessions"] if s["current"]]
        self.assertEqual(len(current), 1)
        other = [s for s in listed.json["sessions"] if not s["current"]][0]
        self.assertEqual(other["via"], "link")
        # another user cannot end it
        _, stranger, _ = self.signed_in()
        self.assertStatus(stranger.request("DELETE", "/v1/me/sessions/" + other["id"]), 404)
        self.assertStatus(a.request("DELETE", "/v1/me/sessions/" + other["id"]), 204)
        self.assertStatus(b.request("GET", "/v1/me"), 401)
        # an API token sees and ends sessions too
        api = self.server.client(user["token"])
        self.assertEqual(len(api.get("/v1/me/sessions").json["sessions"]), 1)
        out = a.request("DELETE", "/v1/session")
        self.assertStatus(out, 204)
        value, attrs = session_cookie(out)
        self.assertEqual(value, "")
        self.assertIn("Max-Age=0", attrs)
        self.assertStatus(a.request("GET", "/v1/me"), 401)
        self.assertEqual(api.get("/v1/me/sessions").json["sessions"], [])

    def test_suspension_and_erasure_end_sessions_for_good(self):
        user, b, _ = self.signed_in()
        unused = link_for(self.server, user["email"])
        self.server.admin("users", "disable", user["email"])
        self.assertStatus(b.request("GET", "/v1/me"), 401)
        self.server.admin("users", "enable", user["email"])
        # a stolen browser's session does not come back with the user, nor an old link
        self.assertStatus(b.request("GET", "/v1/me"), 401)
        self.assertStatus(use_link(self.server, unused, self.public_url), 400)
        _, b, _ = self.signed_in(user)
        link_for(self.server, user["email"])
        self.assertStatus(b.request("DELETE", "/v1/me"), 204)
        self.assertStatus(b.request("GET", "/v1/me"), 401)
        self.assertEqual(self.server.count("portal_sessions", "user_id = ?", (user["id"],)), 0)
        self.assertEqual(self.server.count("login_links", "user_id = ?", (user["id"],)), 0)

    def test_the_portal_files_are_embedded_strict_and_self_contained(self):
        anon = self.server.client()
        page = anon.get("/portal")
        self.assertStatus(page, 200)
        csp = page.header("content-security-policy")
        for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                          "frame-ancestors 'none'", "base-uri 'none'"):
            self.assertIn(directive, csp)
        self.assertEqual(page.header("x-content-type-options"), "nosniff")
        self.assertStatus(anon.get("/portal/", validate=False), 308)
        again = anon.get("/portal", headers={"If-None-Match": page.header("etag")})
        self.assertStatus(again, 304)
        files = set()
        for tag, attrs in cg.tags(page.text):
            self.assertNotIn("style", attrs, "inline style in index.html")
            if tag == "script":
                self.assertIn("src", attrs, "inline script in index.html")
                files.add(attrs["src"])
            if tag == "link" and attrs.get("rel") == "stylesheet":
                files.add(attrs["href"])
        self.assertTrue(files)
        seen, queue = set(), list(files)
        while queue:  # every file, following module imports
            path = queue.pop()
            if path in seen:
                continue
            seen.add(path)
            self.assertTrue(path.startswith("/portal/"), path)
            r = anon.get(path)
            self.assertStatus(r, 200)
            self.assertIn("default-src 'none'", r.header("content-security-policy"))
            # nothing loaded from elsewhere (text telling a user their server's URL is fine)
            self.assertIsNone(re.search(r"""(?:\bsrc|\bhref|\bimport|\bfrom|url\(|fetch\(|@import)\s*[:=(]?\s*['"`]?(?:https?:)?//""",
                                        r.text), "%s loads something from another site" % path)
            self.assertIsNone(re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function",
                                        r.text), "%s builds HTML from strings" % path)
            for imported in re.findall(r"""from\s+['"]\./([a-z0-9_-]+\.js)['"]""", r.text):
                queue.append("/portal/" + imported)
        self.assertStatus(anon.get("/portal/nothing.js"), 404)
        self.assertStatus(anon.get("/portal/..%2fcalgate.db"), 404)
        config = anon.get("/portal/config")
        self.assertStatus(config, 200)
        self.assertEqual(config.json["signin_providers"], [])  # no OAuth client configured here


class CalDavPassword(cg.ApiTestCase):
    """A CalDAV account gets a new app-specific password (the portal's "Change password"): checked
    by discovery first, so a wrong one changes nothing."""

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="portal-password").start()
        cls.addClassCleanup(cls.server.cleanup)

    def test_a_new_password_is_checked_before_it_replaces_the_old_one(self):
        user = self.server.add_user()
        api = self.server.client(user["token"])
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user,
                                      "password": self.dav.password, "email": "pw@example.com"})
        self.assertStatus(r, 201)
        account = r.json["id"]
        sealed = self.server.query("SELECT credential_ciphertext FROM accounts WHERE id = ?", (account,))
        self.server.execute("UPDATE accounts SET status = 'needs_reauth' WHERE id = ?", (account,))
        wrong = api.patch("/v1/accounts/" + account, {"password": "not-" + self.dav.password})
        self.assertProblem(wrong, 422, "caldav-unauthorized", "password")
        self.assertEqual(self.server.query("SELECT credential_ciphertext FROM accounts WHERE id = ?", (account,)), sealed)
        self.assertProblem(api.patch("/v1/accounts/" + account, {"password": ""}), 400, "invalid-field", "password")
        self.assertProblem(api.patch("/v1/accounts/" + account, {"password": "x", "username": "y"}), 400, "unknown-field")
        stranger = self.server.client(self.server.add_user()["token"])
        self.assertStatus(stranger.patch("/v1/accounts/" + account, {"password": self.dav.password}), 404)
        right = api.patch("/v1/accounts/" + account, {"password": self.dav.password})
        self.assertStatus(right, 200)
        self.assertEqual(right.json["status"], "active")
        self.assertTrue(right.json["calendars"])
        self.assertNotEqual(self.server.query("SELECT credential_ciphertext FROM accounts WHERE id = ?", (account,)), sealed)
        self.assertNotIn(self.dav.password, json.dumps(right.json))
        self.assertNotIn(self.dav.password, self.server.log_text())
        self.assertEqual(self.server.count("audit_log", "action = 'account.password'"), 1)


class PortalCookieOverHttps(cg.ApiTestCase):
    """Behind https (a TLS proxy in production; here only the configured public URL) the cookie is
    Secure and __Host- prefixed."""

    def test_the_cookie_is_secure_and_host_prefixed(self):
        origin = "https://calgate.example"
        server = cg.Calgate({"CALGATE_SERVER_PUBLIC_URL": origin}, name="portal-https").start()
        self.addCleanup(server.cleanup)
        user = server.add_user()
        r = use_link(server, link_for(server, user["email"]), origin)
        self.assertStatus(r, 303)
        value, attrs = session_cookie(r, "__Host-calgate_session")
        self.assertTrue(value)
        for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
            self.assertIn(flag, attrs)
        self.assertFalse([a for a in attrs if a.lower().startswith("domain")])
        h = {"Cookie": "__Host-calgate_session=" + value}
        self.assertStatus(server.client().get("/v1/me", headers=h), 200)
        # the plain name is not accepted behind https
        self.assertStatus(server.client().get("/v1/me", headers={"Cookie": "calgate_session=" + value}), 401)


class PortalGoogleSignIn(cg.ApiTestCase):
    """Signing in with Google through the contract fake: an existing user by their verified address,
    a Workspace member of a listed domain by self-sign-up, nobody else."""

    @classmethod
    def setUpClass(cls):
        cls.fake = gf.GoogleFake()
        cls.addClassCleanup(cls.fake.stop)
        cls.fake.control("POST", "users", {"email": "ada@acme.example", "hd": "acme.example"})
        cls.fake.control("POST", "users", {"email": "new@acme.example", "hd": "acme.example"})
        cls.fake.control("POST", "users", {"email": "eve@gmail.com"})

        def env(fake, secret_file, public_url, port):
            e = gf.calgate_env(fake, secret_file, public_url, port)
            e["CALGATE_PORTAL_SIGNUP_DOMAINS"] = "acme.example"
            return e
        cf.start_gateway(cls, cls.fake, gf.CLIENT_ID, gf.CLIENT_SECRET, env, "portal-google")

    def sign_in(self, account, keep_cookie=True, decision="allow"):
        r, url = fake_sign_in(self.server, self.public_url, "google", account, keep_cookie, decision)
        self.assertIn("scope=openid+email+profile", url)  # identity only: no calendar access
        self.assertNotIn("access_type=offline", url)
        return r

    def test_an_existing_user_signs_in_with_google(self):
        user = self.server.add_user("ada@acme.example")
        r = self.sign_in("ada@acme.example")
        self.assertStatus(r, 303)
        self.assertEqual(r.header("location"), "/portal")
        value, _ = session_cookie(r)
        b = Browser(self.server, self.public_url, value)
        me = b.load_session()
        self.assertEqual(me["user"]["id"], user["id"])
        self.assertEqual(me["session"]["via"], "google")
        self.assertEqual(self.server.count("accounts", "user_id = ?", (user["id"],)), 0)  # signing in connects nothing

    def test_a_member_of_a_listed_domain_signs_up_and_nobody_else_does(self):
        r = self.sign_in("new@acme.example")
        self.assertStatus(r, 303)
        self.assertEqual(self.server.count("users", "email = ?", ("new@acme.example",)), 1)
        refused = self.sign_in("eve@gmail.com")
        self.assertStatus(refused, 403)
        self.assertIn("no user eve@gmail.com", refused.text)
        self.assertIsNone(session_cookie(refused)[0])
        self.assertEqual(self.server.count("users", "email = ?", ("eve@gmail.com",)), 0)

    def test_a_sign_in_finished_in_another_browser_or_denied_opens_nothing(self):
        self.server.add_user("eve@gmail.com") if not self.server.count("users", "email = ?", ("eve@gmail.com",)) else None
        other = self.sign_in("eve@gmail.com", keep_cookie=False)
        self.assertStatus(other, 400)
        self.assertIn("another browser", other.text)
        self.assertIsNone(session_cookie(other)[0])
        denied = self.sign_in("eve@gmail.com", decision="deny")
        self.assertStatus(denied, 400)
        self.assertIsNone(session_cookie(denied)[0])
        self.assertProblem(self.server.client().request("POST", "/portal/signin/google", headers={"Origin": EVIL}), 403, "csrf")
        self.assertStatus(self.server.client().request("POST", "/portal/signin/caldav", headers={"Origin": self.public_url}), 404)
        self.assertEqual(self.server.client().get("/portal/config").json["signin_providers"], ["google"])


class PortalMicrosoftSignIn(cg.ApiTestCase):
    """Signing in with Microsoft through the Graph fake on an organisation's own authority: a member
    by their UPN, a member of a listed organisation by self-sign-up; a B2B guest never, even with a
    calgate user of that address (the tenant does not control the guest's home address)."""

    @classmethod
    def setUpClass(cls):
        cls.fake = mf.GraphFake()
        cls.addClassCleanup(cls.fake.stop)
        cls.tenant = cls.fake.control("POST", "users", {"email": "ada@contoso.example"})["tenantId"]
        cls.fake.control("POST", "users", {"email": "carol@contoso.example"})
        cls.fake.control("POST", "users", {"email": "bob@fabrikam.example", "guestOf": [cls.tenant]})
        env = lambda fake, secret, url, port: dict(mf.calgate_env(fake, secret, url, port),
                                                    CALGATE_MICROSOFT_ISSUER=fake.url + cls.tenant + "/v2.0",
                                                    CALGATE_PORTAL_SIGNUP_DOMAINS="contoso.example")
        cf.start_gateway(cls, cls.fake, mf.CLIENT_ID, mf.CLIENT_SECRET, env, "portal-microsoft")

    def test_members_sign_in_and_sign_up_and_a_guest_does_not(self):
        ada = self.server.add_user("ada@contoso.example")
        r, url = fake_sign_in(self.server, self.public_url, "microsoft", "ada@contoso.example")
        self.assertStatus(r, 303)
        self.assertIn("scope=openid+email+profile", url)
        self.assertNotIn("Calendars", url)
        me = Browser(self.server, self.public_url, session_cookie(r)[0]).load_session()
        self.assertEqual((me["user"]["id"], me["session"]["via"]), (ada["id"], "microsoft"))
        carol, _ = fake_sign_in(self.server, self.public_url, "microsoft", "carol@contoso.example")
        self.assertStatus(carol, 303)
        self.assertEqual(self.server.count("users", "email = ?", ("carol@contoso.example",)), 1)
        self.server.add_user("bob@fabrikam.example")
        guest, _ = fake_sign_in(self.server, self.public_url, "microsoft", "bob@fabrikam.example")
        self.assertStatus(guest, 400)
        self.assertIn("not a work or school account of its own organisation", guest.text)
        self.assertIsNone(session_cookie(guest)[0])
        self.assertEqual(self.fake.violations(), [])


class PortalSignInAtAnOpenIdProvider(cg.ApiTestCase):
    """Signing in against a real OpenID Connect server (oidc-provider, tests/services/oidc) in
    Google's place: PKCE, nonce and ID-token checks as a standard implementation does them; only a
    verified address signs in."""

    @classmethod
    def setUpClass(cls):
        state = os.environ.get("CG_TEST_OIDC_STATE")
        if not state:
            raise unittest.SkipTest("CG_TEST_OIDC_STATE is not set (start tests/services/oidc.sh start DIR)")
        with open(os.path.join(state, "issuer")) as f:
            issuer = f.read().strip()
        control = oidc_browser.Control(state)
        port = cg.free_port()
        cls.public_url = "http://127.0.0.1:%d" % port
        client_id = "calgate-portal-" + cg.unique("c")
        control.register_client(client_id, "portal-test-secret", [cls.public_url + "/oauth/callback"],
                                token_endpoint_auth_method="client_secret_post")
        cls.ada = cg.unique("ada")
        control.add_account(cls.ada, {"email": cls.ada + "@acme.example", "email_verified": True, "hd": "acme.example"})
        cls.consumer = cg.unique("consumer")  # a consumer Google account made with a work address
        control.add_account(cls.consumer, {"email": cls.consumer + "@acme.example", "email_verified": True})
        cls.mallory = cg.unique("mallory")
        control.add_account(cls.mallory, {"email": cls.mallory + "@acme.example", "email_verified": False,
                                          "hd": "acme.example"})
        secret_file = os.path.join(tempfile.mkdtemp(prefix="cg-portal-oidc-"), "secret")
        with open(secret_file, "w") as f:
            f.write("portal-test-secret\n")
        os.chmod(secret_file, 0o600)
        cls.server = cg.Calgate({"CALGATE_GOOGLE_CLIENT_ID": client_id, "CALGATE_GOOGLE_CLIENT_SECRET_FILE": secret_file,
                                 "CALGATE_GOOGLE_ISSUER": issuer, "CALGATE_GOOGLE_API_ROOT": issuer + "/",
                                 "CALGATE_GOOGLE_ALLOW_INSECURE_LOOPBACK": "true",
                                 "CALGATE_SERVER_PUBLIC_URL": cls.public_url, "CALGATE_SERVER_PORT": str(port)},
                                name="portal-oidc").start()
        cls.addClassCleanup(cls.server.cleanup)
        cg.wait_until(lambda: cls.server.client().get("/portal/config").json["signin_providers"] == ["google"],
                      what="the OpenID provider offered for sign-in")

    def sign_in(self, login):
        url, binding = start_sign_in(self.server, self.public_url, "google")
        return finish_sign_in(self.server, self.public_url, oidc_browser.authorize(url, login), binding)

    def test_a_managed_verified_address_signs_in_and_others_do_not(self):
        user = self.server.add_user(self.ada + "@acme.example")
        r = self.sign_in(self.ada)
        self.assertStatus(r, 303)
        me = Browser(self.server, self.public_url, session_cookie(r)[0]).load_session()
        self.assertEqual(me["user"]["id"], user["id"])
        self.server.add_user(self.mallory + "@acme.example")
        refused = self.sign_in(self.mallory)
        self.assertStatus(refused, 400)
        self.assertIn("not verified", refused.text)
        self.assertIsNone(session_cookie(refused)[0])
        # verified once, years ago: without Workspace, the address may belong to someone else now
        self.server.add_user(self.consumer + "@acme.example")
        consumer = self.sign_in(self.consumer)
        self.assertStatus(consumer, 400)
        self.assertIn("not one Google manages", consumer.text)
        self.assertIsNone(session_cookie(consumer)[0])


if __name__ == "__main__":
    unittest.main()
