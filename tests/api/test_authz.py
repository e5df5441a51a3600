"""Users cannot see or touch each other's data, and every /v1 route refuses a missing, garbage or
revoked token with the same 401 body. Driven by openapi.yaml: every documented route is covered."""

import json
import re
import unittest
import uuid

import calgate_api as cg

# Bodies that would be accepted if the ids were the caller's (so only ownership decides).
VALID_BODY = {
    ("PATCH", "/v1/pairs/{id}"): {"enabled": False},
    ("POST", "/v1/accounts"): {"provider": "caldav", "server_url": "http://127.0.0.1:9/", "username": "x",
                               "password": "y", "email": "x@example.com"},
    ("POST", "/v1/pairs"): {"source_calendar_id": "cal_" + "a" * 26, "target_calendar_id": "cal_" + "b" * 26},
    ("POST", "/v1/feeds"): {"calendar_ids": ["cal_" + "a" * 26]},
}


class AuthzTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="authz").start()
        cls.addClassCleanup(cls.server.cleanup)
        srv = cls.server
        cls.a = srv.add_user("owner-%s@example.com" % uuid.uuid4().hex[:8])
        cls.b = srv.add_user("intruder-%s@example.com" % uuid.uuid4().hex[:8])
        cls.api_a = srv.client(cls.a["token"])
        cls.api_b = srv.client(cls.b["token"])
        # A revoked token of B's.
        extra = srv.add_token(cls.b["email"], "to-revoke")
        srv.revoke_token(extra["token_id"])
        cls.revoked_token = extra["token"]

        src = cls.dav.make_calendar(cg.unique("authz-src-"))
        dst = cls.dav.make_calendar(cg.unique("authz-dst-"))

        def connect(api, email):
            r = api.post("/v1/accounts", {"provider": "caldav", "server_url": cls.dav.base,
                                          "username": cls.dav.user or "user",
                                          "password": cls.dav.password or "pw", "email": email})
            assert r.status == 201, r
            cals = r.json["calendars"]
            return r.json, cg.calendar_for(cals, src)["id"], cg.calendar_for(cals, dst)["id"]

        cls.account_a, cls.src_a, cls.dst_a = connect(cls.api_a, "owner-account@example.com")
        r = cls.api_a.post("/v1/pairs", {"source_calendar_id": cls.src_a, "target_calendar_id": cls.dst_a})
        assert r.status == 201, r
        cls.pair_a = r.json
        r = cls.api_a.post("/v1/feeds", {"calendar_ids": [cls.src_a], "pin": "123456"})
        assert r.status == 201, r
        cls.feed_a = r.json
        cls.account_b, cls.src_b, cls.dst_b = connect(cls.api_b, "intruder-account@example.com")

        cls.ids_of_a = {"acc": cls.account_a["id"], "par": cls.pair_a["id"], "fed": cls.feed_a["id"]}
        cls.secrets_of_a = [cls.account_a["id"], cls.pair_a["id"], cls.feed_a["id"], cls.src_a, cls.dst_a,
                            cls.a["email"], cls.a["id"], "owner-account@example.com", cls.feed_a["token"]]

    # ---- helpers

    def snapshot(self):
        """A's rows that no request of B's may change (volatile sync bookkeeping left out)."""
        srv, uid = self.server, self.a["id"]
        return {
            "users": srv.query("SELECT id, email, disabled_at FROM users WHERE id = ?", (uid,)),
            "tokens": srv.query("SELECT id, token_sha256, revoked_at FROM api_tokens WHERE user_id = ?", (uid,)),
            "accounts": srv.query("SELECT id, email, server_url, status, credential_ciphertext FROM accounts "
                                  "WHERE user_id = ?", (uid,)),
            "calendars": srv.query("SELECT c.id, c.provider_calendar_id, c.writable FROM calendars c JOIN accounts a "
                                   "ON a.id = c.account_id WHERE a.user_id = ? ORDER BY c.id", (uid,)),
            "pairs": srv.query("SELECT id, source_calendar_id, target_calendar_id, direction, rules_json, "
                               "window_past_days, window_future_days, enabled, needs_confirmation FROM pairs "
                               "WHERE user_id = ?", (uid,)),
            "feeds": srv.query("SELECT id, token_sha256, label, calendar_ids_json, pin_scrypt, pin_failures, "
                               "revoked_at FROM feeds WHERE user_id = ?", (uid,)),
        }

    def concrete(self, template):
        kind = None
        if template.startswith("/v1/accounts/{id}"):
            kind = "acc"
        elif template.startswith("/v1/pairs/{id}"):
            kind = "par"
        elif template.startswith("/v1/feeds/{id}"):
            kind = "fed"
        path = template.replace("{id}", self.ids_of_a[kind]) if kind else template
        return path.replace("{domain}", "example.com").replace("{token}", self.feed_a["token"])

    def send(self, client, method, template, **kw):
        path = self.concrete(template)
        return client.request(method, path, json_body=body_for(method, template), **kw)

    # ---- tests

    def test_other_users_path_ids_are_not_found(self):
        before = self.snapshot()
        routes = [(m, t) for m, t, op in cg.spec().operations() if t.startswith("/v1/") and "{id}" in t]
        self.assertGreaterEqual(len(routes), 12, routes)
        for method, template in routes:
            with self.subTest(route="%s %s" % (method, template)):
                r = self.send(self.api_b, method, template)
                self.assertProblem(r, 404, "not-found")
                self.assertNoneIn(self.secrets_of_a, r.text, "B's answer")
                # Exactly what an id that never existed gets.
                fake = re.sub(r"_[a-z2-7]{26}", "_" + "q" * 26, self.concrete(template))
                r2 = self.api_b.request(method, fake, json_body=body_for(method, template))
                self.assertEqual((r2.status, _strip(r2.json)), (r.status, _strip(r.json)))
        self.assertEqual(self.snapshot(), before, "B's requests changed A's data")
        # A still sees everything.
        self.assertStatus(self.api_a.get("/v1/accounts/" + self.account_a["id"]), 200)
        self.assertStatus(self.api_a.get("/v1/pairs/" + self.pair_a["id"]), 200)
        r = self.api_a.get("/v1/feeds/" + self.feed_a["id"])
        self.assertStatus(r, 200)
        self.assertIsNone(r.json["revoked_at"])

    def test_lists_show_only_own_resources(self):
        for path, key in (("/v1/accounts", "accounts"), ("/v1/pairs", "pairs"), ("/v1/feeds", "feeds")):
            r = self.api_b.get(path)
            self.assertStatus(r, 200)
            self.assertNoneIn(self.secrets_of_a, r.text, "B's " + path)
        r = self.api_b.get("/v1/me/export")
        self.assertStatus(r, 200)
        self.assertNoneIn(self.secrets_of_a, r.text, "B's export")
        self.assertEqual([a["id"] for a in r.json["accounts"]], [self.account_b["id"]])

    def test_other_users_calendar_ids_in_bodies_are_unknown(self):
        before = self.snapshot()
        pairs_before, feeds_before = self.server.count("pairs"), self.server.count("feeds")
        cases = [
            ("/v1/pairs", {"source_calendar_id": self.src_a, "target_calendar_id": self.dst_a}),
            ("/v1/pairs", {"source_calendar_id": self.src_b, "target_calendar_id": self.dst_a}),
            ("/v1/pairs", {"source_calendar_id": self.src_a, "target_calendar_id": self.dst_b}),
            ("/v1/feeds", {"calendar_ids": [self.src_a]}),
            ("/v1/feeds", {"calendar_ids": [self.src_b, self.dst_a]}),
        ]
        for path, body in cases:
            with self.subTest(path=path, body=body):
                r = self.api_b.post(path, body)
                self.assertProblem(r, 422, "unknown-calendar")
                self.assertNoneIn([self.a["email"], self.a["id"], self.account_a["id"]], r.text, "the answer")
                fake = json.loads(json.dumps(body).replace(self.src_a, "cal_" + "q" * 26)
                                  .replace(self.dst_a, "cal_" + "r" * 26))
                r2 = self.api_b.post(path, fake)
                self.assertEqual(r2.status, 422)
                self.assertEqual(_strip(r2.json, ids=True), _strip(r.json, ids=True),
                                 "another user's id answers like an unknown one")
        self.assertEqual((self.server.count("pairs"), self.server.count("feeds")), (pairs_before, feeds_before))
        self.assertEqual(self.snapshot(), before)

    def test_every_bearer_route_refuses_bad_tokens_alike(self):
        before = self.snapshot()
        bodies = set()
        ops = [(m, t) for m, t, op in cg.spec().operations() if cg.spec().is_authenticated(op)]
        self.assertGreaterEqual(len(ops), 20, ops)
        anon = self.server.client()
        for method, template in ops:
            for label, token in (("none", None), ("garbage", "cgt_garbage"), ("not bearer", Ellipsis),
                                 ("revoked", self.revoked_token), ("A's with junk", self.a["token"] + "x")):
                with self.subTest(route="%s %s" % (method, template), token=label):
                    if token is Ellipsis:
                        r = self.send(anon, method, template,
                                      headers={"Authorization": "Basic " + "YWxpY2U6YWxpY2U="})
                    else:
                        r = self.send(anon, method, template, token=token)
                    self.assertProblem(r, 401, "unauthorized")
                    self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="calgate"')
                    bodies.add(r.text)
        self.assertEqual(len(bodies), 1, bodies)
        self.assertEqual(self.snapshot(), before)
        self.assertStatus(self.api_a.get("/v1/me"), 200)

    def test_feed_token_is_the_only_key(self):
        # The feed of A's is reachable only with its token, never by id, and a B token does not help.
        anon = self.server.client()
        self.assertProblem(anon.get("/feeds/%s.ics" % self.feed_a["id"]), 404, "not-found")
        r = self.api_b.get(self.feed_a["url"], query={"pin": "123456"})
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "text/calendar")


def body_for(method, template):
    """A valid body for operations that take one, else None."""
    _, op = cg.spec().find(method, template)
    if op is None or "requestBody" not in op:
        return None
    return VALID_BODY.get((method, template), {})


def _strip(problem, ids=False):
    """A problem without what legitimately differs between two requests (instance = request id)."""
    p = {k: v for k, v in problem.items() if k != "instance"}
    if ids:
        p = json.loads(re.sub(r"cal_[a-z2-7]{26}", "cal_X", json.dumps(p)))
    return p


if __name__ == "__main__":
    unittest.main()
