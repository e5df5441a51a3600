"""Budgets against a hostile CalDAV server (slow_dav.py in front of a real one), through the real
binary: a 200 MiB listing, a listing that answers "truncated" forever, and a series of 100,000
occurrences each end in a clear error kept on the pair (or the feed's problem document), with
calgate's memory bounded and nothing deleted from the target. Per-user limits answer 409.
Peak RSS is printed (stderr) for the record."""

import sys

import calgate_api as cg
from slow_dav import SlowDav

EVENT = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
         "DTSTAMP:20261201T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\n%sSUMMARY:Budget %s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


def event(uid, day, extra=""):
    return EVENT % (uid, "202612%02dT090000Z" % day, "202612%02dT100000Z" % day, extra, uid)


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class BudgetTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.hostile = SlowDav(cls.dav.base)
        cls.addClassCleanup(cls.hostile.close)
        cls.server = cg.Calgate(name="budgets", extra_env={"CALGATE_LIMITS_PAIRS_PER_USER": "2",
                                                           "CALGATE_LIMITS_FEEDS_PER_USER": "1",
                                                           "CALGATE_LIMITS_FEED_BLOCKS": "1000"}).start()
        cls.addClassCleanup(cls.server.cleanup)

    def status(self, api, pair_id):
        r = api.get("/v1/pairs/%s/status" % pair_id)
        self.assertStatus(r, 200)
        return r.json

    def sync_and_wait(self, api, pair_id, done):
        self.assertStatus(api.post("/v1/pairs/%s/sync" % pair_id), 202)
        return cg.wait_until(lambda: (lambda s: s if done(s) else None)(self.status(api, pair_id)),
                             timeout=90, what="the pair's run")

    def test_hostile_listings_and_huge_series_end_in_clear_errors_with_bounded_memory(self):
        server, dav, hostile = self.server, self.dav, self.hostile
        user = server.add_user()
        api = server.client(user["token"])
        src_url = dav.make_calendar(cg.unique("budget-src-"))
        dst_url = dav.make_calendar(cg.unique("budget-dst-"))
        for i in range(3):
            dav.put(src_url, "b%d" % i, event("b%d" % i, 3 + i))
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": hostile.base,
                                      "username": dav.user or "user", "password": dav.password or "pw",
                                      "email": "budget@example.com"})
        self.assertStatus(r, 201)
        src = cg.calendar_for(r.json["calendars"], src_url.replace(dav.base, hostile.base))
        dst = cg.calendar_for(r.json["calendars"], dst_url.replace(dav.base, hostile.base))
        r = api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"]})
        self.assertStatus(r, 201)
        pair_id = r.json["id"]
        first = cg.wait_until(lambda: (lambda s: s if s["last_success_at"] else None)(self.status(api, pair_id)),
                              timeout=60, what="the first sync")
        copies = set(dav.events(dst_url))
        self.assertEqual(len(copies), 3)
        last_ok = first["last_success_at"]

        for n, (mode, expected) in enumerate((("huge", "larger than 16 MiB"),
                                              ("loop507", "truncated (507) without listing anything new"))):
            with self.subTest(mode=mode):
                dav.put(src_url, "new%d" % n, event("new%d" % n, 10 + n))  # the calendar changed: it is listed
                hostile.mode = mode
                failed = self.sync_and_wait(api, pair_id, lambda s: s["last_error"])
                hostile.mode = None
                self.assertIn(expected, failed["last_error"])
                self.assertEqual(failed["last_success_at"], last_ok)
                self.assertEqual(set(dav.events(dst_url)), copies, "nothing deleted, nothing added")
                listed = server.admin("pairs", "list", "--json").stdout
                self.assertIn(expected.split(" (")[0][:20], listed)
                recovered = self.sync_and_wait(api, pair_id, lambda s: not s["last_error"])
                self.assertIsNone(recovered["last_error"])
                last_ok = recovered["last_success_at"]
                copies = set(dav.events(dst_url))
                self.assertEqual(len(copies), 4 + n)

        # a series of 100,000 occurrences: copied as one series (never expanded for a target);
        # a feed would have to expand it and answers that it cannot, rather than show a part
        dav.put(src_url, "flood", event("flood", 20, "RRULE:FREQ=MINUTELY;COUNT=100000\r\n"))
        # (waited for by its copy: run times are whole seconds, so a quick run can end in the
        # second of the one before)
        self.assertStatus(api.post("/v1/pairs/%s/sync" % pair_id), 202)
        cg.wait_until(lambda: len(dav.events(dst_url)) == len(copies) + 1, timeout=90, what="the series' copy")
        synced = cg.wait_until(lambda: (lambda s: s if not s["job"]["running"] and not s["job"]["queued"] else None)(
            self.status(api, pair_id)), timeout=30, what="the run to end")
        self.assertIsNone(synced["last_error"])
        r = api.post("/v1/feeds", {"calendar_ids": [src["id"]]})
        self.assertStatus(r, 201)
        feed = server.client().get(r.json["url"])
        self.assertProblem(feed, 503, "feed-too-large")
        self.assertIn("more than 1000 busy blocks", feed.json["detail"])
        self.assertEqual(synced["counts"]["deleted"], 0)

        peak = peak_rss_kib(server.proc.pid)
        sys.stderr.write("calgate peak RSS after a 200 MiB listing, a 507 loop and a 100,000-occurrence series: "
                         "%.1f MiB\n" % (peak / 1024.0))
        self.assertLess(peak, 160 * 1024, "calgate held the hostile listing in memory")

    def test_per_user_limits(self):
        server, dav = self.server, self.dav
        user = server.add_user()
        api = server.client(user["token"])
        urls = [dav.make_calendar(cg.unique("limit-%d-" % i)) for i in range(4)]
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": dav.base,
                                      "username": dav.user or "user", "password": dav.password or "pw",
                                      "email": "limits@example.com"})
        self.assertStatus(r, 201)
        cals = [cg.calendar_for(r.json["calendars"], u)["id"] for u in urls]
        for i in range(2):
            self.assertStatus(api.post("/v1/pairs", {"source_calendar_id": cals[2 * i],
                                                     "target_calendar_id": cals[2 * i + 1], "enabled": False}), 201)
        r = api.post("/v1/pairs", {"source_calendar_id": cals[1], "target_calendar_id": cals[2], "enabled": False})
        self.assertProblem(r, 409, "limit-reached")
        self.assertIn("limits.pairs_per_user", r.json["detail"])
        self.assertStatus(api.post("/v1/feeds", {"calendar_ids": [cals[0]]}), 201)
        r = api.post("/v1/feeds", {"calendar_ids": [cals[1]]})
        self.assertProblem(r, 409, "limit-reached")
        # a revoked feed no longer counts
        feed_id = api.get("/v1/feeds").json["feeds"][0]["id"]
        self.assertStatus(api.delete("/v1/feeds/" + feed_id), 204)
        self.assertStatus(api.post("/v1/feeds", {"calendar_ids": [cals[1]]}), 201)
