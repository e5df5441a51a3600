#!/usr/bin/env python3
"""Push latency benchmark: calgate behind Debian's nginx (TLS, test CA) with server.public_url on
https, a pair from the Google (or Graph) contract fake to Radicale, and N events added in the fake
one after the other. Reports, as percentiles over the N changes:

- notification -> written: from calgate receiving the notification (its access log line for the
  webhook) to the run that wrote the copy finishing (its sync.pair_done line): the time inside the
  gateway;
- edit -> copy: from the test adding the event at the fake to the copy being in Radicale (polled
  every 10 ms): including the fake's delivery and the proxy.

    CG_TEST_CALDAV_STATE=DIR [CALGATE_BINARY=...] bench/push_bench.py [--provider google|microsoft|both] [--changes 50]

--provider both: a two-way pair between the Google fake and the Graph fake, both delivering through
the proxy; the changes alternate between an event added in Google (measured until it is in
Outlook) and one added in Outlook (until it is in Google).

Start the CalDAV servers first (tests/services/caldav.sh start DIR). Needs nginx and node."""

import argparse
import datetime
import json
import os
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))

import calgate_api as cg  # noqa: E402
import contract_fake as cf  # noqa: E402
import google_fake as gf  # noqa: E402
import graph_fake as mf  # noqa: E402
import test_push as tp  # noqa: E402


class Harness:
    """What the test helpers expect of a test class."""
    def __init__(self):
        self.cleanups = []

    def addClassCleanup(self, f, *args):
        self.cleanups.append((f, args))

    def close(self):
        for f, args in reversed(self.cleanups):
            f(*args)


def percentiles(samples):
    s = sorted(samples)
    pick = lambda p: s[min(len(s) - 1, int(p * len(s)))] * 1000.0
    return "p50 %7.1f ms | p99 %7.1f ms | max %7.1f ms | n %d" % (pick(0.5), pick(0.99), s[-1] * 1000.0, len(s))


def stamp(line):
    return datetime.datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).timestamp()


def inside_gateway(server, routes):
    """notification -> written, from the log: a webhook's access line to the end of the run that
    created a copy (a run that wrote nothing, an echo of calgate's own write, ends its notices too)."""
    inside, last_notice = [], None
    for line in server.log_lines():
        if line.get("event") == "http.request" and line.get("route") in routes and line.get("status") in (200, 202):
            last_notice = last_notice or stamp(line)
        elif line.get("event") == "sync.pair_done":
            if line.get("created", 0) > 0 and last_notice is not None:
                inside.append(stamp(line) - last_notice)
            last_notice = None
    return inside


def events_in(fake, calendar_id):
    state = fake.control("GET", "state")
    return [e for c in state["calendars"] if c["id"] == calendar_id for e in c["events"] if e.get("status") != "cancelled"]


def wait_for_more(count, before, i):
    t0 = time.time()
    while count() == before:
        if time.time() - t0 > 30:
            raise SystemExit("change %d was not copied within 30 s" % i)
        time.sleep(0.01)


