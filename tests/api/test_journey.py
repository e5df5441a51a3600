"""A user's whole journey over HTTP against the real binary and a real CalDAV server
(CG_TEST_CALDAV_SERVER=radicale|xandikos): connect an account, pair two calendars in private mode,
sync, preview, look up an organisation policy, serve busy-only feeds (with and without PIN), export
everything, delete everything. After each step the database and the target calendar are checked:
no event content, no password, no secret ever stored or leaked."""

import datetime
import re
import unittest
import uuid

import calgate_api as cg


def day(offset, hour=None, minute=0):
    d = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    d += datetime.timedelta(days=offset)
    if hour is None:
        return d.strftime("%Y%m%d")
    return (d + datetime.timedelta(hours=hour, minutes=minute)).strftime("%Y%m%dT%H%M%SZ")


def vcalendar(*vevents):
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calgate tests//EN\r\n" + "".join(vevents) + "END:VCALENDAR\r\n"


def vevent(**props):
    lines = ["BEGIN:VEVENT"]
    for k, v in props.items():
        lines.append("%s:%s" % (k.replace("__", ";").replace("_", "-"), v))
    lines.append("END:VEVENT")
    return "\r\n".join(lines) + "\r\n"


class JourneyTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="journey-" + cls.dav.name).start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.user = cls.server.add_user("journey-%s@example.com" % uuid.uuid4().hex[:8])
        cls.api = cls.server.client(cls.user["token"])

        # Two calendars on the CalDAV server: "work" with events whose every text is a secret word,
        # and an empty "personal" that receives the copies.
        cls.secrets = ["secret%s" % uuid.uuid4().hex[:10] for _ in range(12)]
        s = cls.secrets
        cls.work_name = cg.unique("work-")
        cls.personal_name = cg.unique("personal-")
        cls.work_url = cls.dav.make_calendar(cls.work_name)
        cls.personal_url = cls.dav.make_calendar(cls.personal_name)
        cls.uids = ["evt-%s-%s" % (uuid.uuid4().hex[:8], n)
                    for n in ("series", "allday", "confidential", "free", "cancelled")]
        series = vcalendar(
            vevent(UID=cls.uids[0], DTSTAMP=day(0, 0), DTSTART=day(-3, 10), DTEND=day(-3, 11),
                   RRULE="FREQ=WEEKLY;COUNT=6", SUMMARY=s[0], DESCRIPTION=s[1], LOCATION=s[2],
                   ORGANIZER="mailto:%s@example.org" % s[3],
                   ATTENDEE="mailto:%s@example.org" % s[3]),
            vevent(UID=cls.uids[0], DTSTAMP=day(0, 0), RECURRENCE_ID=day(4, 10), DTSTART=day(4, 14),
                   DTEND=day(4, 15), SUMMARY=s[4], DESCRIPTION=s[4]))
        allday = vcalendar(vevent(UID=cls.uids[1], DTSTAMP=day(0, 0), DTSTART__VALUE_DATE=day(2),
                                  DTEND__VALUE_DATE=day(3), SUMMARY=s[5], LOCATION=s[6]))
        confidential = vcalendar(vevent(UID=cls.uids[2], DTSTAMP=day(0, 0), DTSTART=day(3, 9),
                                        DTEND=day(3, 9, 30), SUMMARY=s[7], DESCRIPTION=s[8],
                                        CLASS="CONFIDENTIAL"))
        cls.dav.put(cls.work_url, cls.uids[0], series.replace("VALUE-DATE", "VALUE=DATE"))
        cls.dav.put(cls.work_url, cls.uids[1], allday.replace("VALUE-DATE", "VALUE=DATE"))
        # Not busy: a free (transparent) event and a cancelled one; feeds leave them out.
        free = vcalendar(vevent(UID=cls.uids[3], DTSTAMP=day(0, 0), DTSTART=day(5, 16), DTEND=day(5, 17),
                                SUMMARY=s[10], TRANSP="TRANSPARENT"))
        cancelled = vcalendar(vevent(UID=cls.uids[4], DTSTAMP=day(0, 0), DTSTART=day(6, 17), DTEND=day(6, 18),
                                     SUMMARY=s[11], STATUS="CANCELLED"))
        cls.dav.put(cls.work_url, cls.uids[2], confidential)
        cls.dav.put(cls.work_url, cls.uids[3], free)
        cls.dav.put(cls.work_url, cls.uids[4], cancelled)
        assert len(cls.dav.events(cls.work_url)) == 5
        # Xandikos accepts any credentials: make the password unique so "not in the DB" means something.
        cls.password = cls.dav.password or "pw-%s" % uuid.uuid4().hex
        cls.username = cls.dav.user or "user"

    # ---- helpers

    def db_secret_free(self, what):
        data = self.server.db_bytes()
        self.assertNoneIn(self.secrets, data, "the database (%s)" % what)
        self.assertNoneIn([self.password], data, "the database (%s)" % what)

    def copies(self):
        return self.dav.events(self.personal_url)

    # ---- the journey

    def test_journey(self):
        api, db = self.api, self.server
        uid = self.user["id"]

        # 1. Connect the account.
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.username,
                                      "password": self.password, "email": "alice@example.com"})
        self.assertStatus(r, 201)
        account = r.json
        self.assertEqual(r.header("Location"), "/v1/accounts/" + account["id"])
        self.assertEqual((account["provider"], account["email"], account["domain"], account["status"]),
                         ("caldav", "alice@example.com", "example.com", "active"))
        self.assertNotIn(self.password, r.text)
        work = cg.calendar_for(account["calendars"], self.work_url)
        personal = cg.calendar_for(account["calendars"], self.personal_url)
        self.assertEqual(work["name"], self.work_name)
        self.assertTrue(work["writable"] and personal["writable"])
        rows = db.query("SELECT * FROM accounts WHERE user_id = ?", (uid,))
        self.assertEqual([a["id"] for a in rows], [account["id"]])
        self.assertEqual(db.count("calendars", "account_id = ?", (account["id"],)), len(account["calendars"]))
        self.db_secret_free("after connecting")
        self.assertNotIn(self.password, db.log_text(), "the password is in the server log")

        # 2. List accounts, read one, list its calendars (stored and re-discovered).
        r = api.get("/v1/accounts")
        self.assertStatus(r, 200)
        self.assertEqual([a["id"] for a in r.json["accounts"]], [account["id"]])
        r = api.get("/v1/accounts/" + account["id"])
        self.assertStatus(r, 200)
        by_id = lambda cals: sorted(cals, key=lambda c: c["id"])
        self.assertEqual(dict(r.json, calendars=by_id(r.json["calendars"])),
                         dict(account, calendars=by_id(account["calendars"])))
        r = api.get("/v1/accounts/%s/calendars" % account["id"])
        self.assertStatus(r, 200)
        self.assertEqual(sorted(c["id"] for c in r.json["calendars"]), sorted(c["id"] for c in account["calendars"]))
        r = api.get("/v1/accounts/%s/calendars" % account["id"], query={"refresh": "true"})
        self.assertStatus(r, 200)
        self.assertIn(work["id"], [c["id"] for c in r.json["calendars"]])

        # 3. Pair work -> personal in private mode; a first sync is queued.
        r = api.post("/v1/pairs", {"source_calendar_id": work["id"], "target_calendar_id": personal["id"],
                                   "rules": {"mode": "private"}})
        self.assertStatus(r, 201)
        pair = r.json
        self.assertEqual(r.header("Location"), "/v1/pairs/" + pair["id"])
        self.assertEqual((pair["source_calendar_id"], pair["target_calendar_id"], pair["direction"], pair["enabled"],
                          pair["state"]), (work["id"], personal["id"], "one_way", True, "active"))
        self.assertEqual(pair["rules"]["mode"], "private")
        self.assertEqual(pair["rules"]["label"], "Busy")
        self.assertEqual(pair["window"], {"past_days": 90, "future_days": 365})
        self.assertEqual(db.count("pairs", "id = ? AND user_id = ?", (pair["id"], uid)), 1)
        r = api.get("/v1/pairs")
        self.assertStatus(r, 200)
        self.assertEqual([p["id"] for p in r.json["pairs"]], [pair["id"]])
        r = api.get("/v1/pairs/" + pair["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json["id"], pair["id"])

        # 4. Sync now and wait for a successful run.
        r = api.post("/v1/pairs/%s/sync" % pair["id"])
        self.assertStatus(r, 202)
        self.assertEqual(r.json["pair_id"], pair["id"])
        self.assertIsInstance(r.json["queued"], bool)
        status = self.wait_for_success(pair["id"])
        self.assertIsNone(status["last_error"])
        self.assertFalse(status["needs_confirmation"])
        self.assertGreaterEqual(status["counts"]["synced"], 2, status)

        # 5. The copies: "Busy", nothing of the source.
        copies = cg.wait_until(lambda: self.copies() if len(self.copies()) >= 3 else None, timeout=30,
                               what="three copies in the personal calendar")
        self.check_copies(copies, "Busy")
        joined = "\n".join(copies.values())
        self.assertIn("RRULE", joined, "the weekly series is copied as a series")
        copies_after_sync = set(copies)

        # 6. The database: mappings for the pair, no content, no password.
        mappings = db.query("SELECT * FROM mappings WHERE pair_id = ?", (pair["id"],))
        self.assertGreaterEqual(len(mappings), 3, mappings)
        self.assertTrue(all(m["state"] in ("synced", "denied") for m in mappings if m["target_event_id"]), mappings)
        self.db_secret_free("after the sync")

        # 7. Preview: the next run writes nothing (its plan is empty or all "unchanged"); over every event
        # in the window (scope=all) each copy is current - "Busy", nothing secret.
        r = api.get("/v1/pairs/%s/preview" % pair["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json["scope"], "next")
        self.assertTrue(all(i["provider_call"] == "none" for i in r.json["items"]), r.json)
        r = api.get("/v1/pairs/%s/preview" % pair["id"], query={"scope": "all"})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["pair_id"], pair["id"])
        self.assertTrue(r.json["items"], r.json)
        self.assertTrue(all(i["provider_call"] == "none" for i in r.json["items"]), r.json)
        self.assertLessEqual(len(r.json["items"]), 10)
        for item in r.json["items"]:
            if item["write"] is not None:
                self.assertEqual(item["write"]["title"], "Busy", item)
                self.assertIn(item["write"]["description"], ("", None), item)
                self.assertIn(item["write"]["location"], ("", None), item)
                self.assertEqual(item["write"]["attendees"], 0, item)
        self.assertNoneIn(self.secrets, r.text, "the preview")
        # a server on 127.0.0.1 proves no domain (test_identity covers servers that do): the typed
        # alice@example.com then counts as a source domain, to tighten only - inside nothing
        self.assertEqual(r.json["domains"], {"source": ["example.com"], "target_inside": []})
        self.assertEqual([p["domain"] for p in r.json["org_policies"]], ["example.com"])
        self.assertEqual(r.json["org_policy"]["domain"], "example.com")
        r = api.get("/v1/pairs/%s/preview" % pair["id"], query={"limit": "1", "scope": "all"})
        self.assertStatus(r, 200)
        self.assertEqual(len(r.json["items"]), 1)
        for bad in ({"limit": "0"}, {"limit": "51"}, {"limit": "ten"}, {"limit": "-1"}, {"scope": "some"}):
            self.assertProblem(api.get("/v1/pairs/%s/preview" % pair["id"], query=bad), 400, "invalid-query")
        self.assertEqual(set(self.copies()), copies_after_sync, "the preview wrote nothing")

        # 8. The organisation policy of example.com: no DNS in the test environment, so it fails closed.
        r = api.get("/v1/policy/example.com")
        self.assertStatus(r, 200)
        self.assertEqual(r.json["domain"], "example.com")
        self.assertEqual(r.json["validation"], "indeterminate")
        self.assertTrue(r.json["fail_closed"])
        self.assertEqual(r.json["queried_name"].rstrip("."), "_calendar-privacy.example.com")

        # 9. A busy-only feed of the work calendar, without PIN.
        r = api.post("/v1/feeds", {"calendar_ids": [work["id"]]})
        self.assertStatus(r, 201)
        feed = r.json
        self.assertEqual(r.header("Location"), "/v1/feeds/" + feed["id"])
        self.assertEqual((feed["label"], feed["calendar_ids"], feed["window"], feed["pin_protected"],
                          feed["revoked_at"]), ("Busy", [work["id"]], {"past_days": 7, "future_days": 60}, False, None))
        self.assertEqual(feed["url"], "/feeds/%s.ics" % feed["token"])
        self.assertNotIn(feed["token"].encode(), db.db_bytes(), "the feed token is stored in clear")
        r = api.get("/v1/feeds/" + feed["id"])
        self.assertStatus(r, 200)
        self.assertNotIn(feed["token"], r.text)
        r = api.get("/v1/feeds")
        self.assertStatus(r, 200)
        self.assertEqual([f["id"] for f in r.json["feeds"]], [feed["id"]])
        anon = db.client()
        r = anon.get(feed["url"])
        self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "text/calendar")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.check_feed(r.text, "Busy")

        # 10. A feed with a PIN.
        pin = "".join(str((int(c, 16) % 9) + 1) for c in uuid.uuid4().hex[:10])
        r = api.post("/v1/feeds", {"calendar_ids": [work["id"]], "pin": pin, "label": "Unavailable"})
        self.assertStatus(r, 201)
        pinned = r.json
        self.assertTrue(pinned["pin_protected"])
        self.assertNotIn(pin.encode(), db.db_bytes(), "the PIN is stored in clear")
        self.assertProblem(anon.get(pinned["url"]), 401, "pin-required")
        self.assertProblem(anon.get(pinned["url"], query={"pin": "0000"}), 401, "pin-invalid")
        r = anon.get(pinned["url"], query={"pin": pin})
        self.assertStatus(r, 200)
        self.check_feed(r.text, "Unavailable")
        r = anon.get(pinned["url"], headers={"X-Feed-Pin": pin})
        self.assertStatus(r, 200)
        # Five wrong PINs lock the feed, even for the right one, with Retry-After.
        answers = [anon.get(pinned["url"], query={"pin": "1111"}) for _ in range(5)]
        for a in answers[:4]:
            self.assertProblem(a, 401, "pin-invalid")
        self.assertProblem(answers[4], 429, "pin-locked")
        r = anon.get(pinned["url"], query={"pin": pin})
        self.assertProblem(r, 429, "pin-locked")
        self.assertTrue(r.header("Retry-After") and 0 < int(r.header("Retry-After")) <= 15 * 60, r.headers)

        # 11. Revoke the first feed: its URL is gone; bad tokens are 404 as well.
        self.assertStatus(api.delete("/v1/feeds/" + feed["id"]), 204)
        self.assertProblem(anon.get(feed["url"]), 404, "not-found")
        self.assertProblem(anon.get("/feeds/not-a-token.ics"), 404, "not-found")
        self.assertProblem(anon.get("/feeds/%s.ics" % ("A" * 43)), 404, "not-found")
        r = api.get("/v1/feeds/" + feed["id"])
        if r.status == 200:
            self.assertIsNotNone(r.json["revoked_at"])
        else:
            self.assertProblem(r, 404, "not-found")

        # 12. Change the pair: a new label, a smaller window; the next run re-renders every copy.
        rules = dict(pair["rules"], label="Occupied")
        r = api.patch("/v1/pairs/" + pair["id"], {"rules": rules, "window": {"past_days": 30, "future_days": 200}})
        self.assertStatus(r, 200)
        self.assertEqual(r.json["rules"]["label"], "Occupied")
        self.assertEqual(r.json["rules"]["mode"], "private")
        self.assertEqual(r.json["window"], {"past_days": 30, "future_days": 200})
        self.assertGreaterEqual(r.json["updated_at"], pair["updated_at"])
        before = self.status(pair["id"])["last_success_at"]
        api.post("/v1/pairs/%s/sync" % pair["id"])
        # Every VEVENT of every copy: a series resource holds its master and its overrides, written
        # one after the other, so one "SUMMARY:Occupied" in a resource does not mean all of it.
        def relabelled(copies):
            return bool(copies) and all(summary == "SUMMARY:Occupied" for v in copies.values()
                                        for summary in cg.ics_lines(v) if summary.startswith("SUMMARY"))
        cg.wait_until(lambda: (self.status(pair["id"])["last_success_at"] or 0) > before or
                      relabelled(self.copies()), timeout=60, what="a run after the PATCH")
        copies = cg.wait_until(lambda: (lambda c: c if relabelled(c) else None)(self.copies()), timeout=60,
                               what="copies re-rendered as Occupied")
        self.check_copies(copies, "Occupied")
        r = api.patch("/v1/pairs/" + pair["id"], {"enabled": False})
        self.assertStatus(r, 200)
        self.assertEqual((r.json["enabled"], r.json["state"]), (False, "disabled"))
        self.assertEqual(r.json["rules"]["label"], "Occupied", "PATCH of one field keeps the others")
        r = api.patch("/v1/pairs/" + pair["id"], {"enabled": True})
        self.assertStatus(r, 200)
        self.assertEqual((r.json["enabled"], r.json["state"]), (True, "active"))
        self.assertProblem(api.post("/v1/pairs/%s/confirm" % pair["id"]), 409, "not-waiting-for-confirmation")
        copies_before_delete = self.copies()

        # 13. Export: everything about the user, no secrets.
        r = api.get("/v1/me/export")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("Content-Disposition"), 'attachment; filename="calgate-export.json"')
        export = r.json
        self.assertEqual(export["user"], {"id": uid, "email": self.user["email"], "created_at": export["user"]["created_at"]})
        self.assertEqual([t["id"] for t in export["tokens"]], [self.user["token_id"]])
        self.assertEqual([a["id"] for a in export["accounts"]], [account["id"]])
        # the stored calendars (step 2's refresh may have found calendars other tests made on the
        # shared server since the account was connected)
        stored = api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
        self.assertEqual(sorted(c["id"] for c in export["accounts"][0]["calendars"]), sorted(c["id"] for c in stored))
        self.assertTrue(set(c["id"] for c in account["calendars"]) <= set(c["id"] for c in stored))
        self.assertEqual([p["id"] for p in export["pairs"]], [pair["id"]])
        self.assertEqual(export["pairs"][0]["rules"]["label"], "Occupied")
        self.assertIsNotNone(export["pairs"][0]["status"]["last_success_at"])
        exported_mappings = [m for m in export["mappings"] if m["pair_id"] == pair["id"]]
        self.assertEqual(len(exported_mappings), len(export["mappings"]))
        self.assertEqual(len(exported_mappings), db.count("mappings", "pair_id = ?", (pair["id"],)))
        self.assertEqual(sorted(f["id"] for f in export["feeds"]), sorted([feed["id"], pinned["id"]]))
        secrets_in_db = [self.password, self.user["token"], feed["token"], pinned["token"], pin]
        for row in db.query("SELECT token_sha256 FROM api_tokens WHERE user_id = ?", (uid,)):
            secrets_in_db.append(row["token_sha256"])
        for row in db.query("SELECT credential_ciphertext FROM accounts WHERE user_id = ?", (uid,)):
            secrets_in_db.append(row["credential_ciphertext"])
        for row in db.query("SELECT token_sha256, pin_scrypt FROM feeds WHERE user_id = ?", (uid,)):
            secrets_in_db += [row["token_sha256"], row["pin_scrypt"]]
        self.assertNoneIn(secrets_in_db, r.text, "the export")
        self.assertNoneIn(self.secrets, r.text, "the export")

        # 14. Delete the user: everything goes, only a hash of the email stays; copies stay.
        counts_before = db.count("deletion_audit")
        self.assertStatus(api.delete("/v1/me"), 204)
        self.assertProblem(api.get("/v1/me"), 401, "unauthorized")
        self.assertProblem(api.get("/v1/pairs"), 401, "unauthorized")
        cal_ids = [c["id"] for c in account["calendars"]]
        marks = ",".join("?" * len(cal_ids))
        leftovers = {
            "users": db.count("users", "id = ?", (uid,)),
            "api_tokens": db.count("api_tokens", "user_id = ?", (uid,)),
            "accounts": db.count("accounts", "user_id = ? OR id = ?", (uid, account["id"])),
            "calendars": db.count("calendars", "id IN (%s)" % marks, cal_ids),
            "pairs": db.count("pairs", "user_id = ? OR id = ?", (uid, pair["id"])),
            "mappings": db.count("mappings", "pair_id = ?", (pair["id"],)),
            "cursors": db.count("cursors", "pair_id = ?", (pair["id"],)),
            "feeds": db.count("feeds", "user_id = ?", (uid,)),
            "jobs": db.count("jobs", "pair_id = ?", (pair["id"],)),
        }
        self.assertEqual(leftovers, {k: 0 for k in leftovers})
        audit = db.query("SELECT * FROM deletion_audit")
        self.assertEqual(len(audit), counts_before + 1, audit)
        # the record names the erased user's random id (so the audit trail can be found) and keeps a
        # keyed hash of the address, never the address nor a plain hash anyone could confirm offline
        mine = [a for a in audit if a["user_id"] == uid]
        self.assertEqual(len(mine), 1, audit)
        self.assertEqual(mine[0]["requested_by"], "user")
        self.assertTrue(mine[0]["email_sha256"].startswith("k1:"), mine[0])
        dump = db.table_dump("deletion_audit")
        self.assertNoneIn([self.user["email"], cg.sha256_hex(self.user["email"].lower()), account["id"], pair["id"],
                           "alice@example.com"], dump, "deletion_audit")
        self.assertProblem(anon.get(pinned["url"], query={"pin": pin}), 404, "not-found")
        self.assertEqual(set(self.copies()), set(copies_before_delete), "the copies stay in the target calendar")
        self.db_secret_free("after deleting the user")

    # ---- checks

    def status(self, pair_id):
        r = self.api.get("/v1/pairs/%s/status" % pair_id)
        self.assertStatus(r, 200)
        self.assertEqual(r.json["pair_id"], pair_id)
        return r.json

    def wait_for_success(self, pair_id):
        return cg.wait_until(lambda: (lambda s: s if s["last_success_at"] else None)(self.status(pair_id)),
                             timeout=60, what="the pair's first successful sync")

    def check_copies(self, copies, label):
        joined = "\n".join(copies.values())
        self.assertNoneIn(self.secrets, joined, "the copies")
        self.assertNoneIn(self.uids, joined, "the copies (source UIDs)")
        for href, ics in copies.items():
            for ev in cg.vevents(ics):
                self.assertEqual(cg.prop(ev, "SUMMARY"), [label], (href, ev))
                for forbidden in ("DESCRIPTION", "LOCATION", "ATTENDEE", "ORGANIZER"):
                    self.assertEqual([v for v in cg.prop(ev, forbidden) if v], [], (href, forbidden, ev))

    def check_feed(self, text, label):
        lines = cg.ics_lines(text)
        self.assertEqual(lines[0], "BEGIN:VCALENDAR")
        self.assertEqual(lines[-1], "END:VCALENDAR")
        self.assertNoneIn(self.secrets, text, "the feed")
        self.assertNoneIn(self.uids, text, "the feed (source UIDs)")
        events = cg.vevents(text)
        for ev in events:
            self.assertEqual(cg.prop(ev, "SUMMARY"), [label], ev)
            self.assertEqual(cg.prop(ev, "TRANSP"), ["OPAQUE"], ev)
            self.assertEqual(cg.prop(ev, "CLASS"), ["PRIVATE"], ev)
            self.assertEqual(len(cg.prop(ev, "UID")), 1, ev)
            self.assertEqual(len(cg.prop(ev, "DTSTAMP")), 1, ev)
            for forbidden in ("DESCRIPTION", "LOCATION", "ATTENDEE", "ORGANIZER", "RRULE", "RECURRENCE-ID"):
                self.assertEqual(cg.prop(ev, forbidden), [], (forbidden, ev))
        starts = [cg.prop(ev, "DTSTART")[0] for ev in events]
        # The weekly series, expanded: 6 occurrences in the window, the second one moved to 14:00.
        series = [s for s in starts if s.endswith("T100000Z")]
        self.assertEqual(len(series), 5, starts)
        self.assertIn(day(4, 14), starts)
        self.assertNotIn(day(4, 10), starts)
        self.assertIn(day(2), starts, "the all-day event as VALUE=DATE")
        all_day = [ev for ev in events if any(l.startswith("DTSTART;VALUE=DATE:") for l in ev)]
        self.assertEqual(len(all_day), 1, events)
        self.assertIn(day(3, 9), starts, "the confidential event is busy too")
        self.assertNotIn(day(5, 16), starts, "a free (transparent) event is not busy")
        self.assertNotIn(day(6, 17), starts, "a cancelled event is not busy")
        self.assertEqual(len(events), 5 + 1 + 1 + 1, starts)
        for ev in events:
            start, end = [l for l in ev if l.startswith("DTSTART")][0], [l for l in ev if l.startswith("DTEND")][0]
            for line in (start, end):
                self.assertTrue(line.startswith(("DTSTART:", "DTEND:")) and line.endswith("Z") or
                                re.match(r"^DT(START|END);VALUE=DATE:\d{8}$", line), "UTC or a date: %s" % line)
        uids = [cg.prop(ev, "UID")[0] for ev in events]
        self.assertEqual(len(uids), len(set(uids)), "one UID per busy block")



class DeletionTest(cg.ApiTestCase):
    """Deleting a pair or a whole account removes calgate's bookkeeping, never the copies."""

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="deletion-" + cls.dav.name).start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.user = cls.server.add_user()
        cls.api = cls.server.client(cls.user["token"])
        cls.src_url = cls.dav.make_calendar(cg.unique("del-src-"))
        cls.dst_url = cls.dav.make_calendar(cg.unique("del-dst-"))
        cls.secret = "secret%s" % uuid.uuid4().hex[:10]
        cls.dav.put(cls.src_url, "evt-one", vcalendar(vevent(UID="evt-one-%s" % uuid.uuid4().hex[:6], DTSTAMP=day(0, 0),
                                                             DTSTART=day(1, 12), DTEND=day(1, 13),
                                                             SUMMARY=cls.secret)))

    def test_delete_pair_then_account(self):
        api, db = self.api, self.server
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                      "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                      "email": "carol@example.com"})
        self.assertStatus(r, 201)
        account = r.json
        src = cg.calendar_for(account["calendars"], self.src_url)["id"]
        dst = cg.calendar_for(account["calendars"], self.dst_url)["id"]
        r = api.post("/v1/pairs", {"source_calendar_id": src, "target_calendar_id": dst,
                                   "rules": {"mode": "private", "label": "Away"}})
        self.assertStatus(r, 201)
        pair = r.json
        cg.wait_until(lambda: api.get("/v1/pairs/%s/status" % pair["id"]).json["last_success_at"], timeout=60,
                      what="the first sync")
        copies = cg.wait_until(lambda: self.dav.events(self.dst_url), timeout=30, what="the copy")
        self.assertEqual(len(copies), 1)
        self.assertNotIn(self.secret, "".join(copies.values()))
        self.assertGreater(db.count("mappings", "pair_id = ?", (pair["id"],)), 0)

        # Deleting the pair: its mappings, cursors and jobs go; the copy stays.
        self.assertStatus(api.delete("/v1/pairs/" + pair["id"]), 204)
        self.assertProblem(api.get("/v1/pairs/" + pair["id"]), 404, "not-found")
        self.assertProblem(api.delete("/v1/pairs/" + pair["id"]), 404, "not-found")
        for table in ("pairs", "mappings", "cursors", "jobs"):
            column = "id" if table == "pairs" else "pair_id"
            self.assertEqual(db.count(table, "%s = ?" % column, (pair["id"],)), 0, table)
        self.assertEqual(set(self.dav.events(self.dst_url)), set(copies))

        # Deleting the account: its calendars, the pairs using them and its credential go; a feed
        # over its calendars loses them; the copies stay.
        # A pair made again for the same calendars takes over the copies the first one left: its
        # first run writes no second copies.
        r = api.post("/v1/pairs", {"source_calendar_id": src, "target_calendar_id": dst})
        self.assertStatus(r, 201)
        pair2 = r.json
        cg.wait_until(lambda: api.get("/v1/pairs/%s/status" % pair2["id"]).json["last_success_at"],
                      timeout=60, what="the re-created pair's first sync")
        self.assertEqual(set(self.dav.events(self.dst_url)), set(copies), "no second copies")
        r = api.post("/v1/feeds", {"calendar_ids": [src, dst]})
        self.assertStatus(r, 201)
        feed = r.json
        self.assertStatus(api.delete("/v1/accounts/" + account["id"]), 204)
        self.assertProblem(api.get("/v1/accounts/" + account["id"]), 404, "not-found")
        self.assertProblem(api.get("/v1/accounts/%s/calendars" % account["id"]), 404, "not-found")
        self.assertProblem(api.get("/v1/pairs/" + pair2["id"]), 404, "not-found")
        self.assertEqual(api.get("/v1/accounts").json["accounts"], [])
        self.assertEqual(api.get("/v1/pairs").json["pairs"], [])
        self.assertEqual(db.count("accounts", "id = ?", (account["id"],)), 0)
        self.assertEqual(db.count("calendars", "account_id = ?", (account["id"],)), 0)
        self.assertEqual(db.count("pairs", "id = ?", (pair2["id"],)), 0)
        self.assertEqual(db.count("mappings", "pair_id = ?", (pair2["id"],)), 0)
        r = db.client().get(feed["url"])
        self.assertStatus(r, 200)
        self.assertEqual(cg.vevents(r.text), [])
        self.assertEqual(set(self.dav.events(self.dst_url)), set(copies), "the copies stay")
        self.assertNotIn(self.secret.encode(), db.db_bytes())
        r = api.get("/v1/feeds/" + feed["id"])
        self.assertStatus(r, 200)
        self.assertEqual(r.json["calendar_ids"], [], "the feed lost the account's calendars")


if __name__ == "__main__":
    unittest.main()
