"""One user's slow calendar server never slows anyone else down. A CalDAV server that drips its
listings (slow_dav.py) backs one user's feed and pair; that user fires 20 feed and preview requests
at once. While the slow server still holds its connections, /healthz, /readyz and another user's
API calls are answered; the slow user's surplus requests get 429 problem documents at once, and
the ones that did wait end within the outbound budget (503), never hanging. Latencies are measured
by bench/isolation_bench.py, not asserted here."""

import concurrent.futures
import time

import calgate_api as cg
from slow_dav import SlowDav

BUDGET_SECONDS = 6


class IsolationTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.slow = SlowDav(cls.dav.base, drip_seconds=20)
        cls.addClassCleanup(cls.slow.close)
        cls.server = cg.Calgate(name="isolation",
                                extra_env={"CALGATE_SERVER_OUTBOUND_BUDGET_SECONDS": str(BUDGET_SECONDS)}).start()
        cls.addClassCleanup(cls.server.cleanup)

    def test_a_slow_server_holds_only_its_own_user(self):
        server = self.server
        slow_user, other = server.add_user(), server.add_user()
        slow_api, other_api = server.client(slow_user["token"]), server.client(other["token"])
        src_url = self.dav.make_calendar(cg.unique("iso-src-"))
        dst_url = self.dav.make_calendar(cg.unique("iso-dst-"))
        self.dav.put(src_url, "iso-1", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                                       "UID:iso-1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261203T090000Z\r\n"
                                       "DTEND:20261203T100000Z\r\nSUMMARY:Secret\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        r = slow_api.post("/v1/accounts", {"provider": "caldav", "server_url": self.slow.base,
                                           "username": self.dav.user or "user",
                                           "password": self.dav.password or "pw", "email": "slow@example.com"})
        self.assertStatus(r, 201)
        src = cg.calendar_for(r.json["calendars"], src_url.replace(self.dav.base, self.slow.base))
        dst = cg.calendar_for(r.json["calendars"], dst_url.replace(self.dav.base, self.slow.base))
        r = slow_api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"]})
        self.assertStatus(r, 201)
        pair_id = r.json["id"]
        r = slow_api.post("/v1/feeds", {"calendar_ids": [src["id"]]})
        self.assertStatus(r, 201)
        feed_url = r.json["url"]
        anonymous = server.client()

        self.slow.drip = True
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            def timed(call):
                t0 = time.monotonic()
                resp = call()
                return resp, time.monotonic() - t0
            calls = [pool.submit(timed, lambda: anonymous.get(feed_url)) for _ in range(10)]
            calls += [pool.submit(timed, lambda: slow_api.get("/v1/pairs/%s/preview" % pair_id)) for _ in range(10)]
            cg.wait_until(lambda: self.slow.holding > 0, timeout=10, what="the slow server dripping an answer")

            # everyone else is served meanwhile, while the slow server still holds its connections
            for name, call in (("healthz", lambda: anonymous.get("/healthz")),
                               ("readyz", lambda: anonymous.get("/readyz")),
                               ("other user's /v1/me", lambda: other_api.get("/v1/me")),
                               ("other user's accounts", lambda: other_api.get("/v1/accounts")),
                               ("the slow user's own /v1/me", lambda: slow_api.get("/v1/me"))):
                with self.subTest(call=name):
                    resp, seconds = timed(call)
                    self.assertStatus(resp, 200)
                    self.assertLess(seconds, BUDGET_SECONDS, "%s waited for the slow server" % name)
            self.assertGreater(self.slow.holding, 0, "the slow server was done before the checks")

            answers = [c.result(timeout=60) for c in calls]
        self.slow.drip = False
        statuses = sorted(resp.status for resp, _ in answers)
        # two requests per feed and per user may wait on calendar servers; the rest are refused at once
        refused = [(resp, s) for resp, s in answers if resp.status == 429]
        self.assertGreaterEqual(len(refused), 14, statuses)
        for resp, seconds in refused:
            self.assertEqual(resp.problem_type, "too-many-in-flight", resp)
            self.assertTrue(resp.header("Retry-After"), resp)
            self.assertLess(seconds, BUDGET_SECONDS, "a refusal waited")
        # those that waited ended within the budget with a problem document (the listing drips for 20 s)
        for resp, seconds in answers:
            if resp.status == 429:
                continue
            self.assertIn(resp.status, (502, 503), resp)
            self.assertIn(resp.problem_type, ("feed-too-slow", "calendar-too-slow", "feed-rendering",
                                              "feed-source-unavailable", "calendar-unavailable"), resp)
            self.assertLess(seconds, BUDGET_SECONDS + 10, resp)
        self.assertLess(time.monotonic() - started, 45)
        # a failed render is remembered for half a minute: asking again waits on nothing
        resp, seconds = (lambda t0: (anonymous.get(feed_url), time.monotonic() - t0))(time.monotonic())
        self.assertIn(resp.status, (502, 503), resp)
        self.assertLess(seconds, 2)
        self.assertIn("http.request", server.log_text())
