"""Push to several processes: two `calgate serve` on one PostgreSQL database behind one nginx that
hands requests to them in turn (round robin, as a load balancer does), server.public_url the
proxy's https URL, Google's contract fake delivering there. The notifications of a run of changes
reach the two processes alternately. The second process has no workers, so the jobs it queues
must wake the first process's (PostgreSQL NOTIFY) and carry the notification's arrival time
there; every change is copied exactly once, each by one run.

Needs the PostgreSQL fixture (CG_TEST_POSTGRES_URL_FILE), Radicale, nginx and node."""

import base64
import json
import os
import stat
import subprocess
import tempfile
import unittest
import urllib.parse
import uuid

import calgate_api as cg
import contract_fake as cf
import google_fake as gf
import test_push as tp
import tls_proxy

ADA = "ada@acme.example"
CHANGES = 6


def private_database(test_class):
    """A new database on the test cluster, dropped after the class; its URL."""
    with open(os.environ["CG_TEST_POSTGRES_URL_FILE"]) as f:
        cluster = urllib.parse.urlsplit(f.read().strip())
    name = "cg_push_%s" % uuid.uuid4().hex[:12]
    admin = cluster._replace(path="/postgres").geturl()
    subprocess.run(["psql", admin, "-qAtc", "CREATE DATABASE %s" % name], check=True, capture_output=True)
    test_class.addClassCleanup(lambda: subprocess.run(["psql", admin, "-qAtc", "DROP DATABASE %s WITH (FORCE)" % name],
                                                      capture_output=True))
    return cluster._replace(path="/" + name).geturl()


def sql(url, query):
    return subprocess.run(["psql", url, "-qAtc", query], check=True, capture_output=True, text=True).stdout.strip()


def jobs_done(server):
    """The ids of the sync jobs this process finished."""
    return [l["job"] for l in server.log_lines() if l.get("event") == "job.done" and l.get("kind") == "sync_pair"]


