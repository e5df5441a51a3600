"""Push end to end: calgate serves plain HTTP behind Debian's nginx terminating TLS with a test CA
(as docs/operations.md sets it up), server.public_url is that https URL, and the Google contract
fake delivers its notifications there. A pair from Google opens a channel on its calendar; an
event the user adds in Google is copied to Radicale without waiting for a poll (the poll interval
is an hour); forged and unknown notifications cause no work; deleting the account (or erasing the
user) stops the channel at once. Stopping with a pair is covered by tests/sync/push_*_test.cpp."""

import json
import os
import urllib.parse
import unittest
import uuid

import calgate_api as cg
import contract_fake as cf
import google_fake as gf
import graph_fake as mf
import tls_proxy

ADA = "ada@acme.example"
MS_ADA = "ada@contoso.example"


def day(offset_days, hour):
    import datetime
    d = datetime.datetime.now(datetime.timezone.utc).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (d + datetime.timedelta(days=offset_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_behind_proxy(cls, fake_module, fake_options, name):
    """nginx with a test CA, the fake delivering to it, calgate behind it with public_url = https."""
    cls.proxy = tls_proxy.TlsProxy()
    cls.addClassCleanup(cls.proxy.stop)
    # the fake, like Google and Microsoft, delivers only to https it can verify: the test CA
    factory = fake_module.GoogleFake if fake_module is gf else fake_module.GraphFake
    cls.fake = factory("deliveryCa=" + json.dumps(cls.proxy.ca_pem), *fake_options)
    cls.addClassCleanup(cls.fake.stop)
    # this test's own requests to the public URL (the OAuth journey) trust the test CA too
    os.environ["SSL_CERT_FILE"] = cls.proxy.ca_file

    def env(fake, secret_file, public_url, port):
        return fake_module.calgate_env(fake, secret_file, cls.proxy.url, port)
    return env


def finish_behind_proxy(cls, client_id, client_secret):
    # start_gateway registered the plain URL: calgate's public URL is the proxy's
    cls.fake.control("POST", "clients", {"clientId": client_id, "clientSecret": client_secret,
                                         "redirectUris": [cls.proxy.url + "/oauth/callback"]})
    cls.proxy.start(cls.server.port)
    cls.public_url = cls.proxy.url


def caldav_target(test, prefix):
    """A new Radicale calendar of a new CalDAV account of the test's user: (calendar, its calgate id)."""
    home = test.dav.make_calendar(cg.unique(prefix))
    r = test.api.post("/v1/accounts", {"provider": "caldav", "server_url": test.dav.base, "username": test.dav.user or "user",
                                       "password": test.dav.password or "pw", "email": "ada@home.example"})
    assert r.status == 201, r
    return home, cg.calendar_for(r.json["calendars"], home)["id"]


def runs(server):
    return len([l for l in server.log_lines() if l.get("event") == "sync.pair_done"])


class GooglePush(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env = start_behind_proxy(cls, gf, ["deliveryBackoffMs=50"], "push")
        cls.fake.control("POST", "users", {"email": ADA, "hd": "acme.example"})
        cf.start_gateway(cls, cls.fake, gf.CLIENT_ID, gf.CLIENT_SECRET, env, "push")
        finish_behind_proxy(cls, gf.CLIENT_ID, gf.CLIENT_SECRET)

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def tearDown(self):
        self.assertEqual(self.fake.violations(), [], "the fake answered outside the discovery document")

    def webhook(self, headers):
        return cf.fetch("POST", self.public_url + "/webhooks/google", b"", headers)

    def test_a_change_in_google_arrives_by_push_forgeries_do_nothing_and_the_channel_stops_with_the_account(self):
        status, page = gf.connect(self.api, self.public_url, ADA)
        self.assertEqual(status, 200, page)
        account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "google"][0]
        primary = [c for c in self.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
                   if c["provider_calendar_id"] == ADA][0]
        home, target = caldav_target(self, "push-")
        r = self.api.post("/v1/pairs", {"source_calendar_id": primary["id"], "target_calendar_id": target, "rules": {"mode": "full"}})
        self.assertEqual(r.status, 201, r)
        pair = r.json["id"]
        cf.wait_synced(self.api, pair)

        # the first sync opened a channel on the Google calendar; its "sync" message came through nginx
        def opened():
            state = self.fake.control("GET", "state")
            live = [c for c in state["channels"] if not c["stopped"] and c["calendarId"] == ADA]
            done = [d for d in state["deliveries"] if d["state"] == "sync" and d["status"] == 200]
            return live if live and done else None
        channels = cg.wait_until(opened, timeout=30, what="a push channel on the Google calendar")
        self.assertEqual(len(channels), 1)
        channel = channels[0]
        self.assertEqual(channel["address"], self.public_url + "/webhooks/google")
        self.assertTrue(channel["hasToken"])
        # the pair's status says its source notifies
        push = self.api.get("/v1/pairs/%s/status" % pair).json["push"]
        self.assertEqual([(p["notified"], p["reason"]) for p in push], [(True, None)])

        # forged and unknown notifications (the fake sends them as an attacker would): refused or
        # ignored, no work
        runs_before = runs(self.server)
        for kind, expected in (("wrong_token", 401), ("wrong_resource", 401), ("unknown_channel", 200)):
            r = self.fake.control("POST", "channels/%s/forge" % channel["id"], {"kind": kind})
            self.assertEqual(r["status"], expected, kind)
        base = {"X-Goog-Channel-ID": channel["id"], "X-Goog-Resource-ID": channel["resourceId"],
                "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "99"}
        status, _, _ = self.webhook(base)  # no token at all
        self.assertEqual(status, 401)

        # the user adds an event in Google: the copy arrives without a poll (no DNS in this suite:
        # acme.example's policy is indeterminate, so the copy fails closed to "Busy")
        copies_before = len(self.dav.events(home))
        title = "Pushed %s" % uuid.uuid4().hex[:8]
        self.fake.control("POST", self.fake.calendar_path(ADA) + "/events",
                          {"summary": title, "start": {"dateTime": day(2, 10)}, "end": {"dateTime": day(2, 11)}})
        copies = cg.wait_until(lambda: (lambda c: c if len(c) == copies_before + 1 else None)(self.dav.events(home)),
                               timeout=20, what="the pushed change copied to Radicale")
        self.assertNotIn(title, "".join(copies.values()))
        state = self.fake.control("GET", "state")
        self.assertTrue([d for d in state["deliveries"] if d["state"] == "exists" and d["status"] == 200], state["deliveries"])
        # one run for the change, none for the forged or unknown notifications
        self.assertEqual(runs(self.server), runs_before + 1)
        self.assertIn("push.notification_refused", self.server.log_text())
        # ...and each counted: the sync message and the change verified, three forged, one unknown
        m = self.server.metrics()
        g = '{provider="google"}'
        self.assertEqual(m["calgate_push_notifications_received_total" + g], 6)
        self.assertEqual(m["calgate_push_notifications_verified_total" + g], 2)
        self.assertEqual(m['calgate_push_notifications_rejected_total{provider="google",reason="forged"}'], 3)
        self.assertEqual(m['calgate_push_notifications_rejected_total{provider="google",reason="unknown_channel"}'], 1)
        self.assertEqual(m['calgate_push_upkeep_total{provider="google",action="open",result="ok"}'], 1)
        self.assertEqual(m["calgate_push_channels" + g], 1)
        self.assertEqual(m["calgate_push_to_write_seconds_count"], 1)
        self.assertEqual(m['calgate_push_to_write_seconds_bucket{le="+Inf"}'], 1)
        # the operator sees the channel
        listed = json.loads(self.server.admin("push", "list", "--json").stdout)
        self.assertEqual([(c["id"], c["provider"], c["state"], c["calendar_id"]) for c in listed["channels"]],
                         [(channel["id"], "google", "active", primary["id"])])
        self.assertEqual(listed["refused"], [])

        # the account goes (its pair with it): its channel is stopped before its credential goes, at once
        r = self.api.delete("/v1/accounts/%s" % account["id"])
        self.assertEqual(r.status, 204, r)
        self.assertTrue(all(c["stopped"] for c in self.fake.control("GET", "state")["channels"] if c["calendarId"] == ADA))
        self.assertEqual(json.loads(self.server.admin("push", "list", "--json").stdout)["channels"], [])


class MicrosoftPush(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        env = start_behind_proxy(cls, mf, ["replayRate=0", "duplicateRate=0", "deliveryBackoffMs=50"], "push-ms")
        cls.fake.control("POST", "users", {"email": MS_ADA, "name": "Ada"})
        cf.start_gateway(cls, cls.fake, mf.CLIENT_ID, mf.CLIENT_SECRET, env, "push-ms")
        finish_behind_proxy(cls, mf.CLIENT_ID, mf.CLIENT_SECRET)

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def tearDown(self):
        self.assertEqual(self.fake.violations(), [], "the fake answered outside its contract")

    def subscriptions(self):
        return self.fake.control("GET", "state")["subscriptions"]

    def test_graph_validates_calgate_through_nginx_changes_and_lifecycle_events_arrive_and_the_subscription_goes_with_the_user(self):
        status, page = mf.connect(self.api, self.public_url, MS_ADA)
        self.assertEqual(status, 200, page)
        account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "microsoft"][0]
        default = [c for c in self.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"] if c["name"] == "Calendar"][0]
        home, target = caldav_target(self, "push-ms-")
        # Graph gives calgate 1 ms to answer its handshake: too late through nginx, no subscription
        self.fake.control("POST", "options", {"validationTimeoutMs": 1})
        r = self.api.post("/v1/pairs", {"source_calendar_id": default["id"], "target_calendar_id": target, "rules": {"mode": "full"}})
        self.assertEqual(r.status, 201, r)
        pair = r.json["id"]
        cf.wait_synced(self.api, pair)
        refused = cg.wait_until(lambda: json.loads(self.server.admin("push", "list", "--json").stdout)["refused"] or None,
                                timeout=30, what="the refused subscription recorded")
        self.assertEqual([r["calendar_id"] for r in refused], [default["id"]])
        self.assertEqual(self.subscriptions(), [])
        # the pair is polled, and its status says why
        push = self.api.get("/v1/pairs/%s/status" % pair).json["push"]
        self.assertEqual([p["notified"] for p in push], [False])
        self.assertTrue(push[0]["reason"], push)
        self.assertEqual(self.server.metrics()['calgate_push_upkeep_total{provider="microsoft",action="open",result="failed"}'], 1)
        # the operator fixed it (here: Graph waits its usual 10 s) and asks again at once
        self.fake.control("POST", "options", {"validationTimeoutMs": 10000})
        out = self.server.admin("push", "retry").stdout
        self.assertIn("forgot 1 refusal", out)

        # the upkeep made a subscription; Graph validated both URLs through nginx first
        subs = cg.wait_until(lambda: self.subscriptions() or None, timeout=30, what="a subscription on the calendar")
        self.assertEqual(len(subs), 1)
        sub = subs[0]
        self.assertEqual(sub["notificationUrl"], self.public_url + "/webhooks/microsoft")
        self.assertEqual(sub["lifecycleNotificationUrl"], self.public_url + "/webhooks/microsoft/lifecycle")
        handshakes = self.fake.control("GET", "state")["handshakes"]
        self.assertEqual([h["ok"] for h in handshakes][-2:], [True, True], handshakes)
        self.assertFalse(handshakes[0]["ok"], handshakes)
        self.assertEqual(json.loads(self.server.admin("push", "list", "--json").stdout)["refused"], [])

        # forged notifications (the fake sends them as an attacker would): the right clientState naming
        # another subscription is refused; a clientState calgate never gave finds nothing to do
        runs_before = runs(self.server)
        self.assertEqual(self.fake.control("POST", "subscriptions/%s/forge" % sub["id"], {"kind": "unknown_subscription"})["status"], 401)
        self.assertEqual(self.fake.control("POST", "subscriptions/%s/forge" % sub["id"], {"kind": "wrong_client_state"})["status"], 202)
        status, _, _ = cf.fetch("POST", self.public_url + "/webhooks/microsoft", b"{}", {"Content-Type": "application/json"})
        self.assertEqual(status, 401)

        # a change in Outlook arrives by push
        copies_before = len(self.dav.events(home))
        self.fake.control("POST", "calendars/%s/events" % urllib.parse.quote(default["provider_calendar_id"], safe=""),
                          {"subject": "Pushed", "start": {"dateTime": day(2, 10)[:19], "timeZone": "UTC"},
                           "end": {"dateTime": day(2, 11)[:19], "timeZone": "UTC"}})
        cg.wait_until(lambda: len(self.dav.events(home)) == copies_before + 1 or None, timeout=20,
                      what="the pushed change copied to Radicale")
        deliveries = self.fake.control("GET", "state")["deliveries"]
        self.assertTrue([d for d in deliveries if d["ok"] and d["status"] == 202], deliveries)
        self.assertEqual(runs(self.server), runs_before + 1)
        m = self.server.metrics()
        self.assertGreaterEqual(m["calgate_push_validations_total"], 2)
        self.assertEqual(m['calgate_push_notifications_rejected_total{provider="microsoft",reason="forged"}'], 2)
        self.assertEqual(m['calgate_push_notifications_rejected_total{provider="microsoft",reason="unknown_channel"}'], 1)
        self.assertGreaterEqual(m['calgate_push_notifications_verified_total{provider="microsoft"}'], 1)
        self.assertEqual(m['calgate_push_upkeep_total{provider="microsoft",action="open",result="ok"}'], 1)
        self.assertGreaterEqual(m["calgate_push_to_write_seconds_count"], 1)

        # lifecycle: missed -> the calendar is synced; subscriptionRemoved -> a new subscription
        self.fake.control("POST", "subscriptions/%s/lifecycle" % sub["id"], {"event": "missed"})
        cg.wait_until(lambda: runs(self.server) == runs_before + 2 or None, timeout=20, what="a sync after a missed notification")
        self.fake.control("POST", "subscriptions/%s/lifecycle" % sub["id"], {"event": "subscriptionRemoved"})
        renewed = cg.wait_until(lambda: [s for s in self.subscriptions() if s["id"] != sub["id"]] or None, timeout=30,
                                what="a new subscription after subscriptionRemoved")
        self.assertEqual(len(renewed), 1)

        # the user erases their data: the subscription is deleted first, while the credential can
        self.assertEqual(self.api.delete("/v1/me").status, 204)
        self.assertEqual(self.subscriptions(), [])


if __name__ == "__main__":
    unittest.main()
