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

import calgate_api as cg
import contract_fake as cf
import google_fake as gf

ADA = "ada@acme.example"
SECRETS = ["Salary review with Ada", "secret notes", "Room 42"]


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
        out = os.environ.get("CG_TEST_ARTIFACTS") or os.path.join(cg.SOURCE_DIR, "build", "test-artifacts")
        config = {"base": self.public_url, "link": link, "email": ADA, "googleAccount": ADA,
                  "dav": {"url": self.dav.base, "username": self.dav.user, "password": self.dav.password,
                          "email": "ada.dav@acme.example"},
                  "sourceCalendar": name, "targetCalendar": ADA, "secrets": SECRETS, "pin": "2468", "outDir": out}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(config, f)
        self.addCleanup(os.unlink, f.name)
        script = os.path.join(cg.SOURCE_DIR, "tests", "browser", "portal_journey.mjs")
        r = subprocess.run(["node", script, f.name], capture_output=True, text=True, timeout=280, cwd=cg.SOURCE_DIR)
        self.assertEqual(r.returncode, 0, "the browser did not run (deploy/install-deps.sh installs chromium): " + r.stderr[-2000:])
        seen = json.loads(r.stdout)
        self.assertIsNone(seen["failure"], "the journey stopped at %s after %s:\n%s\n--- page:\n%s" % (
            seen.get("failedAt"), seen["steps"], seen["failure"], seen.get("failedText")))

        # the way in and out
        self.assertEqual(seen["linkSession"], "link")
        self.assertEqual(seen["afterSignOut"], 401)
        self.assertEqual(seen["googleSession"], "google")
        self.assertEqual(seen["afterDelete"], 401)
        # every page: accessible at both widths, no sideways scrolling, nothing of the events
        expected = {"signin-link", "pairs-empty", "signin", "accounts-empty", "connect-caldav", "connect-google-start",
                    "connect-google-done", "accounts", "new-pair", "pair-synced", "pair-preview", "feeds-new",
                    "feeds-created", "availability-pin", "availability-wrong-pin", "availability-week", "your-data",
                    "delete-confirm", "account-deleted"}
        self.assertEqual(set(seen["pages"]), expected)
        for page, result in seen["pages"].items():
            for width, checks in result["widths"].items():
                with self.subTest(page=page, width=width):
                    serious = [v for v in checks["axe"] if v["impact"] in ("serious", "critical")]
                    self.assertEqual(serious, [], "axe-core on %s at %s width" % (page, width))
                    self.assertFalse(checks["horizontalScroll"], "%s scrolls sideways at %s width" % (page, width))
                    self.assertTrue(os.path.exists(os.path.join(out, "portal-%s-%s.png" % (page, width))))
            self.assertEqual(result["secretsFound"], [], "event text on the %s page (a private pair)" % page)
        self.assertEqual(seen["elsewhere"], [], "calgate's pages loaded something from another site")
        self.assertEqual(seen["cspErrors"], [], "the browser refused something under calgate's CSP")
        self.assertEqual(seen["pageErrors"], [], "script errors in the portal")
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


if __name__ == "__main__":
    unittest.main()
