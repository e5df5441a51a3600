"""The audit trail as a security reviewer takes it away, through the real binaries: `calgate-admin
audit checkpoint` signs the chain's head, `calgate-admin audit export` writes JSON Lines sealed
with the audit key, `audit public-key` prints the key to pin, and `audit verify --file` checks
the export offline, with no configuration and no database, naming the entry a tampered file
breaks at. An export for one user carries the others' entries only as links."""

import json
import os
import subprocess
import tempfile
import unittest

import calgate_api as cg


def canonical(line):
    """A line as calgate writes it (compact, keys in order): edits in these tests keep that form."""
    return json.dumps(line, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"


def offline_verify(path, key, *more):
    """calgate-admin audit verify --file, run with no CALGATE_* variable, in an empty directory."""
    with tempfile.TemporaryDirectory() as empty:
        return subprocess.run([cg.CALGATE_ADMIN, "audit", "verify", "--file", path, "--public-key", key, *more],
                              env=cg.base_env(), cwd=empty, capture_output=True, text=True, timeout=60)


class AuditExport(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = cg.Calgate(name="audit").start()
        cls.addClassCleanup(cls.server.cleanup)
        cls.dav = cg.caldav_server()
        cls.dir = tempfile.mkdtemp(prefix="cg-audit-")

    def connect(self, user):
        api = self.server.client(user["token"])
        src = self.dav.make_calendar(cg.unique("audit-src"))
        dst = self.dav.make_calendar(cg.unique("audit-dst"))
        r = api.post("/v1/accounts", {"provider": "caldav", "server_url": self.dav.base, "username": self.dav.user or "user",
                                      "password": self.dav.password or "pw", "email": user["email"]})
        self.assertEqual(r.status, 201, r)
        cals = r.json["calendars"]
        r = api.post("/v1/pairs", {"source_calendar_id": cg.calendar_for(cals, src)["id"],
                                   "target_calendar_id": cg.calendar_for(cals, dst)["id"]})
        self.assertEqual(r.status, 201, r)
        r = api.delete("/v1/pairs/%s" % r.json["id"])  # audited: pair.delete
        self.assertIn(r.status, (202, 204), r)

    def test_export_verifies_offline_and_every_tampering_is_named(self):
        ada, bob = self.server.add_user(), self.server.add_user()
        self.connect(ada)
        self.connect(bob)
        cg.wait_until(lambda: self.server.count("audit_log", "user_id IN (?, ?)", (ada["id"], bob["id"])) >= 2 or None,
                      timeout=30, what="audit entries of both users")
        # the operator signs the head now (calgate serve's purge job does it hourly)
        self.assertIn("signed entry", self.server.admin("audit", "checkpoint").stdout)
        self.assertGreaterEqual(self.server.count("audit_checkpoints"), 1)

        key = self.server.admin("audit", "public-key").stdout.strip()
        self.assertEqual(len(key), 44, key)
        path = os.path.join(self.dir, "audit.jsonl")
        r = self.server.admin("audit", "export", "--out", path)
        self.assertIn("wrote " + path, r.stderr)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path) as f:
            lines = [json.loads(l) for l in f]
        self.assertEqual(lines[0]["type"], "header")
        self.assertEqual(lines[0]["public_key"], key)
        self.assertEqual(lines[-1]["type"], "seal")
        entries = [l for l in lines if l["type"] == "entry"]
        self.assertEqual(len(entries), self.server.count("audit_log"))

        ok = offline_verify(path, key)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertIn("export intact", ok.stdout)
        # the verification says what to keep, and a later export holding it verifies with it
        anchor = ok.stdout.split("--anchor ")[1].strip()
        self.assertEqual(anchor, "%d:%s" % (entries[-1]["seq"], entries[-1]["hash"]))
        self.assertEqual(offline_verify(path, key, "--anchor", anchor).returncode, 0)
        wrong = offline_verify(path, key, "--anchor", "%d:%s" % (entries[-1]["seq"], "0" * 64))
        self.assertIn("is not the entry you kept", wrong.stderr)
        # the in-place check agrees, checkpoints included
        self.assertIn("intact", self.server.admin("audit", "verify", "--public-key", key).stdout)

        # an edited entry names itself
        victim = entries[len(entries) // 2]
        edited = os.path.join(self.dir, "edited.jsonl")
        with open(edited, "w") as f:
            for l in lines:
                if l is victim:
                    l = dict(l, decision="nothing happened")
                f.write(canonical(l))
        bad = offline_verify(edited, key)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("entry %d was altered" % victim["seq"], bad.stderr)
        # a removed entry, a truncated file
        removed = os.path.join(self.dir, "removed.jsonl")
        with open(removed, "w") as f:
            f.writelines(canonical(l) for l in lines if l is not victim)
        self.assertIn("the chain is broken", offline_verify(removed, key).stderr)
        truncated = os.path.join(self.dir, "truncated.jsonl")
        with open(truncated, "w") as f:
            f.writelines(canonical(l) for l in lines[:-1])
        self.assertIn("truncated", offline_verify(truncated, key).stderr)
        # a key that is not the one pinned
        other = offline_verify(path, "A" * 43 + "=")
        self.assertNotEqual(other.returncode, 0)

        # one user's export: ada's entries whole, bob's as links only; it verifies all the same
        mine = os.path.join(self.dir, "ada.jsonl")
        self.server.admin("audit", "export", "--user", ada["email"], "--out", mine)
        with open(mine) as f:
            text = f.read()
        self.assertNotIn(bob["id"], text)
        kinds = [json.loads(l)["type"] for l in text.splitlines()]
        self.assertIn("link", kinds)
        self.assertTrue(all(json.loads(l).get("user_id") in (None, ada["id"], "") for l in text.splitlines()
                            if json.loads(l)["type"] == "entry"))
        self.assertEqual(offline_verify(mine, key).returncode, 0)

        # bob is erased: his export is found by the keyed hash of his address on the erasure record
        self.server.admin("users", "delete", bob["email"], "--yes")
        record = self.server.query("SELECT email_sha256, user_id FROM deletion_audit")
        self.assertEqual([(r["email_sha256"][:3], r["user_id"]) for r in record], [("k1:", bob["id"])])
        self.assertNotEqual(record[0]["email_sha256"][3:], cg.sha256_hex(bob["email"]))
        his = os.path.join(self.dir, "bob.jsonl")
        r = self.server.admin("audit", "export", "--user", bob["email"], "--out", his)
        self.assertIn("was erased", r.stderr)
        with open(his) as f:
            whole = [json.loads(l) for l in f if '"entry"' in l]
        self.assertTrue(whole and all(e["user_id"] == bob["id"] for e in whole), whole)
        self.assertEqual(offline_verify(his, key).returncode, 0)

        # bad input says what is wrong
        r = self.server.admin("audit", "export", "--since", "yesterday", check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a time", r.stderr)
        r = self.server.admin("audit", "export", "--user", "nobody@example.com", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no user", r.stderr)
        r = self.server.admin("audit", "verify", "--file", path, check=False)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
