#!/usr/bin/env python3
"""Audit export at scale: a SQLite database with N audit entries (a valid hash chain, written
directly, as years of syncing would leave them), then `calgate-admin audit export --out F` and
`calgate-admin audit verify --file F --public-key K`, each timed with its peak resident memory.
Run with two sizes to see that memory stays flat while the entries grow:

    bench/audit_export_bench.py [--entries 1000000] [--bin-dir build/bench]

The binaries come from --bin-dir (a Release build: cmake --preset release, or build/bench)."""

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def field(s):
    b = s.encode("utf-8")
    return str(len(b)).encode() + b":" + b + b"\n"


def entry_hash(prev, at, actor, user, action, obj, decision, details):
    data = b"calgate-audit-v1\n" + b"".join(field(x) for x in (prev, str(at), actor, user, action, obj, decision, details))
    return hashlib.sha256(data).hexdigest()


def fill(db_path, n):
    db = sqlite3.connect(db_path)
    prev = "0" * 64
    at = 1_700_000_000
    batch = []
    for i in range(n):
        user = "usr_%026d" % (i % 1000)
        details = json.dumps({"reasons": ["pair: private", "title replaced by \"Busy\""], "target_provider": "caldav"},
                             separators=(",", ":"))
        obj = "pair/pair_%026d/event/src-%032x" % (i % 5000, i)
        h = entry_hash(prev, at + i, "system", user, "sync.write", obj, "create", details)
        batch.append((at + i, "system", user, "sync.write", obj, "create", details, prev, h))
        prev = h
        if len(batch) == 50000:
            db.executemany("INSERT INTO audit_log (at, actor, user_id, action, object_ref, decision, details_json, prev_sha256, "
                           "entry_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
            db.commit()
            batch = []
    if batch:
        db.executemany("INSERT INTO audit_log (at, actor, user_id, action, object_ref, decision, details_json, prev_sha256, "
                       "entry_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        db.commit()
    db.close()


def timed(cmd, env):
    """(seconds, peak RSS in MiB, stdout, stderr) of a command, measured by /usr/bin/time."""
    t0 = time.time()
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, env=env, capture_output=True, text=True)
    seconds = time.time() - t0
    if r.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024.0
    return seconds, rss, r.stdout, r.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "build", "bench"))
    args = ap.parse_args()
    admin = os.path.join(args.bin_dir, "admin-cli", "calgate-admin")
    work = tempfile.mkdtemp(prefix="cg-audit-bench-")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALGATE_")}
        env.update({"CALGATE_DATA_DIR": work, "CALGATE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()})
        subprocess.run([admin, "db", "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([admin, "vault", "status"], env=env, check=True, capture_output=True)  # opens (initialises) the vault
        t0 = time.time()
        fill(os.path.join(work, "calgate.db"), args.entries)
        print("filled %d entries in %.1f s (Python, not measured below)" % (args.entries, time.time() - t0))
        key = subprocess.run([admin, "audit", "public-key"], env=env, check=True, capture_output=True, text=True).stdout.strip()
        out = os.path.join(work, "audit.jsonl")
        s, rss, _, _ = timed([admin, "audit", "export", "--out", out], env)
        size = os.path.getsize(out) / 1024.0 / 1024.0
        print("export: %d entries, %.0f MiB file, %.1f s (%.0f entries/s), peak RSS %.1f MiB" %
              (args.entries, size, s, args.entries / s, rss))
        s, rss, stdout, _ = timed([admin, "audit", "verify", "--file", out, "--public-key", key], env)
        print("offline verify: %.1f s (%.0f entries/s), peak RSS %.1f MiB: %s" % (s, args.entries / s, rss, stdout.strip()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
