"""Bad requests get the documented problem (type, status, field) and change nothing: malformed or
mistyped bodies, unknown fields, oversize bodies, wrong content types, bad query parameters, account
connections that cannot work; and the per-token rate limit."""

import http.server
import json
import threading
import unittest
import urllib.parse
import uuid

import calgate_api as cg

FAKE_CAL = "cal_" + "q" * 26


class BadInputTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="bad-input").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.user = cls.server.add_user()
        cls.api = cls.server.client(cls.user["token"])
        src = cls.dav.make_calendar(cg.unique("bad-src-"))
        dst = cls.dav.make_calendar(cg.unique("bad-dst-"))
        cls.account_body = {"provider": "caldav", "server_url": cls.dav.base, "username": cls.dav.user or "user",
                            "password": cls.dav.password or "pw", "email": "alice@example.com"}
        r = cls.api.post("/v1/accounts", cls.account_body)
        assert r.status == 201, r
        cls.account = r.json
        cls.src = cg.calendar_for(r.json["calendars"], src)["id"]
        cls.dst = cg.calendar_for(r.json["calendars"], dst)["id"]
        r = cls.api.post("/v1/pairs", {"source_calendar_id": cls.src, "target_calendar_id": cls.dst})
        assert r.status == 201, r
        cls.pair = r.json

    def setUp(self):
        self.before = self.state()

    def tearDown(self):
        self.assertEqual(self.state(), self.before, "a refused request changed the database")

    def state(self):
        srv = self.server
        return {
            "accounts": srv.query("SELECT id, email, server_url, status FROM accounts ORDER BY id"),
            "pairs": srv.query("SELECT id, source_calendar_id, target_calendar_id, direction, rules_json, "
                               "window_past_days, window_future_days, enabled FROM pairs ORDER BY id"),
            "feeds": srv.query("SELECT id FROM feeds ORDER BY id"),
            "users": srv.count("users"),
        }

    # ---- bodies

    def body_routes(self):
        return [
            ("POST", "/v1/accounts", self.account_body),
            ("POST", "/v1/pairs", {"source_calendar_id": self.src, "target_calendar_id": self.dst}),
            ("PATCH", "/v1/pairs/" + self.pair["id"], {"enabled": True}),
            ("POST", "/v1/feeds", {"calendar_ids": [self.src]}),
            ("POST", "/v1/pairs/%s/confirm" % self.pair["id"], {"deletions": "0" * 64}),
            ("PATCH", "/v1/accounts/" + self.account["id"], {"password": "x"}),
        ]

    def test_every_body_route_is_in_the_spec(self):
        documented = sorted((m, t) for m, t, op in cg.spec().operations() if "requestBody" in op)
        self.assertEqual(documented, sorted([("POST", "/v1/accounts"), ("POST", "/v1/pairs"), ("PATCH", "/v1/accounts/{id}"),
                                             ("PATCH", "/v1/pairs/{id}"), ("POST", "/v1/feeds"),
                                             ("POST", "/v1/pairs/{id}/confirm"),
                                             # the availability page's PIN form: tested in test_availability
                                             ("POST", "/availability/{token}"),
                                             # Graph's notifications: tested below, they answer Graph's way
                                             ("POST", "/webhooks/microsoft"), ("POST", "/webhooks/microsoft/lifecycle")]))

    def test_webhook_bodies(self):
        # anyone can post to the webhooks: garbage is refused with push-rejected, never a 5xx, never work
        deep = "[" * 200 + "]" * 200
        for path in ("/webhooks/microsoft", "/webhooks/microsoft/lifecycle"):
            for raw in ('{"a":', "", "not json", "[]", '{"value": {}}', '{"value": []}', deep, "\xff\xfe",
                        '{"value": [42]}', '{"value": [{"clientState": 1}]}'):
                with self.subTest(path=path, body=raw[:20]):
                    r = self.api.request("POST", path, raw.encode("latin-1"), content_type="application/json")
                    self.assertIn(r.status, (400, 401), r)
                    self.assertEqual(r.problem_type, "push-rejected", r)
            with self.subTest(path=path, body="too long a validation token"):
                r = self.api.request("POST", path, b"", content_type="text/plain", query={"validationToken": "x" * 1025})
                self.assertProblem(r, 400, "push-rejected")
        for raw in ("x", '{"a": 1}'):
            r = self.api.request("POST", "/webhooks/google", raw.encode(), content_type="application/json")
            self.assertProblem(r, 400, "push-rejected")

    def test_malformed_and_non_object_json(self):
        deep = "[" * 200 + "]" * 200
        deep_obj = '{"enabled":' + '{"a":' * 200 + "1" + "}" * 200 + "}"
        for method, path, _ in self.body_routes():
            for raw in ('{"a":', "{", "", "not json", '{"a":1,}', "[]", "[1]", '"text"', "42", "null", "true",
                        deep, "\xff\xfe", '{"a":1}{"b":2}'):
                with self.subTest(route="%s %s" % (method, path), body=raw[:20]):
                    r = self.api.request(method, path, raw.encode("latin-1"), content_type="application/json")
                    self.assertProblem(r, 400, "invalid-json")
            with self.subTest(route="%s %s" % (method, path), body="deep object"):
                r = self.api.request(method, path, deep_obj, content_type="application/json")
                self.assertEqual(r.status, 400, r)
                self.assertIn(r.problem_type, ("invalid-json", "unknown-field", "invalid-field"), r)

    def test_unknown_fields(self):
        for method, path, good in self.body_routes():
            for extra, field in (({"nonsense": 1}, "nonsense"), ({"password_hash": "x"}, "password_hash"),
                                 ({"id": "x"}, "id"), ({"user_id": self.user["id"]}, "user_id")):
                with self.subTest(route="%s %s" % (method, path), field=field):
                    r = self.api.request(method, path, json_body=dict(good, **extra))
                    self.assertProblem(r, 400, "unknown-field", field)
        nested = [
            ("POST", "/v1/pairs", {"source_calendar_id": self.src, "target_calendar_id": self.dst,
                                   "rules": {"mode": "private", "colour": "red"}}, "rules.colour"),
            ("POST", "/v1/pairs", {"source_calendar_id": self.src, "target_calendar_id": self.dst,
                                   "window": {"past_days": 1, "weeks": 2}}, "window.weeks"),
            ("PATCH", "/v1/pairs/" + self.pair["id"], {"rules": {"secret": True}}, "rules.secret"),
            ("POST", "/v1/feeds", {"calendar_ids": [self.src], "window": {"months": 1}}, "window.months"),
        ]
        for method, path, body, field in nested:
            with self.subTest(route="%s %s" % (method, path), field=field):
                self.assertProblem(self.api.request(method, path, json_body=body), 400, "unknown-field", field)

    def test_missing_fields(self):
        acc = self.account_body
        cases = [
            ("/v1/accounts", {k: v for k, v in acc.items() if k != "provider"}, "provider"),
            ("/v1/accounts", {k: v for k, v in acc.items() if k != "server_url"}, "server_url"),
            ("/v1/accounts", {k: v for k, v in acc.items() if k != "username"}, "username"),
            ("/v1/accounts", {k: v for k, v in acc.items() if k != "password"}, "password"),
            ("/v1/accounts", dict({k: v for k, v in acc.items() if k != "email"}, username="alice"), "email"),
            ("/v1/pairs", {"target_calendar_id": self.dst}, "source_calendar_id"),
            ("/v1/pairs", {"source_calendar_id": self.src}, "target_calendar_id"),
            ("/v1/feeds", {"label": "x"}, "calendar_ids"),
            ("/v1/feeds", {}, "calendar_ids"),
        ]
        for path, body, field in cases:
            with self.subTest(path=path, field=field):
                self.assertProblem(self.api.post(path, body), 400, "missing-field", field)

    def test_wrong_types_and_values(self):
        acc, src, dst = self.account_body, self.src, self.dst
        pair = {"source_calendar_id": src, "target_calendar_id": dst}
        cases = [
            ("POST", "/v1/accounts", dict(acc, provider=1), "provider"),
            ("POST", "/v1/accounts", dict(acc, provider="exchange"), "provider"),
            ("POST", "/v1/accounts", dict(acc, server_url=["http://x/"]), "server_url"),
            ("POST", "/v1/accounts", dict(acc, server_url="not a url"), "server_url"),
            ("POST", "/v1/accounts", dict(acc, server_url="http://x/" + "a" * 2048), "server_url"),
            ("POST", "/v1/accounts", dict(acc, username=""), "username"),
            ("POST", "/v1/accounts", dict(acc, username="u" * 257), "username"),
            ("POST", "/v1/accounts", dict(acc, username=None), "username"),
            ("POST", "/v1/accounts", dict(acc, password=""), "password"),
            ("POST", "/v1/accounts", dict(acc, password="p" * 1025), "password"),
            ("POST", "/v1/accounts", dict(acc, password=12345), "password"),
            ("POST", "/v1/accounts", dict(acc, email=False), "email"),
            ("POST", "/v1/accounts", dict(acc, email="not-an-email"), "email"),
            ("POST", "/v1/pairs", dict(pair, source_calendar_id=5), "source_calendar_id"),
            ("POST", "/v1/pairs", dict(pair, target_calendar_id={"id": dst}), "target_calendar_id"),
            ("POST", "/v1/pairs", dict(pair, direction="sideways"), "direction"),
            ("POST", "/v1/pairs", dict(pair, direction=1), "direction"),
            ("POST", "/v1/pairs", dict(pair, enabled="yes"), "enabled"),
            ("POST", "/v1/pairs", dict(pair, rules="private"), "rules"),
            ("POST", "/v1/pairs", dict(pair, rules={"mode": "secret"}), "rules.mode"),
            ("POST", "/v1/pairs", dict(pair, rules={"label": 7}), "rules.label"),
            ("POST", "/v1/pairs", dict(pair, rules={"description": "shred"}), "rules.description"),
            ("POST", "/v1/pairs", dict(pair, rules={"location": True}), "rules.location"),
            ("POST", "/v1/pairs", dict(pair, rules={"show_as": "invisible"}), "rules.show_as"),
            ("POST", "/v1/pairs", dict(pair, rules={"attendees": "all"}), "rules.attendees"),
            ("POST", "/v1/pairs", dict(pair, window=[1, 2]), "window"),
            ("POST", "/v1/pairs", dict(pair, window={"past_days": -1}), "window.past_days"),
            ("POST", "/v1/pairs", dict(pair, window={"past_days": 3651}), "window.past_days"),
            ("POST", "/v1/pairs", dict(pair, window={"past_days": 1.5}), "window.past_days"),
            ("POST", "/v1/pairs", dict(pair, window={"past_days": "10"}), "window.past_days"),
            ("POST", "/v1/pairs", dict(pair, window={"future_days": 0}), "window.future_days"),
            ("POST", "/v1/pairs", dict(pair, window={"future_days": 3651}), "window.future_days"),
            ("PATCH", "/v1/pairs/" + self.pair["id"], {"enabled": 0}, "enabled"),
            ("PATCH", "/v1/pairs/" + self.pair["id"], {"direction": "both"}, "direction"),
            ("PATCH", "/v1/pairs/" + self.pair["id"], {"window": {"past_days": 99999}}, "window.past_days"),
            ("PATCH", "/v1/pairs/" + self.pair["id"], {"rules": {"mode": None}}, "rules.mode"),
            ("POST", "/v1/feeds", {"calendar_ids": []}, "calendar_ids"),
            ("POST", "/v1/feeds", {"calendar_ids": src}, "calendar_ids"),
            ("POST", "/v1/feeds", {"calendar_ids": [src] * 21}, "calendar_ids"),
            ("POST", "/v1/feeds", {"calendar_ids": [5]}, "calendar_ids.0"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "label": "x" * 101}, "label"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "label": 3}, "label"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "pin": 1234}, "pin"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "pin": "123"}, "pin"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "pin": "1234567890123"}, "pin"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "pin": "12a4"}, "pin"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "window": {"past_days": 91}}, "window.past_days"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "window": {"past_days": -1}}, "window.past_days"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "window": {"future_days": 367}}, "window.future_days"),
            ("POST", "/v1/feeds", {"calendar_ids": [src], "window": {"future_days": 0}}, "window.future_days"),
        ]
        for method, path, body, field in cases:
            with self.subTest(route="%s %s" % (method, path), body=json.dumps(body)[:120]):
                r = self.api.request(method, path, json_body=body)
                self.assertProblem(r, 400, "invalid-field")
                # calendar_ids.0 or calendar_ids[0]: accept either spelling of the element.
                got = r.json.get("field", "").replace("[", ".").replace("]", "").replace("/", ".")
                self.assertIn(got, (field, field.split(".")[0]) if field.endswith(".0") else (field,), r)

    def test_oversize_bodies(self):
        for method, path, good in self.body_routes():
            body = dict(good)
            key = "label" if path == "/v1/feeds" else "username" if path == "/v1/accounts" else "nonsense"
            body[key] = "x" * (64 * 1024 + 1)
            with self.subTest(route="%s %s" % (method, path)):
                self.assertProblem(self.api.request(method, path, json_body=body), 413, "body-too-large")
            with self.subTest(route="%s %s" % (method, path), size="exactly over 64 KiB of spaces"):
                raw = json.dumps(good) + " " * (64 * 1024 + 1 - len(json.dumps(good)))
                self.assertEqual(len(raw), 64 * 1024 + 1)
                self.assertProblem(self.api.request(method, path, raw, content_type="application/json"),
                                   413, "body-too-large")

    def test_wrong_content_type(self):
        for method, path, good in self.body_routes():
            for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/xml", None):
                with self.subTest(route="%s %s" % (method, path), content_type=ctype):
                    headers = {} if ctype is None else {"Content-Type": ctype}
                    r = self.api.request(method, path, json.dumps(good), headers=headers)
                    self.assertProblem(r, 415, "unsupported-media-type")
            with self.subTest(route="%s %s" % (method, path), content_type="charset parameter"):
                r = self.api.request(method, path, json.dumps(good), content_type="application/json; charset=utf-8")
                self.assertNotIn(r.status, (400, 413, 415), r)
                self.rollback(method, path, r)

    def rollback(self, method, path, r):
        """Undoes a request that was meant to succeed (so the table-level check still holds)."""
        if r.status == 201 and path == "/v1/feeds":
            self.assertStatus(self.api.delete("/v1/feeds/" + r.json["id"]), 204)
            self.before["feeds"] = self.state()["feeds"]
        elif r.status == 201 and path == "/v1/accounts":
            self.fail("account created twice: %r" % r)
        elif r.status == 201 and path == "/v1/pairs":
            self.fail("pair created twice: %r" % r)

    def test_bad_query_parameters(self):
        pid = self.pair["id"]
        for value in ("0", "51", "abc", "-5", "1.5", ""):
            with self.subTest(limit=value):
                self.assertProblem(self.api.get("/v1/pairs/%s/preview" % pid, query={"limit": value}), 400,
                                   "invalid-query")
        for value in ("maybe", "1", "yes"):
            with self.subTest(refresh=value):
                self.assertProblem(self.api.get("/v1/accounts/%s/calendars" % self.account["id"],
                                                query={"refresh": value}), 400, "invalid-query")

    def test_bad_policy_domains(self):
        for domain in ("not_a_domain!", "a..b", "-x.com", "x" * 64 + ".com", ("a" * 60 + ".") * 5 + "com",
                       "%00example.com"):
            with self.subTest(domain=domain):
                path = "/v1/policy/" + (domain if domain.startswith("%") else urllib.parse.quote(domain, safe=""))
                self.assertProblem(self.api.get(path), 400, "invalid-field", "domain")

    # ---- semantic refusals

    def test_pair_semantics(self):
        base = {"source_calendar_id": self.src, "target_calendar_id": self.dst}
        self.assertProblem(self.api.post("/v1/pairs", base), 409, "pair-exists")
        self.assertProblem(self.api.post("/v1/pairs", {"source_calendar_id": self.src,
                                                       "target_calendar_id": self.src}), 422, "same-calendar")
        r = self.api.post("/v1/pairs", dict(base, source_calendar_id=FAKE_CAL))
        self.assertProblem(r, 422, "unknown-calendar", "source_calendar_id")
        r = self.api.post("/v1/pairs", dict(base, target_calendar_id=FAKE_CAL))
        self.assertProblem(r, 422, "unknown-calendar", "target_calendar_id")
        r = self.api.post("/v1/pairs", dict(base, target_calendar_id="not-an-id"))
        self.assertIn((r.status, r.problem_type), ((422, "unknown-calendar"), (400, "invalid-field")), r)
        self.assertProblem(self.api.post("/v1/pairs/%s/confirm" % self.pair["id"]), 409,
                           "not-waiting-for-confirmation")
        r = self.api.post("/v1/feeds", {"calendar_ids": [self.src, FAKE_CAL]})
        self.assertProblem(r, 422, "unknown-calendar")

    def test_account_exists(self):
        self.assertProblem(self.api.post("/v1/accounts", self.account_body), 409, "account-exists")
        # The email is compared case-insensitively.
        r = self.api.post("/v1/accounts", dict(self.account_body, email="ALICE@Example.com"))
        self.assertProblem(r, 409, "account-exists")

    def test_account_connect_failures(self):
        body = dict(self.account_body, email="other-%s@example.com" % uuid.uuid4().hex[:6])
        cases = [
            ("closed loopback port", dict(body, server_url="http://127.0.0.1:%d/" % cg.closed_port()), 422,
             ("caldav-unreachable",)),
            ("ftp scheme", dict(body, server_url="ftp://127.0.0.1/"), None, ("invalid-field", "address-not-allowed")),
            ("file scheme", dict(body, server_url="file:///etc/passwd"), None, ("invalid-field", "address-not-allowed")),
            ("google", dict(body, provider="google"), 422, ("provider-not-supported",)),
            ("microsoft", dict(body, provider="microsoft"), 422, ("provider-not-supported",)),
            ("not CalDAV", dict(body, server_url=self.plain_web_server()), 422, ("caldav-discovery-failed",)),
            # The address selects the organisation policy: it must be in the login's domain.
            ("email in another domain than the login",
             dict(body, username="alice@corp.example", email="alice@elsewhere.example"), 422, ("domain-mismatch",)),
            ("query in the server URL", dict(body, server_url=self.dav.base + "?x=1"), 400, ("invalid-field",)),
        ]
        if self.dav.name == "radicale":
            cases.append(("wrong password", dict(body, password="wrong-password"), 422, ("caldav-unauthorized",)))
            cases.append(("unknown user", dict(body, username="mallory"), 422, ("caldav-unauthorized",)))
        for name, b, status, slugs in cases:
            with self.subTest(case=name):
                r = self.api.post("/v1/accounts", b)
                if status is not None:
                    self.assertEqual(r.status, status, r)
                else:
                    self.assertIn(r.status, (400, 422), r)
                self.assertIn(r.problem_type, slugs, r)
                self.assertEqual({400: "invalid-field"}.get(r.status, r.problem_type), r.problem_type, r)
                self.assertNotIn(b["password"], r.text)
        self.assertNotIn("wrong-password", self.server.log_text(), "a password is in the server log")

    def plain_web_server(self):
        """A loopback web server that is not CalDAV: every request gets a small HTML page (PROPFIND 405)."""
        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self, status):
                body = b"<html><body>just a web site</body></html>"
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.answer(200)

            def do_PROPFIND(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.answer(405)

            do_OPTIONS = do_GET
            do_REPORT = do_PROPFIND

            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return "http://127.0.0.1:%d/" % server.server_address[1]

    def test_private_addresses_refused_when_not_allowed(self):
        strict = cg.Calgate(extra_env={"CALGATE_SYNC_ALLOW_PRIVATE_NETWORKS": "false"}, name="strict").start()
        try:
            user = strict.add_user()
            api = strict.client(user["token"])
            port = int(self.dav.base.rsplit(":", 1)[1].strip("/"))
            for url in (self.dav.base, "http://localhost:%d/" % port, "http://[::1]:%d/" % port,
                        "http://127.1:%d/" % port, "http://0.0.0.0:%d/" % port, "http://169.254.169.254/",
                        "http://10.0.0.1:%d/" % cg.closed_port(), "http://192.168.0.1/",
                        "http://2130706433:%d/" % port):
                with self.subTest(url=url):
                    r = api.post("/v1/accounts", dict(self.account_body, server_url=url))
                    self.assertProblem(r, 422, "address-not-allowed")
            # clear text is refused before anything is sent, even to a public host
            r = api.post("/v1/accounts", dict(self.account_body, server_url="http://calendar.example.com/dav/"))
            self.assertProblem(r, 422, "address-not-allowed")
            self.assertIn("https://", r.json["detail"])
            self.assertEqual(strict.count("accounts"), 0)
        finally:
            strict.cleanup()


class RateLimitTest(cg.ApiTestCase):

    def test_per_token_rate_limit(self):
        srv = cg.Calgate(extra_env={"CALGATE_SERVER_RATE_LIMIT_PER_MINUTE": "5"}, name="ratelimit").start()
        self.addCleanup(srv.cleanup)
        one, two = srv.add_user(), srv.add_user()  # add_user itself makes one GET /v1/me each
        api1, api2 = srv.client(one["token"]), srv.client(two["token"])
        answers = [api1.get("/v1/me") for _ in range(4)]
        for a in answers:
            self.assertStatus(a, 200)
        r = api1.get("/v1/accounts")
        self.assertProblem(r, 429, "rate-limited")
        retry = r.header("Retry-After")
        self.assertTrue(retry and retry.isdigit() and 1 <= int(retry) <= 60, r.headers)
        self.assertStatus(api2.get("/v1/me"), 200)
        self.assertProblem(api1.get("/v1/me"), 429, "rate-limited")
        # Unauthenticated endpoints are not counted against tokens.
        self.assertStatus(srv.client().get("/healthz"), 200)


if __name__ == "__main__":
    unittest.main()
