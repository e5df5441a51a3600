"""The web portal in Debian's Chromium (tests/browser/portal_journey.mjs, playwright-core) against
the real calgate with Radicale and the Google contract fake: a person's whole journey from a
one-time sign-in link to deleting their account, each page checked by axe-core at desktop and
phone width with screenshots saved to $CG_TEST_ARTIFACTS; then what the journey did, checked on
the servers: the copies in Google are busy blocks, nothing of the events reached a page or the
export, the account is gone."""

import datetime
import json
import os
import subprocess
import tempfile
import unittest

import time

import calgate_api as cg
import contract_fake as cf
import google_fake as gf
from slow_dav import SlowDav

ADA = "ada@acme.example"
SECRETS = ["Salary review with Ada", "secret notes", "Room 42"]


def browse(test, script, config):
    """Runs a tests/browser script with `config`; returns what it saw (failing the test where it stopped)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)
    test.addCleanup(os.unlink, f.name)
    r = subprocess.run(["node", os.path.join(cg.SOURCE_DIR, "tests", "browser", script), f.name], capture_output=True,
                       text=True, timeout=280, cwd=cg.SOURCE_DIR)
    test.assertEqual(r.returncode, 0, "the browser did not run (deploy/install-deps.sh installs chromium): " + r.stderr[-2000:])
    seen = json.loads(r.stdout)
    test.assertIsNone(seen["failure"], "the browser stopped at %s after %s:\n%s\n--- page:\n%s" % (
        seen.get("failedAt"), seen["steps"], seen["failure"], seen.get("failedText")))
    return seen


def check_pages(test, seen, out, expected):
    """Every page: accessible at both widths, no sideways scrolling, no event text; nothing loaded
    from elsewhere, nothing refused by the CSP, no script error."""
    test.assertEqual(set(seen["pages"]), expected)
    for page, result in seen["pages"].items():
        for width, checks in result["widths"].items():
            with test.subTest(page=page, width=width):
                serious = [v for v in checks["axe"] if v["impact"] in ("serious", "critical")]
                test.assertEqual(serious, [], "axe-core on %s at %s width" % (page, width))
                test.assertFalse(checks["horizontalScroll"], "%s scrolls sideways at %s width" % (page, width))
                test.assertTrue(os.path.exists(os.path.join(out, "portal-%s-%s.png" % (page, width))))
        test.assertEqual(result["secretsFound"], [], "event text on the %s page (a private pair)" % page)
    test.assertEqual(seen["elsewhere"], [], "calgate's pages loaded something from another site")
    test.assertEqual(seen["cspErrors"], [], "the browser refused something under calgate's CSP")
    test.assertEqual(seen["pageErrors"], [], "script errors in the portal")


def start_calgate(cls, name):
    """For a test class: Radicale, and calgate (no OAuth provider) at a known public URL."""
    cls.dav = cg.caldav_server()
    cls.public_url = "http://127.0.0.1:%d" % cg.free_port()
    cls.server = cg.Calgate({"CALGATE_SERVER_PORT": cls.public_url.rsplit(":", 1)[1],
                             "CALGATE_SERVER_PUBLIC_URL": cls.public_url}, name=name).start()
    cls.addClassCleanup(cls.server.cleanup)


def artifacts():
    return os.environ.get("CG_TEST_ARTIFACTS") or os.path.join(cg.SOURCE_DIR, "build", "test-artifacts")


class PortalJourney(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = gf.GoogleFake()
        cls.addClassCleanup(cls.fake.stop)
        cls.fake.control("POST", "users", {"email": ADA, "hd": "acme.example"})
        cf.start_gateway(cls, cls.fake, gf.CLIENT_ID, gf.CLIENT_SECRET, gf.calgate_env, "portal-browser")

    def test_a_person_from_sign_in_link_to_deleting_their_account(self):
        user = self.server.add_user(ADA)
        link = json.loads(self.server.admin("users", "login-link", ADA, "--json").stdout)["url"]
        name = cg.unique("Work")
        cal = self.dav.make_calendar(name.lower(), display=name)
        today = datetime.datetime.now(datetime.timezone.utc).date()
        self.dav.put(cal, "review", cg.timed_event("review", SECRETS[0], today + datetime.timedelta(days=1), 9, 90))
        out = artifacts()
        config = {"base": self.public_url, "link": link, "email": ADA, "googleAccount": ADA,
                  "dav": {"url": self.dav.base, "username": self.dav.user, "password": self.dav.password,
                          "email": "ada.dav@acme.example"},
                  "sourceCalendar": name, "targetCalendar": ADA, "secrets": SECRETS, "pin": "2468", "outDir": out}
        seen = browse(self, "portal_journey.mjs", config)

        # the way in and out
        self.assertEqual(seen["linkSession"], "link")
        self.assertEqual(seen["afterSignOut"], 401)
        self.assertEqual(seen["googleSession"], "google")
        self.assertEqual(seen["afterDelete"], 401)
        check_pages(self, seen, out, {
            "signin-link", "pairs-empty", "signin", "accounts-empty", "connect-caldav", "connect-google-start",
            "connect-google-done", "accounts", "new-pair", "pair-synced", "pair-preview", "feeds-new", "feeds-created",
            "availability-pin", "availability-wrong-pin", "availability-week", "your-data", "delete-confirm",
            "account-deleted"})
        # the sync, the preview, the feed and its page
        self.assertGreaterEqual(seen["previewRows"], 1)
        self.assertIn("/feeds/cgf_", seen["feedUrl"])
        self.assertIn("wrong", seen["wrongPinText"].lower())
        self.assertIn("Ada is busy", seen["weekText"])
        self.assertIn("10:30", seen["weekText"])
        self.assertEqual(seen["exportEmail"], ADA)
        self.assertEqual(seen["exportSecretsFound"], [])
        copies = self.fake.events(ADA)
        self.assertEqual([e.get("summary") for e in copies], ["Busy"])
        for e in copies:
            self.assertNotIn("description", e)
            self.assertNotIn("location", e)
        # the account is gone, sessions with it
        self.assertEqual(self.server.count("users", "email = ?", (ADA,)), 0)
        self.assertEqual(self.server.count("portal_sessions"), 0)
        log = self.server.log_text()
        for secret in SECRETS:
            self.assertNotIn(secret, log)
        self.assertNotIn(user["token"], log)


class PortalGuard(cg.ApiTestCase):
    """The mass-delete guard met in the portal: ten of twelve sources deleted, the run held; the
    owner reads the warning on the pair's page, confirms in two steps, and the run goes on."""

    @classmethod
    def setUpClass(cls):
        start_calgate(cls, "portal-guard")

    def test_the_owner_confirms_held_deletions_in_the_portal(self):
        user = self.server.add_user()
        api = self.server.client(user["token"])
        src_url, dst_url = self.dav.make_calendar(cg.unique("g-src-")), self.dav.make_calendar(cg.unique("g-dst-"))
        today = datetime.datetime.now(datetime.timezone.utc).date()
        uids = ["g%02d" % i for i in range(12)]
        for i, uid in enumerate(uids):
            self.dav.put(src_url, uid, cg.timed_event(uid, SECRETS[0], today + datetime.timedelta(days=1 + i), 9))
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user,
                                      "password": self.dav.password, "email": "guard@example.com"})
        self.assertStatus(r, 201)
        src, dst = cg.calendar_for(r.json["calendars"], src_url), cg.calendar_for(r.json["calendars"], dst_url)
        pair = api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"],
                                      "rules": {"mode": "private"}}).json
        cf.wait_synced(api, pair["id"])
        for uid in uids[:10]:
            self.dav.send("DELETE", src_url + uid + ".ics")
        api.post("/v1/pairs/%s/sync" % pair["id"])
        cg.wait_until(lambda: api.get("/v1/pairs/%s/status" % pair["id"]).json["needs_confirmation"] or None,
                      timeout=60, what="the guard holding the run")
        link = json.loads(self.server.admin("users", "login-link", user["email"], "--json").stdout)["url"]
        out = artifacts()
        seen = browse(self, "portal_guard.mjs", {"base": self.public_url, "link": link, "email": user["email"],
                                                  "pairId": pair["id"], "secrets": SECRETS, "outDir": out})
        check_pages(self, seen, out, {"signin-link", "pairs-held", "pair-guard-held", "pair-guard-confirm",
                                      "pair-guard-resumed"})
        self.assertIn("10", seen["confirmText"])
        self.assertIn("calgate works at " + self.public_url, seen["addressWarning"])
        cg.wait_until(lambda: len(self.dav.events(dst_url)) == 2 or None, timeout=60, what="the ten copies deleted")
        status = api.get("/v1/pairs/%s/status" % pair["id"]).json
        self.assertFalse(status["needs_confirmation"])


