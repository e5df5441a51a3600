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

    def test_preview_and_status_show_what_calgate_cannot_take(self):
        """Real clients' files through the API: an Outlook out-of-office day in a Windows zone is
        previewed as what it becomes; a resource calgate cannot take (RFC 2445's THISANDPRIOR) is
        shown as skipped with its reason, in the preview, the status and the export."""
        api = self.api
        src_url = self.dav.make_calendar(cg.unique("skip-src-"))
        dst_url = self.dav.make_calendar(cg.unique("skip-dst-"))
        outlook = ("BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\nVERSION:2.0\r\n"
                   "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T030000\r\n"
                   "TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\r\n"
                   "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\n"
                   "TZOFFSETTO:+0200\r\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\n"
                   "END:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:oof-%s\r\nDTSTAMP:%s\r\n"
                   "DTSTART;TZID=\"W. Europe Standard Time\":%s\r\nDTEND;TZID=\"W. Europe Standard Time\":%s\r\n"
                   "SUMMARY:Off sick\r\nTRANSP:OPAQUE\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT\r\n"
                   "END:VCALENDAR\r\n" % (uuid.uuid4().hex[:6], stamp(0), stamp(48)[:-1], stamp(56)[:-1]))
        old = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//old client//EN\r\nBEGIN:VEVENT\r\nUID:old-range\r\n"
               "DTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Old\r\nEND:VEVENT\r\n"
               "BEGIN:VEVENT\r\nUID:old-range\r\nDTSTAMP:%s\r\nRECURRENCE-ID;RANGE=THISANDPRIOR:%s\r\n"
               "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Old\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
               % (stamp(0), stamp(24), stamp(25), stamp(0), stamp(48), stamp(50), stamp(51)))
        uid = "apple-" + uuid.uuid4().hex[:6]
        later = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 14.6//EN\r\nBEGIN:VEVENT\r\n"
                 "UID:%s\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nRRULE:FREQ=DAILY;COUNT=6\r\n"
                 "SUMMARY:Daily\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\n"
                 "RECURRENCE-ID;RANGE=THISANDFUTURE:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Daily (later)\r\n"
                 "END:VEVENT\r\nEND:VCALENDAR\r\n"
                 % (uid, stamp(0), stamp(30), stamp(31), uid, stamp(0), stamp(78), stamp(80), stamp(81)))
        self.dav.put(src_url, "outlook-oof", outlook)
        self.dav.put(src_url, "old-range", old)
        self.dav.put(src_url, "apple-later", later)
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                      "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                      "email": "alice@example.com"})
        self.assertIn(r.status, (201, 409), r)
        r = api.get("/v1/accounts")
        account = r.json["accounts"][0]
        r = api.get("/v1/accounts/%s/calendars" % account["id"], query={"refresh": "true"})
        self.assertStatus(r, 200)
        src, dst = cg.calendar_for(r.json["calendars"], src_url), cg.calendar_for(r.json["calendars"], dst_url)
        r = api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"],
                                   "rules": {"mode": "private"}, "enabled": False})
        self.assertStatus(r, 201)
        pair = r.json

        p = self.preview(pair["id"])
        self.assertEqual(p["counts"].get("skipped"), 1, p["counts"])
        skipped = [i for i in p["items"] if i["action"] == "skipped"]
        self.assertEqual(len(skipped), 1, p["items"])
        self.assertIn("THISANDPRIOR", skipped[0]["reasons"][0])
        self.assertTrue(skipped[0]["source_event_id"].endswith("old-range.ics"), skipped[0])
        created = [i for i in p["items"] if i["action"] == "create"]
        self.assertEqual(len(created), 3, p["items"])  # the out-of-office day; the daily series in two parts
        oof = [i for i in created if i["write"]["show_as"] == "out_of_office"]
        self.assertEqual(len(oof), 1, created)
        self.assertEqual(oof[0]["write"]["title"], "Busy")
        parts = sorted(i["source_event_id"] for i in created if i["recurring"])
        self.assertEqual(len(parts), 2, created)
        self.assertTrue(parts[1].startswith(parts[0] + "#from="), parts)

        self.assertStatus(api.patch("/v1/pairs/" + pair["id"], {"enabled": True}), 200)
        status = self.run_once(pair["id"], lambda s: s["last_success_at"])
        self.assertEqual(status["skipped"]["count"], 1, status)
        item = status["skipped"]["items"][0]
        self.assertEqual(item["calendar_id"], src["id"])
        self.assertIn("THISANDPRIOR", item["reason"])
        copies = self.dav.events(dst_url)
        self.assertEqual(len(copies), 3, copies)
        copy = [c for c in copies.values() if "X-MICROSOFT-CDO-BUSYSTATUS:OOF" in c]
        self.assertEqual(len(copy), 1, copies)
        self.assertIn("TZID=Europe/Berlin", copy[0])  # the Windows zone written as its IANA zone
        export = api.get("/v1/me/export")
        self.assertStatus(export, 200)
        exported = [x for x in export.json["pairs"] if x["id"] == pair["id"]][0]
        self.assertEqual([s["reason"] for s in exported["skipped_resources"]], [item["reason"]])
        audit = self.server.query("SELECT decision FROM audit_log WHERE action = 'sync.skip_resource'")
        self.assertEqual([a["decision"] for a in audit], ["skipped"], audit)
        self.assertIn("sync.resource_skipped", self.server.log_text(), "a warning is logged")
