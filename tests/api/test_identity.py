"""Who an account is decides its organisation policies (issue 19), through the real binary and real
CalDAV servers: the registrable domain of the server host (Radicale reached as
caldav.acme.localhost, which libcurl resolves to loopback) and the principal's
calendar-user-address-set (a private Xandikos that reports the address in its EMAIL variable), never
the address the user typed, on every path that connects an account (the API with a login name that
is not an address, `calgate-admin accounts add-caldav`) and on the refresh that proves an older
account again. The preview names the domains it consulted."""

import json
import os
import subprocess
import time
import urllib.parse

import calgate_api as cg


def on_host(url, host):
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, "%s:%d" % (host, u.port), u.path, "", ""))


def identities(account):
    return sorted((i["kind"], i["address"], i["domain"], i["inside"]) for i in account["identities"])


class ClaimingXandikos:
    """A Xandikos whose principal reports `email` in its calendar-user-address-set."""

    def __init__(self, email):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="cg-xandikos-")
        self.port = cg.free_port()
        env = dict(os.environ, EMAIL=email)
        self.proc = subprocess.Popen(["/usr/bin/xandikos", "-d", self.dir, "-l", "127.0.0.1", "-p", str(self.port),
                                      "--defaults"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                import http.client
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/")
                c.getresponse().read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("xandikos did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)


class IdentityTest(cg.ApiTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dav = cg.caldav_server("radicale")
        cls.acme_url = on_host(cls.dav.base, "caldav.acme.localhost")
        cls.claiming = ClaimingXandikos("Alice <alice@acme.localhost>")
        cls.addClassCleanup(cls.claiming.stop)
        cls.mine_url = "http://dav.mine.localhost:%d/" % cls.claiming.port
        cls.server = cg.Calgate(name="identity").start()
        cls.addClassCleanup(cls.server.cleanup)

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def connect(self, url, username, password, email=None):
        body = {"provider": "caldav", "server_url": url, "username": username, "password": password}
        if email is not None:
            body["email"] = email
        return self.api.post("/v1/accounts", body)

    def test_a_typed_gmail_address_on_the_organisations_server_is_only_a_label(self):
        r = self.connect(self.acme_url, "alice", self.dav.password, "me@gmail.com")  # login name: not an address
        self.assertStatus(r, 201)
        self.assertEqual(r.json["email"], "me@gmail.com")
        self.assertTrue(r.json["identities_proven"])
        self.assertEqual(identities(r.json), [("server-domain", None, "acme.localhost", True)])
        listed = json.loads(self.server.admin("accounts", "list", "--user", self.user["email"], "--json").stdout)
        self.assertEqual(listed[0]["policy_domains"], ["acme.localhost"])
        self.assertEqual(listed[0]["inside"], ["acme.localhost"])
        self.assertNotIn("gmail.com", json.dumps(listed[0]["policy_domains"]))
        text = self.server.admin("accounts", "list").stdout
        self.assertIn("acme.localhost (server-domain, inside acme.localhost)", text)

    def test_calgate_admin_add_caldav_proves_the_account_too(self):
        r = subprocess.run([cg.CALGATE_ADMIN, "accounts", "add-caldav", self.user["email"], "me@gmail.com",
                            self.acme_url, "--username", "alice", "--json"], input=self.dav.password + "\n",
                           env=self.server.env, capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["domains"], ["acme.localhost"])
        account = self.api.get("/v1/accounts/" + out["account_id"])
        self.assertStatus(account, 200)
        self.assertEqual(identities(account.json), [("server-domain", None, "acme.localhost", True)])

    def test_a_server_claim_counts_for_policies_but_is_no_membership(self):
        r = self.connect(self.mine_url, "user", "pw")  # no email: the server's address labels it
        self.assertStatus(r, 201)
        self.assertEqual(r.json["email"], "alice@acme.localhost")
        self.assertEqual(identities(r.json), [("caldav-address", "alice@acme.localhost", "acme.localhost", False),
                                              ("server-domain", None, "mine.localhost", True)])
        # a typed address the server's own addresses contradict is refused, and nothing is stored
        before = self.server.count("accounts")
        refused = self.connect(self.mine_url, "user", "pw", "boss@acme.localhost")
        self.assertProblem(refused, 422, "domain-mismatch")
        self.assertIn("alice@acme.localhost", refused.json["detail"])
        self.assertEqual(self.server.count("accounts"), before)

    def test_the_preview_names_the_domains_it_consulted(self):
        source = self.connect(self.acme_url, "alice", self.dav.password, "src@example.com")
        self.assertStatus(source, 201)
        target = self.connect(self.mine_url, "user", "pw", "alice@acme.localhost")
        if target.status == 409:  # connected by another test of this class for another user: fine
            self.fail(target)
        self.assertStatus(target, 201)
        src_url = self.dav.make_calendar(cg.unique("id-src-"))
        refreshed = self.api.get("/v1/accounts/%s/calendars" % source.json["id"], query={"refresh": "true"})
        self.assertStatus(refreshed, 200)
        src = cg.calendar_for(refreshed.json["calendars"], src_url)["id"]
        dst = target.json["calendars"][0]["id"]
        pair = self.api.post("/v1/pairs", {"source_calendar_id": src, "target_calendar_id": dst})
        self.assertStatus(pair, 201)
        preview = self.api.get("/v1/pairs/%s/preview" % pair.json["id"])
        self.assertStatus(preview, 200)
        self.assertEqual(preview.json["domains"], {"source": ["acme.localhost"], "target_inside": ["mine.localhost"]})
        self.assertEqual([p["domain"] for p in preview.json["org_policies"]], ["acme.localhost"])
        self.assertEqual(preview.json["org_policy"]["domain"], "acme.localhost")

    def test_an_account_connected_before_proofs_is_proven_again_on_refresh(self):
        r = self.connect(self.acme_url, "alice", self.dav.password, "old@acme.localhost")
        self.assertStatus(r, 201)
        account_id = r.json["id"]
        self.server.execute("UPDATE accounts SET identities = NULL WHERE id = ?", (account_id,))
        legacy = self.api.get("/v1/accounts/" + account_id)
        self.assertFalse(legacy.json["identities_proven"])
        self.assertEqual(identities(legacy.json), [("server-domain", None, "acme.localhost", True),
                                                   ("typed", "old@acme.localhost", "acme.localhost", False)])
        self.assertStatus(self.api.get("/v1/accounts/%s/calendars" % account_id, query={"refresh": "true"}), 200)
        proven = self.api.get("/v1/accounts/" + account_id)
        self.assertTrue(proven.json["identities_proven"])
        self.assertEqual(identities(proven.json), [("server-domain", None, "acme.localhost", True)])