class PortalKeyboard(cg.ApiTestCase):
    """The portal with the keyboard only: sign in, navigate, make a feed, copy its URL, revoke it;
    the focus goes where a keyboard user needs it after each step."""

    @classmethod
    def setUpClass(cls):
        start_calgate(cls, "portal-keyboard")

    def test_a_feed_made_and_revoked_with_the_keyboard(self):
        user = self.server.add_user()
        api = self.server.client(user["token"])
        name = cg.unique("Keys")
        self.dav.make_calendar(name.lower(), display=name)
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user,
                                      "password": self.dav.password, "email": "keys@example.com"})
        self.assertStatus(r, 201)
        link = json.loads(self.server.admin("users", "login-link", user["email"], "--json").stdout)["url"]
        out = artifacts()
        seen = browse(self, "portal_keyboard.mjs", {"base": self.public_url, "link": link, "email": user["email"],
                                                     "calendar": name, "secrets": SECRETS, "outDir": out})
        check_pages(self, seen, out, {"keyboard-feed-created", "keyboard-feed-revoke"})
        self.assertEqual(seen["focus"]["afterNavigation"], "H1:Feeds")  # the view's heading, not the top
        self.assertTrue(seen["focus"]["afterCreate"].startswith("H2:Your new feed: Out of office"), seen["focus"])
        self.assertTrue(seen["focus"]["inConfirmation"].startswith("BUTTON:Yes, revoke feed"), seen["focus"])
        self.assertEqual(seen["focus"]["afterRevoke"], "H1:Feeds")
        feeds = api.get("/v1/feeds").json["feeds"]
        self.assertEqual([(f["label"], f["pin_protected"], f["revoked_at"] is not None) for f in feeds],
                         [("Out of office", True, True)])


