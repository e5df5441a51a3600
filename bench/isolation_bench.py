#!/usr/bin/env python3
"""Isolation benchmark: how long /healthz, another user's GET /v1/me and the slow user's own
GET /v1/me take while one user keeps 20 feed and preview requests in flight against a CalDAV server
that drips its listings (tests/api/slow_dav.py), compared with the same calls on an idle gateway.

    CG_TEST_CALDAV_STATE=DIR [CALGATE_BINARY=...] bench/isolation_bench.py [--seconds 30]

Start the CalDAV servers first (tests/services/caldav.sh start DIR). Uses the dev build's binaries
unless CALGATE_BINARY / CALGATE_ADMIN_BINARY say otherwise. Prints latency percentiles (ms)."""

import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))

import calgate_api as cg  # noqa: E402
from slow_dav import SlowDav  # noqa: E402


def percentiles(samples):
    s = sorted(samples)
    pick = lambda p: s[min(len(s) - 1, int(p * len(s)))] * 1000.0
    return "%7.2f | %7.2f | %7.2f | %5d" % (pick(0.5), pick(0.99), s[-1] * 1000.0, len(s))


def sample(calls, seconds):
    out = {name: [] for name, _ in calls}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, call in calls:
            t0 = time.monotonic()
            resp = call()
            if resp.status != 200:
                raise SystemExit("%s answered %d" % (name, resp.status))
            out[name].append(time.monotonic() - t0)
        time.sleep(0.05)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=30, help="how long each phase samples (default 30)")
    args = parser.parse_args()
    dav = cg.caldav_server()
    slow = SlowDav(dav.base, drip_seconds=25)
    # the per-token rate limit off: this measures isolation, not the limiter
    server = cg.Calgate(name="isolation-bench", extra_env={"CALGATE_SERVER_RATE_LIMIT_PER_MINUTE": "0"}).start()
    try:
        slow_user, other = server.add_user(), server.add_user()
        slow_api, other_api = server.client(slow_user["token"]), server.client(other["token"])
        anonymous = server.client()
        src_url = dav.make_calendar(cg.unique("bench-src-"))
        dst_url = dav.make_calendar(cg.unique("bench-dst-"))
        r = slow_api.post("/v1/accounts", {"provider": "caldav", "server_url": slow.base,
                                           "username": dav.user or "user", "password": dav.password or "pw",
                                           "email": "slow@example.com"})
        assert r.status == 201, r
        src = cg.calendar_for(r.json["calendars"], src_url.replace(dav.base, slow.base))
        dst = cg.calendar_for(r.json["calendars"], dst_url.replace(dav.base, slow.base))
        pair = slow_api.post("/v1/pairs", {"source_calendar_id": src["id"], "target_calendar_id": dst["id"]}).json
        feed_url = slow_api.post("/v1/feeds", {"calendar_ids": [src["id"]]}).json["url"]
        calls = [("GET /healthz", lambda: anonymous.get("/healthz", validate=False)),
                 ("other user GET /v1/me", lambda: other_api.get("/v1/me", validate=False)),
                 ("slow user GET /v1/me", lambda: slow_api.get("/v1/me", validate=False))]
        idle = sample(calls, args.seconds)

        slow.drip = True
        stop = threading.Event()
        answers = {}

        def hammer(call):
            while not stop.is_set():
                status = call().status
                answers[status] = answers.get(status, 0) + 1
                if status != 200:
                    time.sleep(0.2)  # a client that was refused tries again soon, not in a spin
        load = [threading.Thread(target=hammer, args=(lambda: anonymous.get(feed_url, validate=False),))
                for _ in range(10)]
        load += [threading.Thread(target=hammer,
                                  args=(lambda: slow_api.get("/v1/pairs/%s/preview" % pair["id"], validate=False),))
                 for _ in range(10)]
        for t in load:
            t.start()
        cg.wait_until(lambda: slow.holding > 0, timeout=10, what="the slow server dripping")
        loaded = sample(calls, args.seconds)
        stop.set()
        for t in load:
            t.join(timeout=60)
        slow.drip = False

        print("while one user keeps 20 requests on a CalDAV server that drips its listings (%d s per phase)"
              % args.seconds)
        print()
        print("| call | phase | p50 ms | p99 ms | max ms | samples |")
        print("|---|---|---|---|---|---|")
        for name, _ in calls:
            print("| %s | idle | %s |" % (name, percentiles(idle[name])))
            print("| %s | slow user hammering | %s |" % (name, percentiles(loaded[name])))
        print()
        print("the slow user's answers: " + ", ".join("%d x %d" % (n, s) for s, n in sorted(answers.items())))
    finally:
        server.cleanup()
        slow.close()


if __name__ == "__main__":
    main()
