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