class PortalProgress(cg.ApiTestCase):
    """A running sync's progress, end to end: the target's writes held at a gate (slow_dav.py), the
    run's step and "written of planned" in GET /v1/pairs/{id}/status as the workers record it, and
    the same on the pair's page in Chromium, until the run is done."""

    @classmethod
    def setUpClass(cls):
        start_calgate(cls, "portal-progress")
        cls.gate = SlowDav(cls.dav.base)
        cls.addClassCleanup(cls.gate.close)

    def progress(self, api, pair_id):
        job = api.get("/v1/pairs/%s/status" % pair_id).json.get("job") or {}
        return job.get("progress")

    def test_the_owner_watches_a_run_write(self):
        user = self.server.add_user()
        api = self.server.client(user["token"])
        src_url, dst_url = self.dav.make_calendar(cg.unique("p-src-")), self.dav.make_calendar(cg.unique("p-dst-"))
        today = datetime.datetime.now(datetime.timezone.utc).date()
        for i in range(4):
            self.dav.put(src_url, "p%d" % i, cg.timed_event("p%d" % i, SECRETS[0], today + datetime.timedelta(days=1 + i), 9))
        accounts = {}
        for role, base in (("src", self.dav.base), ("dst", self.gate.base)):  # the target's writes pass the gate
            r = api.post("/v1/accounts", {"provider": "caldav", "server_url": base, "username": self.dav.user,
                                          "password": self.dav.password, "email": role + "@example.com"})
            self.assertStatus(r, 201)
            accounts[role] = r.json["calendars"]
        self.gate.mode = "gate"
        pair = api.post("/v1/pairs", {"source_calendar_id": cg.calendar_for(accounts["src"], src_url)["id"],
                                      "target_calendar_id": cg.calendar_for(accounts["dst"], dst_url)["id"],
                                      "rules": {"mode": "private"}}).json  # its first run starts now, and waits
        p = cg.wait_until(lambda: (lambda p: p if p and p["step"] == "writing" else None)(self.progress(api, pair["id"])),
                          timeout=60, what="the run writing")
        self.assertEqual((p["planned"], p["written"]), (4, 0))
        for written in (1, 2):
            time.sleep(1.1)  # the run records its count at most once a second
            self.gate.release(1)
            cg.wait_until(lambda: (self.progress(api, pair["id"]) or {}).get("written") == written or None,
                          timeout=60, what="%d written" % written)
        link = json.loads(self.server.admin("users", "login-link", user["email"], "--json").stdout)["url"]
        out = artifacts()
        config = {"base": self.public_url, "link": link, "email": user["email"], "pairId": pair["id"], "planned": 4,
                  "writtenAtGate": 2, "secrets": SECRETS, "outDir": out}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
        self.addCleanup(os.unlink, f.name)
        browser = subprocess.Popen(["node", os.path.join(cg.SOURCE_DIR, "tests", "browser", "portal_progress.mjs"), f.name],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cg.SOURCE_DIR)
        try:
            lines = []
            for line in browser.stdout:  # the page shows 2 of 4; then the rest may be written
                lines.append(line)
                if line.strip() == "progress-seen":
                    break
            self.gate.release(10)
            rest, err = browser.communicate(timeout=200)
        finally:
            self.gate.release(10)
            if browser.poll() is None:
                browser.kill()
        self.assertEqual(browser.returncode, 0, err[-2000:])
        seen = json.loads((rest.strip().splitlines() or lines)[-1])
        self.assertIsNone(seen["failure"], "%s\n%s" % (seen["failure"], seen.get("failedText")))
        check_pages(self, seen, out, {"signin-link", "pair-progress"})
        self.assertIn("2 of 4", seen["progressText"])
        self.assertEqual(seen["progress"], {"max": "4", "value": "2"})
        cg.wait_until(lambda: len(self.dav.events(dst_url)) == 4 or None, timeout=60, what="the four copies")
        self.assertIsNone(self.progress(api, pair["id"]))


if __name__ == "__main__":
    unittest.main()
