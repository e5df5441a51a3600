#!/usr/bin/env python3
"""The service at scale, end to end (issue 27): N pairs of CalDAV calendars on one Radicale that is
reached through a proxy delaying every answer (a remote server's latency, on loopback), 1 % of the
source calendars changing in each poll interval, and `calgate serve` on SQLite (one process) or on
PostgreSQL (one or more processes sharing the database).

    CG_TEST_CALDAV_STATE=DIR bench/scale_e2e.py [--pairs 1000] [--processes 1]
        [--postgres-url URL] [--latency-ms 50] [--interval 60] [--rounds 3] [--workers 8]

bench/scale-e2e.sh starts the servers this needs and runs it. Ten pairs per user, one CalDAV account
per user (a Radicale user of its own), each pair its own source and target calendar, three events in
each source. Prints one line per measure:
  setup: users, accounts, pairs made (through the REST API, as a user would)
  initial: the first sync of every pair: events copied, wall seconds, events/s
  steady: over --rounds poll intervals (after one more for the polls that fell due during the
    initial sync), the changes made (one new event in 1 % of the sources per interval, each at a
    random moment of it) and the change-to-copy latency of each (the change's
    PUT to the end of the run that copied it, from calgate's log): p50, p99, max; the copies missing
  cost: CPU seconds per poll interval and RSS of each process, requests the server answered per
    interval, database size per pair
The change-to-copy latency of a polled server is at least the wait for the next poll (half an
interval on average): compare p50 with --interval / 2; what is above it is calgate's queue and run.
Uses the dev build's binaries unless CALGATE_BINARY / CALGATE_ADMIN_BINARY name others."""

import argparse
import asyncio
import base64
import concurrent.futures
import datetime
import http.client
import math
import os
import random
import resource
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))
sys.path.insert(0, HERE)

import calgate_api as cg  # noqa: E402
import vs_vdirsyncer as vs  # noqa: E402

PAIRS_PER_USER = 10
EVENTS_PER_SOURCE = 3
PASSWORD = "scale-app-password"


def say(text):
    print(text, flush=True)


class DelayingProxy:
    """A TCP proxy on 127.0.0.1 in front of the CalDAV server: every answer waits `delay` seconds
    before its first byte goes back, as a distant server's would. Counts the requests (a request is
    client bytes after an answer, or the first on a connection). Connection setup is not delayed:
    servers keep connections alive, Radicale (HTTP/1.0) does not, so calgate opens one per request
    here, which a distant server would charge one more round trip (and TLS) for."""

    def __init__(self, upstream, delay):
        self.host, self.port_up = upstream
        self.delay = delay
        self.requests = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=1024))
        self.port = self.server.sockets[0].getsockname()[1]
        self.ready.set()
        self.loop.run_forever()

    async def _handle(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.port_up)
        except OSError:
            writer.close()
            return
        answering = asyncio.Event()  # a request went up; its answer has not started back

        async def upward():
            try:
                while data := await reader.read(65536):
                    if not answering.is_set():
                        self.requests += 1
                        answering.set()
                    up_writer.write(data)
                    await up_writer.drain()
                if up_writer.can_write_eof():
                    up_writer.write_eof()
            except (ConnectionError, OSError):
                pass

        async def downward():
            try:
                while data := await up_reader.read(65536):
                    if answering.is_set():
                        await asyncio.sleep(self.delay)
                        answering.clear()
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        await asyncio.gather(upward(), downward())
        up_writer.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Radicale:
    """The fixture's Radicale, with users of this benchmark's own (htpasswd, plain)."""

    def __init__(self, state):
        with open(os.path.join(state, "radicale.url")) as f:
            url = urllib.parse.urlsplit(f.read().strip())
        self.host, self.port = url.hostname, url.port
        self.htpasswd = os.path.join(state, "htpasswd")
        with open(os.path.join(state, "radicale.pid")) as f:
            self.pid = int(f.read().strip())

    def add_users(self, names):
        with open(self.htpasswd, "a") as f:
            for name in names:
                f.write("%s:%s\n" % (name, PASSWORD))

    def request(self, user, method, path, body=b"", headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        auth = "Basic " + base64.b64encode(("%s:%s" % (user, PASSWORD)).encode()).decode()
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}, Authorization=auth))
            r = conn.getresponse()
            r.read()
            if r.status >= 300:
                raise SystemExit("%s %s as %s: HTTP %d" % (method, path, user, r.status))
        finally:
            conn.close()

    def make_calendar(self, user, name):
        body = ('<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" '
                'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>%s</D:displayname>'
                '</D:prop></D:set></C:mkcalendar>' % name).encode()
        self.request(user, "MKCALENDAR", "/%s/%s/" % (user, name), body, {"Content-Type": "application/xml"})

    def put_event(self, user, calendar, uid, start):
        fmt = "%Y%m%dT%H%M%SZ"
        ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
               "DTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Scale %s\r\nEND:VEVENT\r\n"
               "END:VCALENDAR\r\n" % (uid, start.strftime(fmt), (start + datetime.timedelta(hours=1)).strftime(fmt),
                                      uid))
        self.request(user, "PUT", "/%s/%s/%s.ics" % (user, calendar, uid), ics.encode(),
                     {"Content-Type": "text/calendar; charset=utf-8"})


