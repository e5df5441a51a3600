"""A quarantined pair (its job kept stopping the worker mid-run until it died, see the job queue)
through the real binary: its status says so and why, "sync now" is refused with the way out, the
operator sees it in `calgate-admin pairs list`; the user (POST /v1/pairs/{id}/release) or the
operator (`calgate-admin pairs release`) lifts it, audited, and the pair is queued again."""

import calgate_api as cg


class QuarantineTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="quarantine").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.user = cls.server.add_user()
        cls.api = cls.server.client(cls.user["token"])
        urls = [cls.dav.make_calendar(cg.unique("q-%d-" % i)) for i in range(4)]
        r = cls.api.post("/v1/accounts", {"provider": "caldav", "server_url": cls.dav.base,
                                          "username": cls.dav.user or "user", "password": cls.dav.password or "pw",
                                          "email": "alice@example.com"})
        assert r.status == 201, r
        cls.calendars = [cg.calendar_for(r.json["calendars"], u)["id"] for u in urls]

    def make_pair(self):
        src, dst = self.calendars.pop(), self.calendars.pop()
        r = self.api.post("/v1/pairs", {"source_calendar_id": src, "target_calendar_id": dst})
        self.assertStatus(r, 201)
        return r.json["id"]

    def quarantine(self, pair_id):
        # what the job queue does when a re-taken job has no attempts left
        self.server.execute("UPDATE pairs SET quarantined_at = 1790000000, quarantine_reason = ? WHERE id = ?",
                            ("its run stopped without finishing 10 times", pair_id))
        self.server.execute("INSERT INTO jobs (id, kind, pair_id, state, run_at, attempts, created_at, updated_at) "
                            "VALUES (?, 'sync_pair', ?, 'dead', 0, 10, 0, 0)", ("job_dead_" + pair_id, pair_id))

    def test_user_sees_and_releases_a_quarantined_pair(self):
        api, server = self.api, self.server
        pair_id = self.make_pair()
        self.quarantine(pair_id)

        status = api.get("/v1/pairs/%s/status" % pair_id)
        self.assertStatus(status, 200)
        self.assertEqual(status.json["state"], "quarantined")
        self.assertIn("stopped without finishing", status.json["quarantine"]["reason"])
        self.assertEqual(status.json["quarantine"]["since"], 1790000000)
        refused = api.post("/v1/pairs/%s/sync" % pair_id, {})
        self.assertProblem(refused, 409, "quarantined")
        self.assertIn("/release", refused.json["detail"])
        listed = server.admin("pairs", "list", "--json").stdout
        self.assertIn('"state": "quarantined"', listed)
        self.assertIn("quarantined", server.admin("pairs", "list").stdout)

        released = api.post("/v1/pairs/%s/release" % pair_id, {})
        self.assertStatus(released, 200)
        self.assertEqual(released.json["state"], "active")
        self.assertIsNone(released.json["quarantine"])
        self.assertEqual(server.count("jobs", "pair_id = ? AND state = 'dead'", (pair_id,)), 0)
        self.assertGreaterEqual(server.count("jobs", "pair_id = ?", (pair_id,)) +
                                server.count("pairs", "id = ? AND last_success_at IS NOT NULL", (pair_id,)), 1)
        self.assertProblem(api.post("/v1/pairs/%s/release" % pair_id, {}), 409, "not-quarantined")
        audit = server.query("SELECT decision, actor FROM audit_log WHERE action = 'pair.release' AND object_ref = ?",
                             ("pair/" + pair_id,))
        self.assertEqual([(a["decision"], a["actor"]) for a in audit], [("released", self.user["id"])])

        # another user's pair cannot be released (nor seen)
        other = server.client(server.add_user()["token"])
        self.assertProblem(other.post("/v1/pairs/%s/release" % pair_id, {}), 404, "not-found")

    def test_operator_releases_a_quarantined_pair(self):
        server = self.server
        pair_id = self.make_pair()
        self.quarantine(pair_id)
        out = server.admin("pairs", "release", pair_id)
        self.assertIn("released", out.stdout)
        again = server.admin("pairs", "release", pair_id, check=False)
        self.assertEqual(again.returncode, 2, again.stderr)
        self.assertIn("not quarantined", again.stderr)
        unknown = server.admin("pairs", "release", "pair_nope", check=False)
        self.assertNotEqual(unknown.returncode, 0)
        self.assertIn("no pair", unknown.stderr)
        self.assertEqual(server.count("audit_log", "action = 'pair.release' AND actor = 'admin' AND object_ref = ?",
                                      ("pair/" + pair_id,)), 1)
        self.assertEqual(self.api.get("/v1/pairs/%s/status" % pair_id).json["state"], "active")


