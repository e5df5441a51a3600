"""The availability page of a feed (/availability/{token}) through the real binary and Radicale:
the week's busy blocks with the feed's label and nothing of the events, week navigation inside the
feed's window, a PIN form for a protected feed with the ICS feed's lockout, strict headers (a CSP
allowing nothing but the page's own stylesheet), and clear answers to bad input."""

import datetime
import json
import os
import subprocess
import urllib.parse
import unittest

import calgate_api as cg


def monday(offset_weeks=0):
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=offset_weeks)


class WithFeeds(cg.ApiTestCase):
    """calgate, Radicale, a user with a CalDAV calendar holding this week's and next week's events."""
    @classmethod
    def setUpClass(cls):
        cls.server = cg.Calgate(name="availability").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.dav = cg.caldav_server()
        user = cls.server.add_user()
        cls.api = cls.server.client(user["token"])
        cls.anon = cls.server.client()
        cal = cls.dav.make_calendar(cg.unique("avail"))
        cls.dav.put(cal, "planning", cg.timed_event("planning", "Salary review with Ada", monday() + datetime.timedelta(days=2), 9, 90))
        cls.dav.put(cal, "later", cg.timed_event("later", "Dentist", monday(1) + datetime.timedelta(days=1), 14))
        r = cls.api.post("/v1/accounts", {"provider": "caldav", "server_url": cls.dav.base, "username": cls.dav.user or "user",
                                          "password": cls.dav.password or "pw", "email": user["email"]})
        assert r.status == 201, r
        cls.calendar = cg.calendar_for(r.json["calendars"], cal)["id"]

    def feed(self, **extra):
        # a window of 14 days back and 30 ahead: this week and the next are inside it whatever today is
        r = self.api.post("/v1/feeds", {"calendar_ids": [self.calendar], "label": "Away <b>&</b>",
                                        "window": {"past_days": 14, "future_days": 30}, **extra})
        self.assertStatus(r, 201)
        return r.json["token"]


class AvailabilityPage(WithFeeds):
    def page(self, token, query=None):
        return self.anon.get("/availability/" + token, query=query)

    def form(self, token, fields, content_type="application/x-www-form-urlencoded"):
        return self.anon.request("POST", "/availability/" + token, urllib.parse.urlencode(fields).encode(),
                                 content_type=content_type)

    def assertSafePage(self, r):
        self.assertEqual(r.header("Content-Type"), "text/html; charset=utf-8")
        csp = r.header("Content-Security-Policy")
        self.assertTrue(csp.startswith("default-src 'none'; style-src 'sha256-"), csp)
        self.assertIn("frame-ancestors 'none'", csp)
        self.assertEqual(r.header("Referrer-Policy"), "no-referrer")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        for tag, attrs in cg.tags(r.text):
            self.assertNotIn(tag, ("script", "link", "img", "iframe"), r.text)
            self.assertNotIn("style", attrs)
        for secret in ("Salary", "Dentist", "secret notes", "Room 42", "planning"):
            self.assertNotIn(secret, r.text)

    def test_an_open_feed_shows_this_week_busy_times_with_its_label_and_moves_week_by_week(self):
        token = self.feed()
        r = self.page(token)
        self.assertEqual(r.status, 200, r)
        self.assertSafePage(r)
        self.assertIn("Away &lt;b&gt;&amp;&lt;/b&gt;", r.text)  # the label, escaped
        self.assertNotIn("<b>&</b>", r.text)
        self.assertIn("09:00&ndash;10:30", r.text)
        self.assertIn("Week of %s" % monday().isoformat(), r.text)
        self.assertEqual(r.text.count("Free all day"), 6)
        # the next week, by its link
        links = [a["href"] for t, a in cg.tags(r.text) if t == "a"]
        self.assertIn("?week=%s" % monday(1).isoformat(), links)
        r = self.page(token, {"week": (monday(1) + datetime.timedelta(days=3)).isoformat()})
        self.assertEqual(r.status, 200, r)
        self.assertIn("Week of %s" % monday(1).isoformat(), r.text)
        self.assertIn("14:00&ndash;15:00", r.text)
        self.assertNotIn("09:00&ndash;10:30", r.text)
        # outside the feed's window, or not a date
        self.assertProblem(self.page(token, {"week": monday(10).isoformat()}), 400, "invalid-query")
        self.assertProblem(self.page(token, {"week": "next"}), 400, "invalid-query")

    def test_a_pin_feed_asks_for_its_pin_and_locks_like_the_ics_feed(self):
        token = self.feed(pin="2468")
        r = self.page(token)
        self.assertEqual(r.status, 200, r)
        self.assertSafePage(r)
        self.assertNotIn("09:00", r.text)
        self.assertIn(("input", {"id": "pin", "name": "pin", "type": "password", "inputmode": "numeric", "autocomplete": "off",
                                 "required": None, "autofocus": None}), cg.tags(r.text))
        self.assertEqual(self.form(token, {"pin": "0000"}).status, 401)
        r = self.form(token, {"pin": "2468"})
        self.assertEqual(r.status, 200, r)
        self.assertSafePage(r)
        self.assertIn("09:00&ndash;10:30", r.text)
        # the week buttons carry the PIN (a form, never a link with the PIN in the URL)
        self.assertNotIn("?week=", r.text)
        r = self.form(token, {"pin": "2468", "week": monday(1).isoformat()})
        self.assertIn("14:00&ndash;15:00", r.text)
        # wrong PINs lock it, as they lock the ICS feed
        statuses = [self.form(token, {"pin": "1111"}).status for _ in range(5)]
        self.assertEqual(statuses[-1], 429, statuses)
        locked = self.form(token, {"pin": "2468"})
        self.assertEqual(locked.status, 429)
        self.assertTrue(locked.header("Retry-After"))
        self.assertIn("Too many wrong PINs", locked.text)

    def test_bad_requests_get_clear_answers(self):
        token = self.feed()
        self.assertProblem(self.form(token, {"week": ""}, content_type="application/json"), 415, "unsupported-media-type")
        big = self.anon.request("POST", "/availability/" + token, b"pin=" + b"1" * 2000,
                                content_type="application/x-www-form-urlencoded")
        self.assertProblem(big, 413, "body-too-large")
        bad = self.anon.request("POST", "/availability/" + token, b"pin=%zz", content_type="application/x-www-form-urlencoded")
        self.assertProblem(bad, 400, "invalid-form")
        self.assertEqual(self.page("cgf_" + "A" * 43).status, 404)
        self.assertEqual(self.page("nonsense").status, 404)
        # a revoked feed's page is gone with it
        r = self.api.post("/v1/feeds", {"calendar_ids": [self.calendar]})
        self.assertStatus(self.api.delete("/v1/feeds/%s" % r.json["id"]), 204)
        self.assertEqual(self.page(r.json["token"]).status, 404)


