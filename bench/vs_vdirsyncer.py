#!/usr/bin/env python3
"""calgate side by side with vdirsyncer (Debian's 0.19) on one Radicale on loopback: the initial
copy of N events from one collection into an empty one, and the sync right after it (nothing
changed at the source), each tool's wall time and CPU, and the server's floor (the same N PUTs
sequentially from a minimal keep-alive client into an empty collection).

    CG_TEST_CALDAV_STATE=DIR [CALGATE_BINARY=...] bench/vs_vdirsyncer.py [--events 1000]

bench/vs-vdirsyncer.sh starts a private Radicale and runs this. calgate copies in full-details mode
(vdirsyncer copies events unchanged); its CPU is the calgate process's user+system time over the
run (from /proc), vdirsyncer's that of its process. Uses the dev build's binaries unless
CALGATE_BINARY / CALGATE_ADMIN_BINARY name others (a Release build is what to compare)."""

import argparse
import base64
import datetime
import http.client
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "api"))

import calgate_api as cg  # noqa: E402


def events(n, prefix):
    """n one-hour events on distinct days and hours around now, as (uid, iCalendar)."""
    start = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
    out = []
    for i in range(n):
        t = start + datetime.timedelta(days=i % 300 - 30, hours=i % 10)
        uid = "%s-%05d" % (prefix, i)
        fmt = "%Y%m%dT%H%M%SZ"
        out.append((uid, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
                         "DTSTAMP:20260101T000000Z\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Bench event %d\r\n"
                         "DESCRIPTION:benchmark\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
                    % (uid, t.strftime(fmt), (t + datetime.timedelta(hours=1)).strftime(fmt), i)))
    return out


def put_all(dav, collection_url, items):
    """PUTs every item sequentially over one keep-alive connection; returns the wall time."""
    url = urllib.parse.urlsplit(collection_url)
    auth = "Basic " + base64.b64encode(("%s:%s" % (dav.user, dav.password)).encode()).decode()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    t0 = time.monotonic()
    for uid, ics in items:
        conn.request("PUT", url.path + uid + ".ics", body=ics.encode(),
                     headers={"Authorization": auth, "Content-Type": "text/calendar; charset=utf-8"})
        r = conn.getresponse()
        r.read()
        if r.status not in (200, 201, 204):
            raise SystemExit("PUT %s: %d" % (uid, r.status))
    wall = time.monotonic() - t0
    conn.close()
    return wall


