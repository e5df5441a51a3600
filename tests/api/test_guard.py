"""The mass-delete guard over HTTP, against the real binary, its workers and a real CalDAV server:
the preview shows the plan the next run applies (the same steps), a run that would delete most
copies pauses the pair, the status and the preview name the held deletions by one digest, and a
confirmation is bound to it: another digest is refused, the right one lets exactly those
deletions through."""

import datetime
import uuid

import calgate_api as cg


def stamp(hours):
    t = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    return (t + datetime.timedelta(hours=hours)).strftime("%Y%m%dT%H%M%SZ")


def event(uid, hours):
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calgate tests//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
            "DTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:guard %s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            % (uid, stamp(0), stamp(hours), stamp(hours + 1), uid))


class GuardTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="guard").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.user = cls.server.add_user("guard-%s@example.com" % uuid.uuid4().hex[:8])
        cls.api = cls.server.client(cls.user["token"])
        cls.src_url = cls.dav.make_calendar(cg.unique("guard-src-"))
        cls.dst_url = cls.dav.make_calendar(cg.unique("guard-dst-"))
        cls.uids = ["g%02d-%s" % (i, uuid.uuid4().hex[:6]) for i in range(12)]
        for i, uid in enumerate(cls.uids):
            cls.dav.put(cls.src_url, uid, event(uid, 24 + i))

    def status(self, pair_id):
        r = self.api.get("/v1/pairs/%s/status" % pair_id)
        self.assertStatus(r, 200)
        return r.json

    def preview(self, pair_id, **query):
        r = self.api.get("/v1/pairs/%s/preview" % pair_id, query=dict({"limit": "50"}, **query))
        self.assertStatus(r, 200)
        return r.json

    def run_once(self, pair_id, done):
        """Queues a run and waits until `done(status)` holds."""
        self.assertStatus(self.api.post("/v1/pairs/%s/sync" % pair_id), 202)
        return cg.wait_until(lambda: (lambda s: s if done(s) else None)(self.status(pair_id)), timeout=60,
                             what="the pair's run")

    def test_guard_binds_the_confirmation_to_the_held_deletions(self):
        api = self.api
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                      "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                      "email": "alice@example.com"})
        self.assertStatus(r, 201)
        cals = r.json["calendars"]
        src, dst = cg.calendar_for(cals, self.src_url), cg.calendar_for(cals, self.dst_url)
        # Disabled at first, so the preview is looked at before any run.
        r = api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"],
                                   "rules": {"mode": "private"}, "enabled": False})
        self.assertStatus(r, 201)
        pair = r.json

        # 1. Before the first run: twelve creates, nothing held.
        p = self.preview(pair["id"])
        self.assertEqual(p["scope"], "next")
        self.assertEqual(p["counts"].get("create"), 12, p["counts"])
        self.assertFalse(p["guard"]["trips"])
        self.assertIsNone(p["guard"]["digest"])
        for item in p["items"]:
            self.assertEqual((item["action"], item["provider_call"], item["runs_now"]), ("create", "create", True))
            self.assertEqual(item["write"]["title"], "Busy")
        self.assertStatus(api.patch("/v1/pairs/" + pair["id"], {"enabled": True}), 200)
        self.run_once(pair["id"], lambda s: s["last_success_at"])
        self.assertEqual(len(self.dav.events(self.dst_url)), 12)

        # 2. After it: the next run has nothing to write; scope=all still shows every copy as current.
        p = self.preview(pair["id"])
        self.assertTrue(all(i["provider_call"] == "none" for i in p["items"]), p["items"])
        p = self.preview(pair["id"], scope="all")
        self.assertTrue(p["complete_listings"])
        self.assertEqual(p["counts"].get("unchanged"), 12, p["counts"])

        # 3. Ten of twelve sources deleted: the plan deletes ten copies, the guard holds them.
        for uid in self.uids[:10]:
            status, _ = self.dav.send("DELETE", self.src_url + uid + ".ics")
            self.assertIn(status, (200, 204))
        p = self.preview(pair["id"])
        self.assertTrue(p["guard"]["trips"] and p["guard"]["holds"], p["guard"])
        self.assertEqual(p["guard"]["held_deletions"], 10)
        digest = p["guard"]["digest"]
        self.assertRegex(digest, "^[0-9a-f]{64}$")
        held = [i for i in p["items"] if i["held_by_guard"]]
        self.assertEqual(len(held), 10)
        self.assertTrue(all(i["action"] == "delete" and i["cause"] == "source_deleted" and not i["runs_now"]
                            for i in held), held)

        # 4. The run pauses the pair; nothing is deleted; the status names the same deletions.
        status = self.run_once(pair["id"], lambda s: s["needs_confirmation"])
        self.assertEqual(status["state"], "needs_confirmation")
        self.assertIn("10 of 12", status["confirmation_reason"])
        self.assertEqual(status["held_deletions"], {"count": 10, "digest": digest})
        self.assertEqual(len(self.dav.events(self.dst_url)), 12)
        self.assertProblem(api.post("/v1/pairs/%s/sync" % pair["id"]), 409, "needs-confirmation")

        # 5. A confirmation of other deletions, or a malformed one, is refused; the pair stays paused.
        self.assertProblem(api.post("/v1/pairs/%s/confirm" % pair["id"], {"deletions": "0" * 64}), 409,
                           "deletions-changed")
        self.assertProblem(api.post("/v1/pairs/%s/confirm" % pair["id"], {"deletions": "xyz"}), 400,
                           "invalid-field", "deletions")
        self.assertProblem(api.post("/v1/pairs/%s/confirm" % pair["id"], {"deletions": digest, "all": True}), 400,
                           "unknown-field")
        self.assertTrue(self.status(pair["id"])["needs_confirmation"])

        # 6. The shown digest: the run deletes exactly the ten, and the confirmation is spent.
        r = api.post("/v1/pairs/%s/confirm" % pair["id"], {"deletions": digest})
        self.assertStatus(r, 200)
        self.assertFalse(r.json["needs_confirmation"])
        cg.wait_until(lambda: len(self.dav.events(self.dst_url)) == 2 or None, timeout=60,
                      what="the ten copies deleted")
        status = cg.wait_until(lambda: (lambda s: s if s["last_error"] is None and not s["needs_confirmation"]
                                        and s["counts"]["synced"] == 2 else None)(self.status(pair["id"])),
                               timeout=60, what="the pair settled")
        self.assertIsNone(status["held_deletions"])
        entries = self.server.query("SELECT action, decision FROM audit_log WHERE action = 'sync.guard'")
        self.assertEqual([e["decision"] for e in entries], ["paused", "confirmed"], entries)