class LogTail:
    """The JSON lines a calgate process appended to its log since the last read."""

    def __init__(self, path):
        self.path, self.offset, self.rest = path, 0, b""

    def read(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = self.rest + f.read()
            self.offset = f.tell()
        complete, _, self.rest = data.rpartition(b"\n")
        return cg.json_lines(complete.decode("utf-8", errors="replace"))


def log_time(line):
    return datetime.datetime.strptime(line["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def own_cpu():
    """This process's CPU seconds: the proxy and the driver."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def start_processes(args, processes):
    """`processes` calgate serve sharing one database (the first migrates it before the next start)."""
    env = {"CALGATE_SYNC_POLL_INTERVAL_SECONDS": str(args.interval), "CALGATE_SYNC_WORKERS": str(args.workers),
           "CALGATE_SERVER_RATE_LIMIT_PER_MINUTE": "0", "CALGATE_LOG_LEVEL": "info",
           "CALGATE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
           "CALGATE_DATABASE_POOL_SIZE": str(max(4, args.workers + 2))}
    if args.postgres_url:
        env["CALGATE_DATABASE_URL"] = args.postgres_url
    servers = []
    for i in range(processes):
        servers.append(cg.Calgate(env, name="scale-%d" % i).start(timeout=120))
    return servers


def private_database(cluster_url):
    cluster = urllib.parse.urlsplit(cluster_url)
    name = "cg_scale_%s" % uuid.uuid4().hex[:12]
    admin = cluster._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-qAtc", "CREATE DATABASE %s" % name], check=True, capture_output=True)
    return cluster._replace(path="/" + name).geturl(), lambda: subprocess.run(
        ["psql", admin, "-qAtc", "DROP DATABASE %s WITH (FORCE)" % name], capture_output=True)


def setup(args, servers, dav, proxy):
    """Users, their Radicale users and calendars, accounts and pairs; returns {pair id: (user, source)}."""
    users = -(-args.pairs // PAIRS_PER_USER)
    tag = uuid.uuid4().hex[:6]
    names = ["s%s-%05d" % (tag, i) for i in range(users)]
    dav.add_users(names)
    start = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    pairs, tokens = {}, {}
    lock = threading.Lock()

    def one(index):
        name = names[index]
        per_user = min(PAIRS_PER_USER, args.pairs - index * PAIRS_PER_USER)
        for p in range(per_user):
            dav.make_calendar(name, "src-%d" % p)
            dav.make_calendar(name, "dst-%d" % p)
            for e in range(EVENTS_PER_SOURCE):
                dav.put_event(name, "src-%d" % p, "init-%d-%d" % (p, e), start + datetime.timedelta(days=e + 1, hours=p))
        server = servers[index % len(servers)]
        user = server.add_user("%s@scale.example" % name)
        api = server.client(user["token"])
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": "http://127.0.0.1:%d/" % proxy.port,
                                      "username": name, "password": PASSWORD, "email": "%s@scale.example" % name})
        if r.status != 201:
            raise SystemExit("account of %s: %s" % (name, r))
        cals = {c["provider_calendar_id"].rstrip("/").rsplit("/", 1)[-1]: c["id"] for c in r.json["calendars"]}
        for p in range(per_user):
            r = api.post("/v1/pairs", {"source_calendar_id": cals["src-%d" % p], "target_calendar_id": cals["dst-%d" % p],
                                       "rules": {"mode": "private"}, "enabled": False})
            if r.status != 201:
                raise SystemExit("pair of %s: %s" % (name, r))
            with lock:
                pairs[r.json["id"]] = (name, "src-%d" % p)
                tokens[r.json["id"]] = (server, user["token"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(users)))
    return pairs, tokens


def enable(tokens):
    """Enables every pair (each PATCH queues the pair's first run)."""
    def one(item):
        pair, (server, token) = item
        r = server.client(token).patch("/v1/pairs/" + pair, {"enabled": True})
        if r.status != 200:
            raise SystemExit("enabling %s: %s" % (pair, r))
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, tokens.items()))


def wait_initial(servers, tails, pairs, started, timeout):
    done, last = set(), started
    deadline = time.time() + timeout
    while len(done) < len(pairs) and time.time() < deadline:
        for tail in tails:
            for line in tail.read():
                if line.get("event") == "sync.pair_done" and line.get("pair") in pairs:
                    if line["pair"] not in done:
                        done.add(line["pair"])
                        last = max(last, log_time(line))
        time.sleep(1)
    return done, last


def finished_runs(tails):
    """The runs the processes logged since the last look: (pair, end time, copies created, seconds)."""
    return [(l["pair"], log_time(l), l.get("created", 0), l.get("seconds", 0.0)) for tail in tails
            for l in tail.read() if l.get("event") == "sync.pair_done"]


def steady(args, servers, tails, pairs, dav, proxy):
    """--rounds intervals of changes in 1 % of the sources; the latency of each to its copy."""
    changing = max(1, round(len(pairs) * args.change_share))
    ids = sorted(pairs)
    plan = []  # (when, pair)
    t0 = time.time()
    for r in range(args.rounds):
        for pair in random.sample(ids, changing):
            plan.append((t0 + r * args.interval + random.uniform(0, args.interval), pair))
    plan.sort()
    cpu0 = [vs.process_cpu(s.proc.pid) for s in servers]
    others0 = (vs.process_cpu(dav.pid), own_cpu())
    requests0 = proxy.requests
    made = []
    runs = []  # (pair, end time, copies created, run seconds)
    horizon = t0 + args.rounds * args.interval
    day = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    for n, (when, pair) in enumerate(plan):
        time.sleep(max(0.0, when - time.time()))
        user, calendar = pairs[pair]
        made.append((pair, time.time()))  # before the PUT: a run may copy it before the answer is back
        dav.put_event(user, calendar, "change-%d" % n, day + datetime.timedelta(days=10 + n % 20, hours=n % 8))
        runs += finished_runs(tails)
    time.sleep(max(0.0, horizon - time.time()))  # the window: exactly --rounds intervals
    busy = time.time() - t0
    cpu = [vs.process_cpu(s.proc.pid) - c for s, c in zip(servers, cpu0)]
    others = (vs.process_cpu(dav.pid) - others0[0], own_cpu() - others0[1])
    requests = proxy.requests - requests0
    # the last changes get up to two more intervals to be copied
    deadline = max(horizon, time.time()) + 2 * args.interval
    while True:
        runs += finished_runs(tails)
        latencies, missing = match(made, runs)
        if not missing or time.time() > deadline:
            break
        time.sleep(1)
    durations = [seconds for _, end, _, seconds in runs if t0 <= end <= t0 + busy]
    return {"changes": len(made), "latencies": latencies, "missing": missing, "cpu": cpu, "busy": busy,
            "requests": requests, "server_cpu": others[0], "bench_cpu": others[1],
            "durations": durations}


def match(made, runs):
    """Each change's copy: the first run of its pair that ended after it and created a copy (a run
    that created k copies serves up to k changes)."""
    left = {}  # (pair, end) -> copies of that run not yet matched
    for pair, end, created, _ in runs:
        if created:
            left[(pair, end)] = left.get((pair, end), 0) + created
    latencies, missing = [], 0
    for pair, when in sorted(made, key=lambda m: m[1]):
        ends = sorted(e for (p, e), n in left.items() if p == pair and e > when and n > 0)
        if not ends:
            missing += 1
            continue
        left[(pair, ends[0])] -= 1
        latencies.append(ends[0] - when)
    return latencies, missing


def database_bytes(args, servers):
    """The database's size: PostgreSQL's pg_database_size; SQLite's file after a checkpoint (the
    WAL holds copies of pages, not more data)."""
    if args.postgres_url:
        out = subprocess.run(["psql", args.postgres_url, "-qAtc", "SELECT pg_database_size(current_database())"],
                             check=True, capture_output=True, text=True).stdout
        return int(out.strip())
    path = servers[0].db_path
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1, help="calgate serve processes (PostgreSQL only for >1)")
    parser.add_argument("--postgres-url", default="",
                        help="a PostgreSQL server (any database on it): a private database is made there and dropped")
    parser.add_argument("--latency-ms", type=float, default=50, help="added before every answer of the server")
    parser.add_argument("--interval", type=int, default=60, help="calgate's poll interval, seconds (at least 10)")
    parser.add_argument("--rounds", type=int, default=3, help="poll intervals measured")
    parser.add_argument("--workers", type=int, default=8, help="sync workers per process")
    parser.add_argument("--change-share", type=float, default=0.01, help="share of sources changed per interval")
    args = parser.parse_args()
    if args.processes > 1 and not args.postgres_url:
        parser.error("several processes need --postgres-url (SQLite runs one)")
    if args.pairs < 1 or args.interval < 10 or args.rounds < 1:
        parser.error("--pairs must be at least 1, --interval at least 10, --rounds at least 1")
    state = os.environ.get("CG_TEST_CALDAV_STATE")
    if not state:
        parser.error("CG_TEST_CALDAV_STATE is not set (bench/scale-e2e.sh starts a Radicale)")
    drop = None
    if args.postgres_url:
        args.postgres_url, drop = private_database(args.postgres_url)
    dav = Radicale(state)
    proxy = DelayingProxy((dav.host, dav.port), args.latency_ms / 1000)
    servers = []
    try:
        servers = start_processes(args, args.processes)
        tails = [LogTail(s.log_path) for s in servers]
        empty = database_bytes(args, servers)  # migrated, no users yet
        say("scale_e2e: %d pairs, %s, %d process(es) x %d workers, latency %g ms, poll interval %d s" % (
            args.pairs, "PostgreSQL" if args.postgres_url else "SQLite", args.processes, args.workers,
            args.latency_ms, args.interval))
        t0 = time.time()
        pairs, tokens = setup(args, servers, dav, proxy)
        say("setup: %d users, %d pairs in %.1f s" % (-(-len(pairs) // PAIRS_PER_USER), len(pairs), time.time() - t0))
        t0 = time.time()
        cpu0 = [vs.process_cpu(s.proc.pid) for s in servers]
        enable(tokens)
        done, last = wait_initial(servers, tails, pairs, t0, timeout=3600)
        events = len(done) * EVENTS_PER_SOURCE
        cpu = sum(vs.process_cpu(s.proc.pid) for s in servers) - sum(cpu0)
        say("initial: %d of %d pairs synced, %d events in %.1f s from the first pair enabled to the last run's end: "
            "%.0f events/s, %.0f pairs/s; calgate CPU %.2f s (%.2f ms per event)" % (
                len(done), len(pairs), events, last - t0, events / max(last - t0, 1e-9),
                len(done) / max(last - t0, 1e-9), cpu, 1000 * cpu / max(events, 1)))
        # one interval for the polls that fell due during the initial sync; then the window
        time.sleep(args.interval)
        finished_runs(tails)
        result = steady(args, servers, tails, pairs, dav, proxy)
        lat = result["latencies"]
        say("steady: %d changes over %d intervals, %d copied; change-to-copy p50 %.2f s, p99 %.2f s, max %.2f s "
            "(poll interval %d s; with fewer than 100 changes p99 is the max); %d not copied" % (
                result["changes"], args.rounds, len(lat), percentile(lat, 50),
                                                      percentile(lat, 99), max(lat) if lat else float("nan"),
                                                      args.interval, result["missing"]))
        runs = result["durations"]
        say("runs: %d over the intervals (%.0f per interval), each p50 %.2f s, p99 %.2f s (pull, plan, write)" % (
            len(runs), len(runs) / args.rounds, percentile(runs, 50), percentile(runs, 99)))
        intervals = args.rounds
        say("cost: CPU per interval %s s; RSS %s MiB; server requests per interval %.0f; database %.1f KiB per pair" % (
            "/".join("%.2f" % (c / intervals) for c in result["cpu"]),
            "/".join("%.0f" % rss_mib(s.proc.pid) for s in servers), result["requests"] / intervals,
            (database_bytes(args, servers) - empty) / 1024 / len(pairs)))
        say("beside it: Radicale %.2f s CPU per interval, the proxy and this driver %.2f s (2 cores in all)" % (
            result["server_cpu"] / intervals, result["bench_cpu"] / intervals))
    finally:
        for s in servers:
            try:
                s.cleanup()
            except (AssertionError, OSError) as e:
                say("cleanup: %s" % e)
                if s.proc:
                    s.proc.kill()
        proxy.stop()
        if drop:
            drop()


if __name__ == "__main__":
    main()