class DeleteWithCopiesTest(cg.ApiTestCase):
    """DELETE /v1/pairs/{id}?copies=delete and `calgate-admin pairs remove --delete-copies`: every
    copy goes (approved and audited), the user's own events stay, then the pair."""

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server()
        cls.server = cg.Calgate(name="delete-copies").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.user = cls.server.add_user()
        cls.api = cls.server.client(cls.user["token"])

    def paired(self, n_events):
        src_url = self.dav.make_calendar(cg.unique("dc-src-"))
        dst_url = self.dav.make_calendar(cg.unique("dc-dst-"))
        for i in range(n_events):
            self.dav.put(src_url, "dc%d" % i, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                                              "UID:dc%d\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:202612%02dT090000Z\r\n"
                                              "DTEND:202612%02dT100000Z\r\nSUMMARY:Copy me\r\nEND:VEVENT\r\n"
                                              "END:VCALENDAR\r\n" % (i, 3 + i, 3 + i))
        self.dav.put(dst_url, "mine", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:mine\r\n"
                                      "DTSTAMP:20261201T000000Z\r\nDTSTART:20261220T090000Z\r\nDTEND:20261220T100000Z\r\n"
                                      "SUMMARY:My own\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        r = self.api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base,
                                           "username": self.dav.user or "user", "password": self.dav.password or "pw",
                                           "email": "dc-%s@example.com" % cg.unique("")})
        self.assertStatus(r, 201)
        src = cg.calendar_for(r.json["calendars"], src_url)
        dst = cg.calendar_for(r.json["calendars"], dst_url)
        r = self.api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"]})
        self.assertStatus(r, 201)
        pair_id = r.json["id"]
        cg.wait_until(lambda: self.api.get("/v1/pairs/%s/status" % pair_id).json["last_success_at"],
                      timeout=60, what="the first sync")
        self.assertEqual(len(self.dav.events(dst_url)), n_events + 1)
        return pair_id, dst_url

    def gone(self, pair_id, dst_url, n_copies):
        cg.wait_until(lambda: self.api.get("/v1/pairs/" + pair_id).status == 404, timeout=60,
                      what="the pair to be deleted after its copies")
        left = self.dav.events(dst_url)
        self.assertEqual(len(left), 1, left)  # the user's own event stays
        self.assertIn("My own", list(left.values())[0])
        deletes = self.server.query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'sync.delete' AND "
                                    "object_ref = ? AND details_json LIKE '%pair_deleted%'", ("pair/" + pair_id,))
        self.assertEqual(deletes[0]["n"], n_copies)

    def test_api(self):
        pair_id, dst_url = self.paired(3)
        self.assertProblem(self.api.delete("/v1/pairs/%s?copies=all" % pair_id), 400, "invalid-query")
        r = self.api.delete("/v1/pairs/%s?copies=delete" % pair_id)
        self.assertStatus(r, 202)
        self.assertEqual(r.json, {"pair_id": pair_id, "removing_copies": True})
        self.gone(pair_id, dst_url, 3)

    def test_admin(self):
        pair_id, dst_url = self.paired(2)
        out = self.server.admin("pairs", "remove", pair_id, "--delete-copies")
        self.assertIn("deletes its copies", out.stdout)
        self.gone(pair_id, dst_url, 2)
