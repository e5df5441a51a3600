"""Microsoft 365 accounts through the REST API, against the Microsoft Graph contract fake: connect
with OAuth on the multi-tenant authority (calgate's start page, the provider's consent, the
callback; the {tenantid} issuer template filled in from the token), the proven identity (a work
account inside its tenant's domain, a consumer account inside none), calendars with canEdit, and a
pair from a CalDAV server (Radicale) into Microsoft 365, synced; calgate-admin connects and lists;
a denied consent connects nothing; no event text or client secret in the log."""

import json
import unittest
import uuid

import calgate_api as cg
import contract_fake as cf
import graph_fake as mf
from test_google import dav_event

ADA = "ada@contoso.example"
EVE = "eve@outlook.example"


class MicrosoftAccounts(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = mf.GraphFake("replayRate=0", "duplicateRate=0")
        cls.addClassCleanup(cls.fake.stop)
        cls.ada = cls.fake.control("POST", "users", {"email": ADA, "name": "Ada"})
        cls.fake.control("POST", "users", {"email": EVE, "kind": "consumer"})
        cf.start_gateway(cls, cls.fake, mf.CLIENT_ID, mf.CLIENT_SECRET, mf.calgate_env, "microsoft")

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def tearDown(self):
        self.assertEqual(self.fake.violations(), [], "the fake answered outside its contract")

    def connected(self, account=ADA):
        status, page = mf.connect(self.api, self.public_url, account)
        self.assertEqual(status, 200, page)
        accounts = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "microsoft"]
        self.assertEqual(len(accounts), 1)
        return accounts[0]

    def wait_synced(self, pair_id):
        return cf.wait_synced(self.api, pair_id)

    def test_connect_list_calendars_pair_and_sync(self):
        account = self.connected()
        self.assertEqual(account["email"], ADA)
        self.assertTrue(account["identities_proven"])
        inside = [i["domain"] for i in account["identities"] if i["inside"]]
        self.assertEqual(inside, ["contoso.example"])
        # a calendar shared read-only is listed, but not writable
        bob = "bob-%s@contoso.example" % uuid.uuid4().hex[:6]
        self.fake.control("POST", "users", {"email": bob})
        board = self.fake.control("POST", "calendars", {"owner": bob, "name": "Board"})["id"]
        self.fake.control("POST", "calendars/%s/share" % board, {"user": ADA, "role": "read"})
        r = self.api.get("/v1/accounts/%s/calendars" % account["id"], query={"refresh": "true"})
        self.assertEqual(r.status, 200, r)
        calendars = r.json["calendars"]
        default = [c for c in calendars if c["name"] == "Calendar"][0]
        self.assertTrue(default["writable"])
        self.assertFalse([c for c in calendars if c["provider_calendar_id"] == board][0]["writable"])

        source = self.dav.make_calendar(cg.unique("src-"))
        secret = "Dentist %s" % uuid.uuid4().hex[:8]
        self.dav.put(source, "evt-1", dav_event("evt-1-%s" % uuid.uuid4().hex[:6], secret))
        r = self.api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user or "user",
                                           "password": self.dav.password or "pw", "email": "ada@home.example"})
        self.assertEqual(r.status, 201, r)
        dav_calendar = cg.calendar_for(r.json["calendars"], source)
        r = self.api.post("/v1/pairs", {"source_calendar_id": dav_calendar["id"], "target_calendar_id": default["id"],
                                        "rules": {"mode": "full"}})
        self.assertEqual(r.status, 201, r)
        status = self.wait_synced(r.json["id"])
        self.assertIsNone(status["last_error"], status)
        written = self.fake.events(default["provider_calendar_id"])
        # no DNS in this suite: home.example's policy is indeterminate, so the copy fails closed to private
        self.assertEqual([(e["subject"], e["sensitivity"]) for e in written], [("Busy", "private")])
        marker = [v for k, v in written[0]["extended"].items() if "calgateOrigin" in k]
        self.assertEqual(len(marker), 1)
        self.assertTrue(marker[0].startswith(r.json["id"] + " "))
        self.assertNotIn(secret, self.server.log_text())
        self.assertNotIn(mf.CLIENT_SECRET, self.server.log_text())

    def test_a_consumer_account_is_inside_no_organisation(self):
        status, page = mf.connect(self.api, self.public_url, EVE)
        self.assertEqual(status, 200, page)
        account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "microsoft"][0]
        self.assertEqual([i for i in account["identities"] if i["inside"]], [])

    def test_calgate_admin_connects_microsoft_and_lists_its_calendars(self):
        link = json.loads(self.server.admin("accounts", "connect-microsoft", self.user["email"], "--json").stdout)
        self.assertTrue(link["authorization_url"].startswith(self.public_url + "/oauth/start/"))
        status, page = mf.follow(link["authorization_url"], self.public_url, ADA)
        self.assertEqual(status, 200, page)
        listed = json.loads(self.server.admin("accounts", "list", "--user", self.user["email"], "--json").stdout)
        microsoft = [a for a in listed if a["provider"] == "microsoft"]
        self.assertEqual(len(microsoft), 1)
        self.assertEqual(microsoft[0]["inside"], ["contoso.example"])
        self.fake.control("POST", "calendars", {"owner": ADA, "name": "Admin added %s" % uuid.uuid4().hex[:4]})
        calendars = json.loads(self.server.admin("accounts", "calendars", microsoft[0]["id"], "--refresh", "--json").stdout)
        self.assertTrue(any(c["name"].startswith("Admin added") for c in calendars))
        r = self.server.admin("accounts", "connect-microsoft", "nobody@example.com", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no user", r.stderr)

    def test_a_denied_consent_connects_nothing(self):
        status, page = mf.connect(self.api, self.public_url, ADA, decision="deny")
        self.assertEqual(status, 400, page)
        self.assertEqual([a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "microsoft"], [])


if __name__ == "__main__":
    unittest.main()


class MicrosoftGuests(cg.ApiTestCase):
    """An organisation's own authority: its members are inside its domain; a guest it invited signs
    in with a token of that tenant naming the guest's home address, which the tenant does not
    control: inside no organisation."""

    @classmethod
    def setUpClass(cls):
        cls.fake = mf.GraphFake()
        cls.addClassCleanup(cls.fake.stop)
        cls.tenant = cls.fake.control("POST", "users", {"email": ADA})["tenantId"]
        cls.fake.control("POST", "users", {"email": "bob@fabrikam.example", "guestOf": [cls.tenant]})
        env = lambda fake, secret, url, port: dict(mf.calgate_env(fake, secret, url, port),
                                                    CALGATE_MICROSOFT_ISSUER=fake.url + cls.tenant + "/v2.0")
        cf.start_gateway(cls, cls.fake, mf.CLIENT_ID, mf.CLIENT_SECRET, env, "microsoft-tenant")

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def test_a_member_is_inside_and_a_guest_is_not(self):
        for email, inside in ((ADA, ["contoso.example"]), ("bob@fabrikam.example", [])):
            status, page = mf.connect(self.api, self.public_url, email)
            self.assertEqual(status, 200, page)
            account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["email"] == email][0]
            self.assertEqual([i["domain"] for i in account["identities"] if i["inside"]], inside, email)
        self.assertEqual(self.fake.violations(), [])
