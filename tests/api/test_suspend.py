"""Suspending a user (calgate-admin users disable|enable) through the real binary: the user's tokens
stop working at once, feeds answer like unknown ones, pairs are listed as suspended and never run;
reinstating restores all of it. Both are audited."""

import uuid

import calgate_api as cg


class SuspendTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="suspend").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.email = "suspend-%s@example.com" % uuid.uuid4().hex[:8]
        cls.user = cls.server.add_user(cls.email)
        cls.api = cls.server.client(cls.user["token"])

    def test_disable_and_enable(self):
        api, server = self.api, self.server
        src_url = self.dav.make_calendar(cg.unique("susp-src-"))
        dst_url = self.dav.make_calendar(cg.unique("susp-dst-"))
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                      "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                      "email": "alice@example.com"})
        self.assertStatus(r, 201)
        src = cg.calendar_for(r.json["calendars"], src_url)
        dst = cg.calendar_for(r.json["calendars"], dst_url)
        r = api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"]})
        self.assertStatus(r, 201)
        pair = r.json
        r = api.post("/v1/feeds", {"calendar_ids": [src["id"]]})
        self.assertStatus(r, 201)
        feed_url = r.json["url"]
        anonymous = server.client()
        self.assertStatus(anonymous.get(feed_url), 200)

        out = server.admin("users", "disable", self.email)
        self.assertIn("suspended", out.stdout)
        self.assertProblem(api.get("/v1/me"), 401, "unauthorized")
        self.assertEqual(anonymous.get(feed_url).status, 404)
        listed = server.admin("pairs", "list", "--json").stdout
        self.assertIn('"state": "suspended"', listed, listed)
        self.assertIn(pair["id"], listed)
        # disabling twice keeps the first suspension time; an unknown user is refused
        server.admin("users", "disable", self.email)
        unknown = server.admin("users", "disable", "nobody-%s@example.com" % uuid.uuid4().hex[:6], check=False)
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn("no user", unknown.stderr)

        out = server.admin("users", "enable", self.email)
        self.assertIn("reinstated", out.stdout)
        self.assertStatus(api.get("/v1/me"), 200)
        self.assertStatus(anonymous.get(feed_url), 200)
        self.assertIn('"state": "active"', server.admin("pairs", "list", "--json").stdout)
        audit = server.query("SELECT action, decision, actor FROM audit_log WHERE action LIKE 'user.%' ORDER BY seq")
        self.assertEqual([(a["action"], a["decision"], a["actor"]) for a in audit],
                         [("user.disable", "suspended", "admin"), ("user.disable", "suspended", "admin"),
                          ("user.enable", "reinstated", "admin")])