@unittest.skipUnless(os.environ.get("CG_TEST_POSTGRES_URL_FILE"), "needs the PostgreSQL fixture")
class PushToTwoProcesses(cg.ApiTestCase):
    @classmethod
    def setUpClass(cls):
        cls.url = private_database(cls)
        cls.proxy = tls_proxy.TlsProxy()
        cls.addClassCleanup(cls.proxy.stop)
        cls.fake = gf.GoogleFake("deliveryCa=" + json.dumps(cls.proxy.ca_pem), "deliveryBackoffMs=50")
        cls.addClassCleanup(cls.fake.stop)
        os.environ["SSL_CERT_FILE"] = cls.proxy.ca_file
        cls.fake.control("POST", "users", {"email": ADA, "hd": "acme.example"})
        cls.fake.control("POST", "clients", {"clientId": gf.CLIENT_ID, "clientSecret": gf.CLIENT_SECRET,
                                             "redirectUris": [cls.proxy.url + "/oauth/callback"]})
        directory = tempfile.mkdtemp(prefix="cg-push-cluster-")
        secret_file = os.path.join(directory, "client-secret")
        with open(secret_file, "w") as f:
            f.write(gf.CLIENT_SECRET + "\n")
        os.chmod(secret_file, stat.S_IRUSR | stat.S_IWUSR)
        # one database, one master key, one public URL; each process its own port and data directory
        env = gf.calgate_env(cls.fake, secret_file, cls.proxy.url, 0)
        env.update({"CALGATE_DATABASE_URL": cls.url, "CALGATE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()})
        cls.servers = []
        # the first migrates the new database, then the second starts; only the first runs jobs
        for name, workers in (("cluster-a", "2"), ("cluster-b", "0")):
            server = cg.Calgate(dict(env, CALGATE_SYNC_WORKERS=workers), name=name).start()
            cls.addClassCleanup(server.cleanup)
            cls.servers.append(server)
        cls.server = cls.servers[0]
        cls.proxy.start([s.port for s in cls.servers])
        cls.public_url = cls.proxy.url
        cls.dav = cg.caldav_server("radicale")

    def setUp(self):
        self.user = self.server.add_user()
        self.api = self.server.client(self.user["token"])

    def tearDown(self):
        self.assertEqual(self.fake.violations(), [], "the fake answered outside the discovery document")

    def test_notifications_reach_both_processes_in_turn_and_every_change_is_copied_once_by_one_job_run(self):
        # the OAuth journey goes through the proxy too: its start and its callback may land on either process
        status, page = gf.connect(self.api, self.public_url, ADA)
        self.assertEqual(status, 200, page)
        account = [a for a in self.api.get("/v1/accounts").json["accounts"] if a["provider"] == "google"][0]
        primary = [c for c in self.api.get("/v1/accounts/%s/calendars" % account["id"]).json["calendars"]
                   if c["provider_calendar_id"] == ADA][0]
        home, target = tp.caldav_target(self, "cluster-")
        r = self.api.post("/v1/pairs", {"source_calendar_id": primary["id"], "target_calendar_id": target, "rules": {"mode": "full"}})
        self.assertEqual(r.status, 201, r)
        pair = r.json["id"]
        cf.wait_synced(self.api, pair)
        cg.wait_until(lambda: [c for c in self.fake.control("GET", "state")["channels"] if not c["stopped"]] or None,
                      timeout=30, what="a push channel on the Google calendar")
        self.assertEqual(sql(self.url, "SELECT COUNT(*) FROM push_channels WHERE state = 'active'"), "1")

        # the user adds events one after the other; each arrives by push
        before = len(self.dav.events(home))
        for i in range(CHANGES):
            self.fake.control("POST", self.fake.calendar_path(ADA) + "/events",
                              {"summary": "Change %d" % i, "start": {"dateTime": tp.day(2 + i, 10)}, "end": {"dateTime": tp.day(2 + i, 11)}})
            cg.wait_until(lambda: len(self.dav.events(home)) == before + i + 1 or None, timeout=20,
                          what="change %d copied" % i)

        # the notifications took turns: both processes verified some
        deliveries = [d for d in self.fake.control("GET", "state")["deliveries"] if d["state"] == "exists"]
        self.assertEqual([d["status"] for d in deliveries], [200] * CHANGES, deliveries)
        verified = [s.metrics().get('calgate_push_notifications_verified_total{provider="google"}', 0) for s in self.servers]
        self.assertEqual(sum(verified), CHANGES + 1, verified)  # the channel's sync message and every change
        self.assertGreaterEqual(min(verified), 3, "round robin gives each process about half: %s" % verified)

        # every change copied once: one copy per event (no DNS here: acme.example's policy is
        # indeterminate, so copies are "Busy"), one write each
        copies = self.dav.events(home)
        self.assertEqual(len(copies), before + CHANGES)
        writes = int(sql(self.url, "SELECT COUNT(*) FROM audit_log WHERE action = 'sync.write' AND object_ref LIKE 'pair/%s%%'" % pair))
        self.assertEqual(writes, before + CHANGES)

        # the jobs the second process queued ran on the first one's workers, one run each, and the
        # latency counted from the arrival in the other process: all within seconds
        worker, receiver = self.servers
        self.assertEqual(jobs_done(receiver), [])
        done = jobs_done(worker)
        self.assertEqual(len(done), len(set(done)), done)
        runs = sum(tp.runs(s) for s in self.servers)
        self.assertEqual(runs, len(done), "one sync run per job")
        self.assertNotIn("job.lease_lost", worker.log_text())
        latency = worker.metrics()
        self.assertEqual(latency["calgate_push_to_write_seconds_count"], CHANGES)
        self.assertEqual(latency['calgate_push_to_write_seconds_bucket{le="10"}'], CHANGES)
        self.assertEqual(receiver.metrics()["calgate_push_to_write_seconds_count"], 0)


if __name__ == "__main__":
    unittest.main()
