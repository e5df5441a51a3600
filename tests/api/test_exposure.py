"""What strangers can do to a gateway, through the real binary: /metrics answers only with its
token (or only on loopback without one); a flood of random feed tokens neither unlocks a limited
feed nor crowds real feeds out; a stranger's wrong PINs lock out the stranger, not the owner's
viewers (clients told apart by address, through a trusted proxy's X-Forwarded-For)."""

import uuid

import calgate_api as cg

METRICS_TOKEN = "metrics-" + uuid.uuid4().hex


class ExposureTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="exposure", extra_env={
            "CALGATE_SERVER_METRICS_TOKEN": METRICS_TOKEN,
            "CALGATE_SERVER_TRUSTED_PROXIES": "127.0.0.1, ::1",
            "CALGATE_SERVER_RATE_LIMIT_PER_MINUTE": "8"}).start()
        cls.addClassCleanup(cls.server.cleanup)

    def test_metrics_need_the_token(self):
        anonymous = self.server.client()
        self.assertProblem(anonymous.get("/metrics"), 401, "unauthorized")
        self.assertProblem(anonymous.get("/metrics", token="wrong-" + METRICS_TOKEN), 401, "unauthorized")
        r = anonymous.get("/metrics", token=METRICS_TOKEN)
        self.assertStatus(r, 200)
        self.assertIn("calgate_http_requests_total", r.text)
        self.assertNotIn(METRICS_TOKEN, self.server.log_text())

    def test_strangers_do_not_reach_real_feeds(self):
        server = self.server
        user = server.add_user()
        api = server.client(user["token"])
        src_url = self.dav.make_calendar(cg.unique("exp-"))
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                      "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                      "email": "exposure@example.com"})
        self.assertStatus(r, 201)
        cal = cg.calendar_for(r.json["calendars"], src_url)
        limited = api.post("/v1/feeds", {"calendar_ids": [cal["id"]]}).json["url"]
        viewer = server.client()
        answers = [viewer.get(limited).status for _ in range(9)]
        self.assertEqual(answers[-1], 429, answers)  # 8 a minute

        # a flood of random (well-formed) tokens from a stranger's address
        stranger = {"X-Forwarded-For": "203.0.113.66"}
        statuses = set()
        for _ in range(300):
            bogus = "/feeds/cgf_%s.ics" % (uuid.uuid4().hex + uuid.uuid4().hex)[:43]
            statuses.add(viewer.get(bogus, headers=stranger).status)
        self.assertEqual(statuses, {404, 429}, statuses)  # the guesser is slowed down...
        self.assertProblem(viewer.get(limited), 429, "rate-limited")  # ...and the limited feed stays limited
        # other clients' unknown-token lookups are not slowed down by the stranger's
        self.assertEqual(viewer.get("/feeds/cgf_%s.ics" % (uuid.uuid4().hex + uuid.uuid4().hex)[:43],
                                    headers={"X-Forwarded-For": "198.51.100.9"}).status, 404)

    def test_wrong_pins_lock_out_only_whoever_guessed(self):
        server = self.server
        user = server.add_user()
        api = server.client(user["token"])
        src_url = self.dav.make_calendar(cg.unique("pin-"))
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                      "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                      "email": "pins@example.com"})
        self.assertStatus(r, 201)
        cal = cg.calendar_for(r.json["calendars"], src_url)
        r = api.post("/v1/feeds", {"calendar_ids": [cal["id"]], "pin": "24682468"})
        self.assertStatus(r, 201)
        url = r.json["url"]
        anyone = server.client()
        stranger = {"X-Forwarded-For": "203.0.113.66"}
        codes = [anyone.get(url, headers=dict(stranger, **{"X-Feed-Pin": "0000%d" % i})).problem_type
                 for i in range(5)]
        self.assertEqual(codes[-1], "pin-locked", codes)
        self.assertProblem(anyone.get(url, headers=dict(stranger, **{"X-Feed-Pin": "24682468"})), 429, "pin-locked")
        # the owner's viewers, elsewhere, still get in with the PIN
        viewer = {"X-Forwarded-For": "198.51.100.7", "X-Feed-Pin": "24682468"}
        self.assertStatus(anyone.get(url, headers=viewer), 200)
