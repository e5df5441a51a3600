"""Google accounts through the REST API, against the Google contract fake: connect with OAuth
(calgate's start page, the provider's consent, the callback), the proven identity, calendars, and
pairs both ways with a CalDAV server (Radicale), synced; a denied consent connects nothing; no event
text in the database or the log."""

import unittest
import uuid

import calgate_api as cg
import contract_fake as cf
import google_fake as gf

ADA = "ada@acme.example"


class GoogleAccounts(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = gf.GoogleFake()
        cls.addClassCleanup(cls.fake.stop)
        cls.fake.control("POST", "users", {"email": ADA, "hd": "acme.example"})
        cls.fake.control("POST", "users", {"email": "bob@gmail.com"})
        cf.start_gateway(cls, cls.fake, gf.CLIENT_ID, gf.CLIENT_SECRET, gf.calgate_env, "google")

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def tearDown(self):
        self.assertEqual(self.fake.violations(), [], "the fake answered outside the discovery document")

    def connected(self, account=ADA):
        status, page = gf.connect(self.api, self.public_url, account)
        self.assertEqual(status, 200, page)
        accounts = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "google"]
        self.assertEqual(len(accounts), 1)
        return accounts[0]

    def wait_synced(self, pair_id):
        return cf.wait_synced(self.api, pair_id)

    def test_connect_pair_both_ways_and_sync(self):
        account = self.connected()
        self.assertEqual(account["email"], ADA)
        self.assertTrue(account["identities_proven"])
        kinds = sorted((i["kind"], i["domain"], i["inside"]) for i in account["identities"])
        self.assertIn(("hosted-domain", "acme.example", True), kinds)
        self.assertIn(("verified-email", "acme.example", False), kinds)
        calendars = self.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
        primary = [c for c in calendars if c["provider_calendar_id"] == ADA][0]
        self.assertTrue(primary["writable"])

        secret = "Board review %s" % uuid.uuid4().hex[:8]
        self.fake.control("POST", self.fake.calendar_path(ADA) + "/events", {
            "summary": secret, "description": "numbers", "start": {"dateTime": cg_day(2, 10)}, "end": {"dateTime": cg_day(2, 11)}})
        home = self.dav.make_calendar(cg.unique("home-"))
        r = self.api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user or "user",
                                           "password": self.dav.password or "pw", "email": "ada@home.example"})
        self.assertEqual(r.status, 201, r)
        dav_calendar = cg.calendar_for(r.json["calendars"], home)
        # Google -> CalDAV, private: the copy is "Busy" and nothing else
        r = self.api.post("/v1/pairs", {"source_calendar_id": primary["id"], "target_calendar_id": dav_calendar["id"],
                                        "rules": {"mode": "private"}})
        self.assertEqual(r.status, 201, r)
        status = self.wait_synced(r.json["id"])
        self.assertIsNone(status["last_error"], status)
        # no https public URL in this suite: the Google calendar is polled, and the status says why
        self.assertEqual([p["notified"] for p in status["push"]], [False])
        self.assertIn("https server.public_url", status["push"][0]["reason"])
        copies = cg.wait_until(lambda: self.dav.events(home), timeout=30, what="the copy in CalDAV")
        self.assertEqual(len(copies), 1)
        self.assertNotIn(secret, "".join(copies.values()))
        # CalDAV -> a second Google calendar: the copy arrives with calgate's marker
        team = self.fake.control("POST", "calendars", {"owner": ADA, "summary": "Team", "timeZone": "Europe/Berlin"})["id"]
        r = self.api.get("/v1/accounts/%s/calendars" % account["id"], query={"refresh": "true"})
        self.assertEqual(r.status, 200, r)
        calendars = r.json["calendars"]
        team_calendar = [c for c in calendars if c["provider_calendar_id"] == team][0]
        source = self.dav.make_calendar(cg.unique("src-"))
        self.dav.put(source, "evt-1", dav_event("evt-1-%s" % uuid.uuid4().hex[:6], "Dentist"))
        self.dav.put(source, "evt-2", dav_event("evt-2-%s" % uuid.uuid4().hex[:6], "Physio"))
        batches_before = len(self.fake.control("GET", "state")["batches"])
        dav_account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "caldav"][0]
        refreshed = self.api.get("/v1/accounts/%s/calendars" % dav_account["id"], query={"refresh": "true"}).json["calendars"]
        r = self.api.post("/v1/pairs", {"source_calendar_id": cg.calendar_for(refreshed, source)["id"],
                                        "target_calendar_id": team_calendar["id"], "rules": {"mode": "full"}})
        self.assertEqual(r.status, 201, r)
        status = self.wait_synced(r.json["id"])
        self.assertIsNone(status["last_error"], status)
        written = [e for e in self.fake.events(team) if e.get("status") != "cancelled"]
        # no DNS in this suite: home.example's policy is indeterminate, so the copy fails closed to private
        self.assertEqual([(e["summary"], e["visibility"]) for e in written], [("Busy", "private")] * 2)
        # the gateway's adapter writes them as the two parts of one batch request
        self.assertEqual([b["parts"] for b in self.fake.control("GET", "state")["batches"][batches_before:]], [2])
        self.assertEqual(written[0]["extendedProperties"]["private"]["calgatePair"], r.json["id"])
        self.assertNotIn(secret, self.server.log_text())
        self.assertNotIn(gf.CLIENT_SECRET, self.server.log_text())

    def test_an_absence_is_copied_as_out_of_office_into_a_workspace_primary_calendar(self):
        # the gateway opens a Workspace account (its proven hosted domain) with status events on
        account = self.connected()
        calendars = self.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
        primary = [c for c in calendars if c["provider_calendar_id"] == ADA][0]
        r = self.api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user or "user",
                                           "password": self.dav.password or "pw", "email": "ada@home.example"})
        self.assertEqual(r.status, 201, r)
        source = self.dav.make_calendar(cg.unique("away-"))
        uid = "away-%s" % uuid.uuid4().hex[:6]
        self.dav.put(source, "away", dav_event(uid, "Away", "X-MICROSOFT-CDO-BUSYSTATUS:OOF\r\n"))
        refreshed = self.api.get("/v1/accounts/%s/calendars" % r.json["id"], query={"refresh": "true"}).json["calendars"]
        r = self.api.post("/v1/pairs", {"source_calendar_id": cg.calendar_for(refreshed, source)["id"],
                                        "target_calendar_id": primary["id"], "rules": {"mode": "private"}})
        self.assertEqual(r.status, 201, r)
        status = self.wait_synced(r.json["id"])
        self.assertIsNone(status["last_error"], status)
        copies = [e for e in self.fake.events(ADA) if e.get("extendedProperties", {}).get("private", {}).get("calgatePair") == r.json["id"]]
        self.assertEqual([(e.get("eventType"), e["id"].endswith("oo")) for e in copies], [("outOfOffice", True)])

    def test_calgate_admin_connects_google_and_lists_its_calendars(self):
        import json
        link = json.loads(self.server.admin("accounts", "connect-google", self.user["email"], "--json").stdout)
        self.assertTrue(link["authorization_url"].startswith(self.public_url + "/oauth/start/"))
        status, page = gf.follow(link["authorization_url"], self.public_url, ADA)
        self.assertEqual(status, 200, page)
        listed = json.loads(self.server.admin("accounts", "list", "--user", self.user["email"], "--json").stdout)
        google = [a for a in listed if a["provider"] == "google"]
        self.assertEqual(len(google), 1)
        self.assertEqual(google[0]["inside"], ["acme.example"])
        self.fake.control("POST", "calendars", {"owner": ADA, "summary": "Admin added", "timeZone": "UTC"})
        calendars = json.loads(self.server.admin("accounts", "calendars", google[0]["id"], "--refresh", "--json").stdout)
        self.assertIn("Admin added", [c["name"] for c in calendars])
        self.assertIn(ADA, [c["provider_calendar_id"] for c in calendars])
        r = self.server.admin("accounts", "connect-google", "nobody@example.com", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no user", r.stderr)

    def test_a_denied_consent_connects_nothing(self):
        status, page = gf.connect(self.api, self.public_url, "bob@gmail.com", decision="deny")
        self.assertEqual(status, 400, page)
        self.assertEqual([a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "google"], [])


def cg_day(offset_days, hour):
    import datetime
    d = datetime.datetime.now(datetime.timezone.utc).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (d + datetime.timedelta(days=offset_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleDownAtStart(cg.ApiTestCase):
    """Google's sign-in does not answer when calgate starts: calgate serves, says so, and offers
    Google as soon as it answers, without a restart."""

    def test_google_is_offered_once_its_issuer_answers(self):
        import os
        import stat
        import tempfile
        fake_port = cg.free_port()
        down = type("Down", (), {"issuer": "http://127.0.0.1:%d" % fake_port, "url": "http://127.0.0.1:%d/" % fake_port})
        port = cg.free_port()
        public_url = "http://127.0.0.1:%d" % port
        directory = tempfile.mkdtemp(prefix="cg-google-down-")
        secret_file = os.path.join(directory, "client-secret")
        with open(secret_file, "w") as f:
            f.write(gf.CLIENT_SECRET + "\n")
        os.chmod(secret_file, stat.S_IRUSR | stat.S_IWUSR)
        server = cg.Calgate(gf.calgate_env(down, secret_file, public_url, port), name="google-down").start()
        self.addCleanup(server.cleanup)
        unavailable = [l for l in server.log_lines() if l.get("event") == "google.unavailable"]
        self.assertEqual(len(unavailable), 1, server.log_text())
        self.assertEqual(unavailable[0]["next_try_seconds"], 2)
        user = server.add_user()
        api = server.client(user["token"])
        r = api.post("/v1/accounts/oauth/google", {})
        self.assertEqual(r.status, 503, r)  # not offered while its issuer is down, and the user is told why
        self.assertEqual(r.json["type"], "urn:calgate:problem:unavailable")
        self.assertIn("sign-in service did not answer", r.json["detail"])
        self.assertEqual(r.header("Retry-After"), "60")

        fake = gf.GoogleFake(port=fake_port)
        self.addCleanup(fake.stop)
        fake.control("POST", "users", {"email": ADA, "hd": "acme.example"})
        fake.control("POST", "clients", {"clientId": gf.CLIENT_ID, "clientSecret": gf.CLIENT_SECRET,
                                         "redirectUris": [public_url + "/oauth/callback"]})
        cg.wait_until(lambda: any(l.get("event") == "google.offered" for l in server.log_lines()), timeout=30,
                      what="Google offered once its issuer answers")
        status, page = gf.connect(api, public_url, ADA)
        self.assertEqual(status, 200, page)
        accounts = [a for a in api.get("/v1/accounts").json["accounts"] if a["provider"] == "google"]
        self.assertEqual([a["email"] for a in accounts], [ADA])
        # its adapter is there too: the account's calendars are read from Google
        r = api.get("/v1/accounts/%s/calendars" % accounts[0]["id"], query={"refresh": "true"})
        self.assertEqual(r.status, 200, r)
        self.assertIn(ADA, [c["provider_calendar_id"] for c in r.json["calendars"]])


def dav_event(uid, summary, extra=""):
    start = cg_day(3, 9).replace("-", "").replace(":", "")
    end = cg_day(3, 10).replace("-", "").replace(":", "")
    return ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\n"
            "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\n%sEND:VEVENT\r\nEND:VCALENDAR\r\n" % (uid, start, start, end, summary, extra))


if __name__ == "__main__":
    unittest.main()