def both(args):
    """Google <-> Microsoft 365, two-way, push on both sides."""
    h = Harness()
    try:
        h.proxy = tp.tls_proxy.TlsProxy()
        h.addClassCleanup(h.proxy.stop)
        ca = "deliveryCa=" + json.dumps(h.proxy.ca_pem)
        # full pages, as Google answers for a small calendar (the fake cuts them short by default)
        google = gf.GoogleFake(ca, "deliveryBackoffMs=50", "shortPages=false")
        h.addClassCleanup(google.stop)
        graph = mf.GraphFake(ca, "replayRate=0", "duplicateRate=0", "deliveryBackoffMs=50")
        h.addClassCleanup(graph.stop)
        os.environ["SSL_CERT_FILE"] = h.proxy.ca_file
        google.control("POST", "users", {"email": tp.ADA, "hd": "acme.example"})
        graph.control("POST", "users", {"email": tp.MS_ADA, "name": "Ada"})
        h.fake = google

        def env(fake, secret_file, public_url, port):
            out = gf.calgate_env(google, secret_file, h.proxy.url, port)
            with open(secret_file + ".ms", "w") as f:
                f.write(mf.CLIENT_SECRET + "\n")
            os.chmod(secret_file + ".ms", 0o600)
            out.update(mf.calgate_env(graph, secret_file + ".ms", h.proxy.url, port))
            return out
        cf.start_gateway(h, google, gf.CLIENT_ID, gf.CLIENT_SECRET, env, "push-bench-both")
        for fake, module in ((google, gf), (graph, mf)):
            fake.control("POST", "clients", {"clientId": module.CLIENT_ID, "clientSecret": module.CLIENT_SECRET,
                                             "redirectUris": [h.proxy.url + "/oauth/callback"]})
        h.proxy.start(h.server.port)
        h.public_url = h.proxy.url
        u = h.server.add_user()
        h.api = h.server.client(u["token"])
        for module, user in ((gf, tp.ADA), (mf, tp.MS_ADA)):
            status, page = module.connect(h.api, h.public_url, user)
            assert status == 200, page
        accounts = {a["provider"]: a for a in h.api.get("/v1/accounts").json["accounts"]}
        cal = {}
        for provider, pick in (("google", lambda c: c["provider_calendar_id"] == tp.ADA), ("microsoft", lambda c: c["name"] == "Calendar")):
            cal[provider] = [c for c in h.api.get("/v1/accounts/%s/calendars" % accounts[provider]["id"]).json["calendars"] if pick(c)][0]
        r = h.api.post("/v1/pairs", {"source_calendar_id": cal["google"]["id"], "target_calendar_id": cal["microsoft"]["id"],
                                     "direction": "two_way", "rules": {"mode": "full"}})
        assert r.status == 201, r
        cf.wait_synced(h.api, r.json["id"])
        cg.wait_until(lambda: [c for c in google.control("GET", "state")["channels"] if not c["stopped"]] or None, timeout=30)
        cg.wait_until(lambda: graph.control("GET", "state")["subscriptions"] or None, timeout=30)
        g_id, m_id = cal["google"]["provider_calendar_id"], cal["microsoft"]["provider_calendar_id"]
        to_outlook, to_google = [], []
        for i in range(args.changes):
            start, end = tp.day(2 + i % 20, 8 + i % 10), tp.day(2 + i % 20, 9 + i % 10)
            if i % 2 == 0:
                before = len(events_in(graph, m_id))
                t0 = time.time()
                google.control("POST", google.calendar_path(tp.ADA) + "/events",
                               {"summary": "G%d" % i, "start": {"dateTime": start}, "end": {"dateTime": end}})
                wait_for_more(lambda: len(events_in(graph, m_id)), before, i)
                to_outlook.append(time.time() - t0)
            else:
                before = len(events_in(google, g_id))
                t0 = time.time()
                graph.control("POST", "calendars/%s/events" % urllib.parse.quote(m_id, safe=""),
                              {"subject": "M%d" % i, "start": {"dateTime": start[:19], "timeZone": "UTC"},
                               "end": {"dateTime": end[:19], "timeZone": "UTC"}})
                wait_for_more(lambda: len(events_in(google, g_id)), before, i)
                to_google.append(time.time() - t0)
        inside = inside_gateway(h.server, ("/webhooks/google", "/webhooks/microsoft"))
        print("push both ways, %d changes, Google <-> Microsoft 365 two-way, calgate behind nginx (TLS)" % args.changes)
        print("notification -> written:", percentiles(inside))
        print("Google edit -> in Outlook:", percentiles(to_outlook))
        print("Outlook edit -> in Google:", percentiles(to_google))
        g_requests = google.control("GET", "state")["requests"]
        kinds = {}
        for r in g_requests:
            key = r.get("method") or r.get("operation") or "?"
            kinds[key] = kinds.get(key, 0) + 1
        print("Google API requests: %d (%.1f per change): %s" % (len(g_requests), len(g_requests) / args.changes, kinds))
    finally:
        h.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--provider", choices=["google", "microsoft", "both"], default="google")
    ap.add_argument("--changes", type=int, default=50)
    args = ap.parse_args()
    if args.provider == "both":
        return both(args)
    google = args.provider == "google"
    h = Harness()
    try:
        module, user = (gf, tp.ADA) if google else (mf, tp.MS_ADA)
        env = tp.start_behind_proxy(h, module, ["deliveryBackoffMs=50"] if google else ["replayRate=0", "duplicateRate=0"], "bench")
        h.fake.control("POST", "users", {"email": user, "hd": "acme.example"} if google else {"email": user, "name": "Ada"})
        cf.start_gateway(h, h.fake, module.CLIENT_ID, module.CLIENT_SECRET, env, "push-bench")
        tp.finish_behind_proxy(h, module.CLIENT_ID, module.CLIENT_SECRET)
        u = h.server.add_user()
        h.api = h.server.client(u["token"])
        status, page = module.connect(h.api, h.public_url, user)
        assert status == 200, page
        account = [a for a in h.api.get("/v1/accounts").json["accounts"] if a["provider"] == args.provider][0]
        calendars = h.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
        source = [c for c in calendars if c["provider_calendar_id"] == user or c["name"] == "Calendar"][0]
        home, target = tp.caldav_target(h, "bench-")
        r = h.api.post("/v1/pairs", {"source_calendar_id": source["id"], "target_calendar_id": target, "rules": {"mode": "full"}})
        assert r.status == 201, r
        cf.wait_synced(h.api, r.json["id"])
        if google:
            cg.wait_until(lambda: [c for c in h.fake.control("GET", "state")["channels"] if not c["stopped"]] or None, timeout=30)
        else:
            cg.wait_until(lambda: h.fake.control("GET", "state")["subscriptions"] or None, timeout=30)
        edit_to_copy = []
        path = (h.fake.calendar_path(user) if google else "calendars/" + urllib.parse.quote(source["provider_calendar_id"], safe="")) + "/events"
        for i in range(args.changes):
            n = len(h.dav.events(home))
            start, end = tp.day(2 + i % 20, 10), tp.day(2 + i % 20, 11)
            body = ({"summary": "Change %d" % i, "start": {"dateTime": start}, "end": {"dateTime": end}} if google else
                    {"subject": "Change %d" % i, "start": {"dateTime": start[:19], "timeZone": "UTC"},
                     "end": {"dateTime": end[:19], "timeZone": "UTC"}})
            t0 = time.time()
            h.fake.control("POST", path, body)
            wait_for_more(lambda: len(h.dav.events(home)), n, i)
            edit_to_copy.append(time.time() - t0)
        inside = inside_gateway(h.server, ("/webhooks/google" if google else "/webhooks/microsoft",))
        print("push via %s, %d changes, calgate behind nginx (TLS), Radicale target" % (args.provider, args.changes))
        print("notification -> written:", percentiles(inside))
        print("edit -> copy:           ", percentiles(edit_to_copy))
    finally:
        h.close()


if __name__ == "__main__":
    main()
