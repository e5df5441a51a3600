"""Push end to end: calgate serves plain HTTP behind Debian's nginx terminating TLS with a test CA
(as docs/operations.md sets it up), server.public_url is that https URL, and the Google contract
fake delivers its notifications there. A pair from Google opens a channel on its calendar; an
event the user adds in Google is copied to Radicale without waiting for a poll (the poll interval
is an hour); forged and unknown notifications cause no work; deleting the pair stops the channel."""

import json
import os
import unittest
import uuid

import calgate_api as cg
import contract_fake as cf
import google_fake as gf
import tls_proxy

ADA = "ada@acme.example"


def day(offset_days, hour):
    import datetime
    d = datetime.datetime.now(datetime.timezone.utc).replace(hour=hour, minute=0, second=0, microsecond=0)
    return (d + datetime.timedelta(days=offset_days)).strftime("%Y-%m-%dT%H:%M:%SZ")


class GooglePush(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.proxy = tls_proxy.TlsProxy()
        cls.addClassCleanup(cls.proxy.stop)
        # the fake, like Google, delivers only to https it can verify: the test CA
        cls.fake = gf.GoogleFake("deliveryCa=" + json.dumps(cls.proxy.ca_pem), "deliveryBackoffMs=50")
        cls.addClassCleanup(cls.fake.stop)
        cls.fake.control("POST", "users", {"email": ADA, "hd": "acme.example"})
        # this test's own requests to the public URL (the OAuth journey) trust the test CA too
        os.environ["SSL_CERT_FILE"] = cls.proxy.ca_file

        def env(fake, secret_file, public_url, port):
            e = gf.calgate_env(fake, secret_file, cls.proxy.url, port)
            e["CALGATE_SYNC_POLL_INTERVAL_SECONDS"] = "3600"
            return e
        cf.start_gateway(cls, cls.fake, gf.CLIENT_ID, gf.CLIENT_SECRET, env, "push")
        # start_gateway registered the plain URL: calgate's public URL is the proxy's
        cls.fake.control("POST", "clients", {"clientId": gf.CLIENT_ID, "clientSecret": gf.CLIENT_SECRET,
                                             "redirectUris": [cls.proxy.url + "/oauth/callback"]})
        cls.proxy.start(cls.server.port)
        cls.public_url = cls.proxy.url

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def tearDown(self):
        self.assertEqual(self.fake.violations(), [], "the fake answered outside the discovery document")

    def webhook(self, headers):
        return cf.fetch("POST", self.public_url + "/webhooks/google", b"", headers)

    def test_a_change_in_google_arrives_by_push_forgeries_do_nothing_and_the_channel_stops_with_the_pair(self):
        status, page = gf.connect(self.api, self.public_url, ADA)
        self.assertEqual(status, 200, page)
        account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "google"][0]
        primary = [c for c in self.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
                   if c["provider_calendar_id"] == ADA][0]
        home = self.dav.make_calendar(cg.unique("push-"))
        r = self.api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user or "user",
                                           "password": self.dav.password or "pw", "email": "ada@home.example"})
        self.assertEqual(r.status, 201, r)
        r = self.api.post("/v1/pairs", {"source_calendar_id": primary["id"],
                                        "target_calendar_id": cg.calendar_for(r.json["calendars"], home)["id"],
                                        "rules": {"mode": "full"}})
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

        # forged and unknown notifications: refused or ignored, no work
        runs_before = len([l for l in self.server.log_lines() if l.get("event") == "sync.pair_done"])
        base = {"X-Goog-Channel-ID": channel["id"], "X-Goog-Resource-ID": channel["resourceId"],
                "X-Goog-Resource-State": "exists", "X-Goog-Message-Number": "99"}
        status, _, _ = self.webhook({**base, "X-Goog-Channel-Token": "forged"})
        self.assertEqual(status, 401)
        status, _, _ = self.webhook({**base, "X-Goog-Channel-ID": "ch_not_ours", "X-Goog-Channel-Token": "x"})
        self.assertEqual(status, 200)
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
        runs = [l for l in self.server.log_lines() if l.get("event") == "sync.pair_done"]
        # one run for the change, none for the forged or unknown notifications
        self.assertEqual(len(runs), runs_before + 1)
        self.assertIn("push.notification_refused", self.server.log_text())

        # the pair goes: its channel is stopped
        r = self.api.delete("/v1/pairs/%s" % pair, query={"copies": "delete"})
        self.assertIn(r.status, (202, 204), r)
        cg.wait_until(lambda: all(c["stopped"] for c in self.fake.control("GET", "state")["channels"] if c["calendarId"] == ADA),
                      timeout=30, what="the channel stopped")


if __name__ == "__main__":
    unittest.main()