def process_cpu(pid):
    """(user, system) CPU seconds of a running process (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) / tick, int(fields[12]) / tick)


def callgrind(pid, *args):
    subprocess.run(["callgrind_control"] + list(args) + [str(pid)], check=True, stdout=subprocess.DEVNULL)


def calgate_runs(dav, items, perf_output=None, instructions=False):
    server = cg.Calgate(name="vs-vdirsyncer", extra_env={"CALGATE_SERVER_RATE_LIMIT_PER_MINUTE": "0"}).start(timeout=300)
    try:
        api = server.client(server.add_user()["token"])
        src, dst = dav.make_calendar(cg.unique("vs-cg-src-")), dav.make_calendar(cg.unique("vs-cg-dst-"))
        put_all(dav, src, items)
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": dav.base, "username": dav.user,
                                      "password": dav.password, "email": "bench@example.com"})
        assert r.status == 201, r
        cals = r.json["calendars"]
        pair_body = {"source_calendar_id": cg.calendar_for(cals, src)["id"],
                     "target_calendar_id": cg.calendar_for(cals, dst)["id"], "rules": {"mode": "full"},
                     "enabled": False}
        pair = api.post("/v1/pairs", pair_body).json
        results = []
        # A run is over when calgate logs it (sync.pair_done): watching the log costs calgate nothing,
        # where polling the API would add the API's CPU to the sync's.
        done = lambda: sum(1 for l in server.log_lines()
                           if l.get("event") == "sync.pair_done" and l.get("pair") == pair["id"])
        for what in ("initial", "resync"):
            runs = done()
            perf = None
            if perf_output and what == "initial":
                perf = subprocess.Popen(["perf", "record", "-q", "--call-graph", "dwarf,16384", "-F", "2000",
                                         "-o", perf_output, "-p", str(server.proc.pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1.0)  # perf attaches before the run starts
            if instructions:
                callgrind(server.proc.pid, "--zero")
                callgrind(server.proc.pid, "--instr=on")
            cpu0, t0 = process_cpu(server.proc.pid), time.monotonic()
            if what == "initial":
                api.patch("/v1/pairs/" + pair["id"], {"enabled": True})  # queues its first run
            else:
                api.post("/v1/pairs/%s/sync" % pair["id"])
            cg.wait_until(lambda: done() > runs or None, timeout=3600, interval=0.05, what=what)
            cpu1 = process_cpu(server.proc.pid)
            results.append((what, time.monotonic() - t0, (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1])))
            if instructions:
                callgrind(server.proc.pid, "--instr=off")
                callgrind(server.proc.pid, "--dump=" + what)
            if perf:
                perf.send_signal(signal.SIGINT)
                perf.wait(timeout=600)
        copies = len(dav.events(dst))
        if copies != len(items):
            raise SystemExit("calgate copied %d of %d events" % (copies, len(items)))
        return results
    finally:
        server.cleanup()


def vdirsyncer_runs(dav, items):
    src, dst = dav.make_calendar(cg.unique("vs-vd-src-")), dav.make_calendar(cg.unique("vs-vd-dst-"))
    put_all(dav, src, items)
    work = tempfile.mkdtemp(prefix="vs-vdirsyncer-")
    config = os.path.join(work, "config")
    storage = lambda name, url: ('[storage %s]\ntype = "caldav"\nurl = "%s"\nusername = "%s"\npassword = "%s"\n'
                                 % (name, url, dav.user, dav.password))
    with open(config, "w") as f:
        f.write('[general]\nstatus_path = "%s/status/"\n\n[pair bench]\na = "src"\nb = "dst"\ncollections = null\n'
                'conflict_resolution = "a wins"\n\n%s\n%s' % (work, storage("src", src), storage("dst", dst)))
    run = lambda *args: subprocess.run(["vdirsyncer", "-c", config] + list(args), capture_output=True, text=True,
                                       input="", timeout=3600)
    r = run("discover")
    if r.returncode != 0:
        raise SystemExit("vdirsyncer discover failed: " + r.stderr[-2000:])
    results = []
    for what in ("initial", "resync"):
        usage0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
        r = run("sync")
        wall = time.monotonic() - t0
        usage1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode != 0:
            raise SystemExit("vdirsyncer sync failed: " + r.stderr[-2000:])
        results.append((what, wall, (usage1.ru_utime - usage0.ru_utime, usage1.ru_stime - usage0.ru_stime)))
    copies = len(dav.events(dst))
    if copies != len(items):
        raise SystemExit("vdirsyncer copied %d of %d events" % (copies, len(items)))
    return results


def say(text):
    print(text, file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000, help="events to copy (default 1000)")
    parser.add_argument("--calgate-only", action="store_true", help="measure calgate and the floor, not vdirsyncer")
    parser.add_argument("--callgrind", metavar="DIR",
                        help="run calgate under valgrind's callgrind, counting its instructions during each run "
                             "into DIR/out.PID.N (callgrind_annotate reads them); CPU times are then meaningless")
    parser.add_argument("--perf", metavar="FILE",
                        help="record calgate's initial sync with perf (call graphs) into FILE, for perf report")
    args = parser.parse_args()
    dav = cg.caldav_server("radicale")
    items = events(args.events, "vs")
    say("the server's floor: %d sequential PUTs" % args.events)
    floor = put_all(dav, dav.make_calendar(cg.unique("vs-floor-")), items)
    rows = [("server floor (sequential PUTs)", "initial", floor, None)]
    if args.callgrind:
        os.makedirs(args.callgrind, exist_ok=True)
        wrapper = os.path.join(args.callgrind, "calgate-under-callgrind")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=%s/out.%%p %s \"$@\"\n"
                    % (os.path.abspath(args.callgrind), cg.CALGATE))
        os.chmod(wrapper, 0o755)
        cg.CALGATE = wrapper
    tools = [("calgate", lambda d, i: calgate_runs(d, i, args.perf, bool(args.callgrind)))]
    if not args.calgate_only:
        tools.append(("vdirsyncer 0.19", vdirsyncer_runs))
    for tool, measure in tools:
        say("%s: initial sync, then the sync right after it" % tool)
        for what, wall, cpu in measure(dav, items):
            rows.append((tool, what, wall, cpu))
    print("%d events, Radicale on loopback, %s" % (args.events, cg.CALGATE))
    print("| tool | run | wall (s) | CPU (s) | of it in the kernel (s) | CPU per event (ms) |")
    print("|---|---|---|---|---|---|")
    for tool, what, wall, cpu in rows:
        total = None if cpu is None else cpu[0] + cpu[1]
        print("| %s | %s | %.2f | %s | %s | %s |" % (tool, what, wall, "-" if cpu is None else "%.2f" % total,
                                                     "-" if cpu is None else "%.2f" % cpu[1],
                                                     "-" if cpu is None else "%.2f" % (total * 1000.0 / args.events)))


if __name__ == "__main__":
    main()