class AvailabilityInABrowser(WithFeeds):
    """The page in Debian's Chromium (playwright-core), at desktop and phone width, with the
    keyboard only, checked by axe-core; screenshots go to $CG_TEST_ARTIFACTS (the build's
    test-artifacts directory under ctest)."""

    def browse(self, token, name, pin=None):
        out = os.environ.get("CG_TEST_ARTIFACTS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                                  "build", "test-artifacts")
        script = os.path.join(cg.SOURCE_DIR, "tests", "browser", "check_page.mjs")
        args = ["node", script, "http://127.0.0.1:%d/availability/%s" % (self.server.port, token), out, name]
        r = subprocess.run(args + (["--pin", pin] if pin else []), capture_output=True, text=True, timeout=120, cwd=cg.SOURCE_DIR)
        self.assertEqual(r.returncode, 0, "the browser did not run (deploy/install-deps.sh installs chromium): " + r.stderr[-2000:])
        result = json.loads(r.stdout)
        for width, seen in result["widths"].items():
            with self.subTest(width=width):
                serious = [v for v in seen["axe"] if v["impact"] in ("serious", "critical")]
                self.assertEqual(serious, [], "axe-core at %s width: %s" % (width, seen["axe"]))
                self.assertEqual(seen["elsewhere"], [], "requests leaving the page's origin")
                self.assertEqual([e for e in seen["consoleErrors"] if "Content Security Policy" in e], [])
                self.assertFalse(seen["horizontalScroll"], "the page scrolls sideways at %s width" % width)
                self.assertTrue(os.path.exists(os.path.join(out, "%s-%s.png" % (name, width))))
        return result

    def test_the_week_in_a_browser_at_desktop_and_phone_width_with_the_keyboard(self):
        seen = self.browse(self.feed(), "availability-week")
        for width in ("desktop", "phone"):
            self.assertIn("09:00–10:30", seen["widths"][width]["text"])
            self.assertIn("A:Next week →", seen["widths"][width]["reached"])  # the keyboard reaches the week links

    def test_the_pin_form_in_a_browser_typed_and_submitted_with_the_keyboard(self):
        token = self.feed(pin="2468")
        form = self.browse(token, "availability-pin-form")
        self.assertIn("protected by a PIN", form["widths"]["phone"]["text"])
        week = self.browse(token, "availability-pin-week", pin="2468")
        for width in ("desktop", "phone"):
            self.assertIn("09:00–10:30", week["widths"][width]["text"])
            self.assertNotIn("Salary", week["widths"][width]["text"])


if __name__ == "__main__":
    unittest.main()
