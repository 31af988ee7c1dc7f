#!/usr/bin/env python3
"""test_persist.py -- snapshots, the append log and recovery, through the
real strata-server and redis-py.

Each test starts servers in its own directory (--dir) and restarts them over
the same files: BGSAVE/SAVE/LASTSAVE and INFO persistence; every type, TTLs
and several databases through a restart; a BGSAVE taken under a writer holds
one instant (a prefix of the writer's sequence); appendfsync always under
kill -9, 30 rounds, every acknowledged write back; a torn tail dropped, a
damaged middle refused (and accepted with aof-load-damaged truncate);
BGREWRITEAOF; kill -9 in the middle of BGSAVE and of BGREWRITEAOF (the
previous files intact, the restart whole, the partial files removed);
SHUTDOWN SAVE/NOSAVE; save rules; backups with retention and
--restore; a damaged dump.sts falling back to the newest valid backup; the
PMem pool re-attached on a warm restart, with keys overwritten and deleted
after the snapshot; a warm restart with keys on DRAM, PMem and SSD, each tier
with keys overwritten, deleted, expired and new after the snapshot.

It configures its own tiers (STRATA_SERVER_ARGS is ignored) and runs once.
"""
import os
import sys

try:
    import redis
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("test_persist: python module 'redis' not found (python3-redis)\n")
    sys.exit(2)

import glob
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

PMEM_ENV = {"PMEM_IS_PMEM_FORCE": "1", "PMEMOBJ_CONF": "sds.at_create=0"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """strata-server on a free port, its files in `d` (kept across restarts)."""

    def __init__(self, d, *extra):
        self.dir = d
        self.extra = extra
        self.proc = None

    def start(self, *more, expect_fail=False):
        binary = os.environ["STRATA_SERVER"]
        self.log_path = os.path.join(self.dir, "server.log")
        env = dict(os.environ, **PMEM_ENV)
        env.pop("STRATA_SERVER_ARGS", None)
        self.port = free_port()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
                 *self.extra, *more],
                cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                if expect_fail:
                    return self.proc.returncode
                raise RuntimeError("server exited: " + self.log())
            try:
                r = redis.Redis(port=self.port, socket_timeout=10)
                r.ping()
                self.r = r
                if expect_fail:
                    raise AssertionError("server started but should not have: " + self.log())
                return 0
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("server did not start: " + self.log())

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()[-4000:]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -1
        return self.proc.returncode if self.proc else 0

    def info(self, field):
        return self.r.info("persistence").get(field)


def wait_until(fn, secs=10.0):
    deadline = time.time() + secs
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.02)
    return False


def fill_types(r, db_count=3):
    """Keys of every type in several databases; returns what it wrote."""
    want = {}
    for db in range(db_count):
        c = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=db)
        c.set("s%d" % db, "v%d" % db)
        c.set("n%d" % db, 12345)
        c.set("t%d" % db, "ttl", ex=1000)
        c.rpush("l%d" % db, *["e%d" % i for i in range(200)])
        c.sadd("set%d" % db, *range(50))
        c.sadd("sset%d" % db, "a", "b", "c")
        c.hset("h%d" % db, mapping={"f%d" % i: "x" * i for i in range(100)})
        c.zadd("z%d" % db, {"m%d" % i: i * 1.5 for i in range(300)})
        c.pfadd("hll%d" % db, *["u%d" % i for i in range(100)])
        want[db] = dump_db(c)
    return want


def dump_db(c):
    out = {}
    for k in c.scan_iter(count=1000):
        t = c.type(k)
        if t == b"string":
            v = c.get(k)
        elif t == b"list":
            v = c.lrange(k, 0, -1)
        elif t == b"set":
            v = sorted(c.smembers(k))
        elif t == b"hash":
            v = sorted(c.hgetall(k).items())
        elif t == b"zset":
            v = c.zrange(k, 0, -1, withscores=True)
        else:
            v = None
        ttl = c.ttl(k)
        out[k] = (t, v, ttl > 0)
    return out


class PersistTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="strata-persist-")
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:
                pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def server(self, *extra):
        s = Server(self.tmp, *extra)
        self.servers.append(s)
        return s

    def test_bgsave_restart_every_type(self):
        s = self.server()
        s.start()
        want = fill_types(s.r)
        before = s.r.lastsave()
        self.assertEqual(s.r.bgsave(), True)
        self.assertTrue(wait_until(lambda: s.info("rdb_bgsave_in_progress") == 0 and s.info("rdb_saves") == 1))
        self.assertEqual(s.info("rdb_last_bgsave_status"), "ok")
        self.assertEqual(s.info("rdb_changes_since_last_save"), 0)
        self.assertGreaterEqual(s.r.lastsave(), before)
        s.r.set("after", "x")
        self.assertEqual(s.info("rdb_changes_since_last_save"), 1)
        self.assertTrue(s.r.save())
        s.kill9()
        s.start()
        self.assertEqual(s.r.get("after"), b"x")
        for db, keys in want.items():
            c = redis.Redis(port=s.port, db=db)
            got = dump_db(c)
            if db == 0:
                got.pop(b"after")
            self.assertEqual(got, keys)
        self.assertEqual(s.info("recovery_source"), "snapshot")
        # DEBUG RELOAD keeps everything
        self.assertEqual(s.r.execute_command("DEBUG", "RELOAD"), b"OK")
        self.assertEqual(dump_db(redis.Redis(port=s.port, db=1)), want[1])

    def test_bgsave_is_one_instant(self):
        s = self.server()
        s.start()
        n_old = 20000
        pipe = s.r.pipeline(transaction=False)
        for i in range(n_old):
            pipe.set("old:%d" % i, "o" * 200)
        pipe.execute()
        stop = threading.Event()
        done = {"n": 0}

        def writer():
            w = redis.Redis(port=s.port)
            i = 0
            while not stop.is_set() and i < n_old:
                w.set("old:%d" % i, "new")
                w.set("new:%d" % i, "x")
                w.set("counter", i + 1)
                i += 1
            done["n"] = i

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.05)
        s.r.bgsave()
        self.assertTrue(wait_until(lambda: s.info("rdb_saves") == 1, 30))
        stop.set()
        t.join()
        s.kill9()
        s.start()
        c = int(s.r.get("counter") or 0)
        # the state of one instant: the writer's first c steps, none after
        for i in range(n_old):
            old = s.r.get("old:%d" % i)
            new = s.r.get("new:%d" % i)
            if i < c:
                self.assertEqual((old, new), (b"new", b"x"), i)
            elif i > c:
                self.assertEqual((old, new), (b"o" * 200, None), i)
        self.assertGreater(done["n"], 0)

    def test_aof_always_kill9_rounds(self):
        s = self.server("--appendonly", "yes", "--appendfsync", "always")
        acked = {}
        rnd = random.Random(7)
        for rnd_i in range(30):
            s.start()
            for k, v in acked.items():
                got = s.r.get(k)
                self.assertEqual(got, v, "round %d key %s" % (rnd_i, k))
            stop = time.time() + rnd.uniform(0.02, 0.15)
            while time.time() < stop:
                k = "k%d" % rnd.randrange(500)
                v = ("%d-%d" % (rnd_i, rnd.randrange(1 << 30))).encode()
                s.r.set(k, v)
                acked[k] = v
                if rnd.random() < 0.1:
                    dk = "k%d" % rnd.randrange(500)
                    s.r.delete(dk)
                    acked[dk] = None
            s.kill9()
        s.start()
        for k, v in acked.items():
            self.assertEqual(s.r.get(k), v)
        self.assertEqual(s.info("aof_enabled"), 1)

    def test_aof_always_blocked_pops_kill9(self):
        """appendfsync always with consumers blocked in BLPOP served by a
        producer's RPUSHes, kill -9 at random moments, 10 rounds: after each
        restart no element a consumer received is in the list again, and every
        element whose RPUSH was acknowledged was received or is in the list --
        but for at most one a consumer per kill: a pop made durable whose reply
        the kill cut off (Redis loses those too)."""
        s = self.server("--appendonly", "yes", "--appendfsync", "always")
        rnd = random.Random(17)
        received, acked = set(), set()
        seq = 0
        consumers, in_flight = 3, 0
        for rnd_i in range(10):
            s.start()
            left = set(s.r.lrange("q", 0, -1))
            self.assertEqual(left & received, set(), "round %d: elements delivered twice" % rnd_i)
            lost = acked - received - left
            self.assertLessEqual(len(lost), in_flight, "round %d: acknowledged elements lost: %s" % (rnd_i, lost))
            in_flight += consumers
            stop = threading.Event()

            def consumer():
                c = redis.Redis(port=s.port, socket_timeout=5)
                try:
                    while not stop.is_set():
                        got = c.blpop("q", timeout=0.2)
                        if got:
                            received.add(got[1])
                except (redis.ConnectionError, redis.TimeoutError):
                    pass

            threads = [threading.Thread(target=consumer) for _ in range(consumers)]
            for t in threads:
                t.start()
            p = redis.Redis(port=s.port, socket_timeout=5)
            deadline = time.time() + rnd.uniform(0.05, 0.3)
            try:
                while time.time() < deadline:
                    seq += 1
                    item = ("e%d" % seq).encode()
                    p.rpush("q", item)
                    acked.add(item)
            except redis.ConnectionError:
                pass
            s.kill9()
            stop.set()
            for t in threads:
                t.join()
        s.start()
        left = set(s.r.lrange("q", 0, -1))
        self.assertEqual(left & received, set())
        self.assertLessEqual(len(acked - received - left), in_flight)
        self.assertGreater(len(received), 100)

    def test_aof_torn_tail_and_damage(self):
        s = self.server("--appendonly", "yes", "--appendfsync", "always")
        s.start()
        for i in range(100):
            s.r.set("k%d" % i, "v%d" % i)
        s.kill9()
        incr = glob.glob(os.path.join(self.tmp, "appendonlydir", "*.incr.log"))
        self.assertEqual(len(incr), 1)
        size = os.path.getsize(incr[0])
        with open(incr[0], "r+b") as f:
            f.truncate(size - 5)  # the last record cut by a crash
        s.start()
        self.assertEqual(s.r.get("k98"), b"v98")
        self.assertIsNone(s.r.get("k99"))
        self.assertIn("torn record", s.log())
        s.r.set("k99", "again")
        s.kill9()
        # damage in the middle: start-up stops with the offset
        size = os.path.getsize(incr[0])
        with open(incr[0], "r+b") as f:
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 0xFF]))
        rc = s.start(expect_fail=True)
        self.assertNotEqual(rc, 0)
        self.assertIn("damaged at offset", s.log())
        s.start("--aof-load-damaged", "truncate")
        self.assertEqual(s.r.get("k0"), b"v0")
        self.assertIsNone(s.r.get("k99"))

    def test_bgrewriteaof_and_shutdown(self):
        s = self.server("--appendonly", "yes")
        s.start()
        for i in range(1000):
            s.r.set("k%d" % i, i)
        s.r.rpush("l", *range(10))
        self.assertTrue(s.r.bgrewriteaof())
        self.assertTrue(wait_until(lambda: s.info("aof_rewrites") == 1), s.log())
        s.r.set("after", "1")
        files = sorted(os.listdir(os.path.join(self.tmp, "appendonlydir")))
        self.assertEqual(files, ["appendonly.aof.2.base.sts", "appendonly.aof.2.incr.log",
                                 "appendonly.aof.manifest"])
        self.assertEqual(s.stop(), 0)  # SIGTERM: the log synced
        s.start()
        self.assertEqual(s.r.get("k999"), b"999")
        self.assertEqual(s.r.get("after"), b"1")
        self.assertEqual(s.r.lrange("l", 0, -1), [str(i).encode() for i in range(10)])
        # SHUTDOWN SAVE writes dump.sts even with no save rules
        s2 = self.server()
        s.stop()
        s2.start()
        s2.r.set("x", "y")
        try:
            s2.r.shutdown(save=True)
        except redis.ConnectionError:
            pass
        s2.proc.wait(20)
        self.assertTrue(os.path.exists(os.path.join(self.tmp, "dump.sts")))
        s2.start()
        self.assertEqual(s2.r.get("x"), b"y")
        s2.r.set("x", "z")
        try:
            s2.r.shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        s2.proc.wait(20)
        s2.start()
        self.assertEqual(s2.r.get("x"), b"y")

    def test_save_rules_backups_restore(self):
        s = self.server("--save", "1 1", "--backup-interval", "1", "--backup-keep", "2")
        s.start()
        s.r.set("a", "1")
        self.assertTrue(wait_until(lambda: s.info("rdb_changes_since_last_save") == 0, 10))
        self.assertTrue(wait_until(lambda: s.info("backups") >= 4, 15))
        backups = sorted(glob.glob(os.path.join(self.tmp, "backups", "backup-*.sts")))
        self.assertEqual(len(backups), 2)
        s.stop()
        # a damaged dump.sts: the newest valid backup instead
        dump = os.path.join(self.tmp, "dump.sts")
        with open(dump, "r+b") as f:
            f.seek(70)
            f.write(b"\xff\xff\xff\xff")
        s.start()
        self.assertEqual(s.r.get("a"), b"1")
        self.assertIn("trying the backup", s.log())
        s.stop()
        # --restore into a fresh directory
        fresh = tempfile.mkdtemp(prefix="strata-restore-")
        try:
            s3 = Server(fresh)
            self.servers.append(s3)
            s3.start("--restore", backups[-1])
            self.assertEqual(s3.r.get("a"), b"1")
            s3.stop()
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
        # no valid snapshot at all: start-up stops (the stop above saved a
        # fresh dump.sts: damage it again, and drop the backups)
        with open(dump, "r+b") as f:
            f.seek(70)
            f.write(b"\xff\xff\xff\xff")
        for b in glob.glob(os.path.join(self.tmp, "backups", "*")):
            os.unlink(b)
        self.assertNotEqual(s.start(expect_fail=True), 0)
        self.assertIn("no valid snapshot", s.log())

    def test_misconf(self):
        s = self.server("--save", "1 1")
        s.start()
        os.makedirs(os.path.join(self.tmp, "ro"))
        s.r.config_set("dbfilename", "ro/missing/dump.sts")
        s.r.set("a", "1")
        self.assertTrue(wait_until(lambda: s.info("rdb_last_bgsave_status") == "err", 10))
        with self.assertRaises(redis.ResponseError) as e:
            s.r.set("b", "2")
        self.assertIn("MISCONF", str(e.exception))
        s.r.config_set("dbfilename", "dump.sts")
        self.assertTrue(s.r.save())
        s.r.set("b", "2")

    def fill_big(self, r, n, prefix="big", size=400):
        pipe = r.pipeline(transaction=False)
        for i in range(n):
            pipe.set("%s:%d" % (prefix, i), ("%s-%d-" % (prefix, i)).encode() + b"p" * size)
            if i % 5000 == 4999:
                pipe.execute()
        pipe.execute()

    def test_kill9_during_bgsave(self):
        """kill -9 in the middle of BGSAVE: the previous dump.sts is the one
        on disk, byte for byte, the restart loads it, and the partial file
        is removed."""
        s = self.server()
        dump = os.path.join(self.tmp, "dump.sts")
        s.start()
        s.r.set("gen", "1")
        self.assertTrue(s.r.save())
        rnd = random.Random(11)
        hits = 0
        for rnd_i in range(4):
            with open(dump, "rb") as f:
                before = f.read()
            gen = s.r.get("gen")
            if rnd_i == 0:
                self.fill_big(s.r, 150000)  # about 70 MB: a BGSAVE takes a while
            s.r.set("gen", str(int(gen) + 1))
            s.r.bgsave()
            self.assertTrue(wait_until(lambda: s.info("rdb_bgsave_in_progress") == 1, 5), s.log())
            time.sleep(rnd.uniform(0.0, 0.05))
            in_progress = s.info("rdb_bgsave_in_progress")
            s.kill9()
            hits += in_progress
            with open(dump, "rb") as f:
                after = f.read()
            if in_progress:
                self.assertEqual(after, before, "round %d: dump.sts changed by a killed BGSAVE" % rnd_i)
                self.assertTrue(glob.glob(dump + ".tmp-*"), "round %d: the partial file" % rnd_i)
            s.start()
            self.assertEqual(glob.glob(dump + ".tmp-*"), [], s.log())
            self.assertIn("left by an interrupted save", s.log())
            # the state of the snapshot on disk: the generation before this round
            self.assertEqual(s.r.get("gen"), gen if in_progress else str(int(gen) + 1).encode())
            if int(gen) > 1 or not in_progress:
                self.assertEqual(s.r.get("big:149999"), b"big-149999-" + b"p" * 400)
            if int(gen) == 1 and in_progress:
                # round 0 killed its first big BGSAVE: save it now, for the next rounds
                self.fill_big(s.r, 150000)
                s.r.set("gen", "2")
                self.assertTrue(s.r.save())
        self.assertGreaterEqual(hits, 2, "the kills missed the BGSAVEs")

    def test_kill9_during_bgrewriteaof(self):
        """kill -9 in the middle of BGREWRITEAOF under appendfsync always:
        every acknowledged write is back, the manifest names whole files, and
        what the interrupted rewrite left is removed."""
        s = self.server("--appendonly", "yes", "--appendfsync", "always")
        logdir = os.path.join(self.tmp, "appendonlydir")
        s.start()
        self.fill_big(s.r, 150000)
        acked = {}
        rnd = random.Random(13)
        hits = 0
        for rnd_i in range(4):
            # (a restart may start a rewrite of its own: the log grew past its base)
            self.assertTrue(wait_until(lambda: s.info("aof_rewrite_in_progress") == 0, 30), s.log())
            self.assertTrue(s.r.bgrewriteaof())
            self.assertTrue(wait_until(lambda: s.info("aof_rewrite_in_progress") == 1, 5), s.log())
            # writes while the base is written, acknowledged (fsynced) before the kill
            stop = time.time() + rnd.uniform(0.0, 0.05)
            i = 0
            while time.time() < stop or i == 0:
                k, v = "w%d" % rnd.randrange(300), "%d-%d" % (rnd_i, i)
                s.r.set(k, v)
                acked[k] = v.encode()
                i += 1
            in_progress = s.info("aof_rewrite_in_progress")
            s.kill9()
            hits += in_progress
            if in_progress:
                self.assertTrue(glob.glob(os.path.join(logdir, "*.tmp-*")), os.listdir(logdir))
            s.start()
            self.assertEqual(glob.glob(os.path.join(logdir, "*.tmp-*")), [], s.log())
            for k, v in acked.items():
                self.assertEqual(s.r.get(k), v, "round %d key %s" % (rnd_i, k))
            self.assertEqual(s.r.get("big:149999"), b"big-149999-" + b"p" * 400)
            self.assertEqual(s.r.dbsize(), 150000 + len(acked))
            with open(os.path.join(logdir, "appendonly.aof.manifest")) as f:
                named = f.read()
            for name in os.listdir(logdir):
                if name != "appendonly.aof.manifest":
                    self.assertIn(name, named, "%s is in the log directory but not in the manifest" % name)
        self.assertGreaterEqual(hits, 2, "the kills missed the rewrites")
        # a rewrite that finishes after all that
        self.assertTrue(wait_until(lambda: s.info("aof_rewrite_in_progress") == 0, 30), s.log())
        self.assertTrue(s.r.bgrewriteaof())
        self.assertTrue(wait_until(lambda: s.info("aof_rewrite_in_progress") == 0 and
                                   s.info("aof_last_bgrewrite_status") == "ok", 30), s.log())
        s.kill9()
        s.start()
        for k, v in acked.items():
            self.assertEqual(s.r.get(k), v)

    def test_pmem_warm_restart(self):
        pool = os.path.join(self.tmp, "tier.pool")
        s = self.server("--pmem-path", pool, "--pmem-size", "64mb", "--appendonly", "yes",
                        "--appendfsync", "always")
        s.start()
        n = 2000
        pipe = s.r.pipeline(transaction=False)
        for i in range(n):
            pipe.set("c%d" % i, "value-%d-" % i + "z" * 100)
        pipe.execute()
        for i in range(n):
            s.r.execute_command("TIER", "DEMOTE", "c%d" % i)
        s.r.set("hot", "h")
        self.assertTrue(s.r.bgrewriteaof())
        self.assertTrue(wait_until(lambda: s.info("aof_rewrites") == 1, 30), s.log())
        # changes after the snapshot: an overwrite, a delete, a short TTL
        s.r.set("c1", "new")
        s.r.delete("c2")
        s.r.set("c3", "soon", px=50)
        s.r.execute_command("TIER", "DEMOTE", "c1")
        time.sleep(0.1)
        s.kill9()
        s.start()
        self.assertGreaterEqual(s.info("recovery_pmem_attached"), n - 10, s.log())
        self.assertEqual(s.r.get("c1"), b"new")
        self.assertIsNone(s.r.get("c2"))
        self.assertIsNone(s.r.get("c3"))
        self.assertEqual(s.r.get("hot"), b"h")
        for i in range(4, n, 97):
            self.assertEqual(s.r.get("c%d" % i), ("value-%d-" % i + "z" * 100).encode())
        self.assertEqual(s.r.dbsize(), n - 1)  # c0..c1999 less c2 and c3, plus hot


    def test_warm_restart_three_tiers(self):
        """Keys on DRAM, PMem and SSD; after the base snapshot, on each tier a
        key overwritten (and moved back to its tier), one deleted, one given a
        short TTL, one new; kill -9; the restart holds exactly the latest
        state, the PMem records re-attached."""
        pool = os.path.join(self.tmp, "tier.pool")
        s = self.server("--pmem-path", pool, "--pmem-size", "64mb", "--ssd-path", os.path.join(self.tmp, "ssd"),
                        "--ssd-size", "256mb", "--ssd-segment-size", "4mb", "--ssd-write-buffer", "256kb",
                        "--tier-promote-window", "-1", "--appendonly", "yes", "--appendfsync", "always")
        s.start()
        tiers = {"a": ("dram", 0), "b": ("pmem", 1), "c": ("ssd", 2)}
        want = {}

        def place(key, value, group, **kw):
            s.r.set(key, value, **kw)
            for _ in range(tiers[group][1]):
                s.r.execute_command("TIER", "DEMOTE", key)
            self.assertEqual(s.r.object("tier", key), tiers[group][0].encode(), key)

        for g in tiers:
            for i in range(200):
                k, v = "%s%d" % (g, i), ("%s-%d-" % (g, i)) + "v" * (50 + i)
                place(k, v, g)
                want[k] = v.encode()
            s.r.hset("%sh" % g, mapping={"f%d" % i: "x%d" % i for i in range(20)})
            for _ in range(tiers[g][1]):
                s.r.execute_command("TIER", "DEMOTE", "%sh" % g)
        self.assertTrue(s.r.bgrewriteaof())
        self.assertTrue(wait_until(lambda: s.info("aof_rewrite_in_progress") == 0 and
                                   s.info("aof_rewrites") == 1, 30), s.log())
        for g in tiers:
            place("%s1" % g, "overwritten-" + g, g)
            want["%s1" % g] = ("overwritten-" + g).encode()
            s.r.delete("%s2" % g)
            want.pop("%s2" % g)
            place("%s3" % g, "short-" + g, g, px=100)
            want.pop("%s3" % g)
            place("%snew" % g, "new-" + g, g)
            want["%snew" % g] = ("new-" + g).encode()
            s.r.hset("%sh" % g, "f0", "changed")
            s.r.hdel("%sh" % g, "f1")
            for _ in range(tiers[g][1]):
                s.r.execute_command("TIER", "DEMOTE", "%sh" % g)
        time.sleep(0.2)
        s.kill9()

        def check(how):
            for k, v in want.items():
                self.assertEqual(s.r.get(k), v, "%s: %s" % (how, k))
            for g in tiers:
                for k in ("%s2" % g, "%s3" % g):
                    self.assertIsNone(s.r.get(k), "%s: %s" % (how, k))
                h = {"f%d" % i: "x%d" % i for i in range(20)}
                h["f0"] = "changed"
                del h["f1"]
                self.assertEqual(s.r.hgetall("%sh" % g), {a.encode(): b.encode() for a, b in h.items()},
                                 "%s: %sh" % (how, g))
            self.assertEqual(s.r.dbsize(), len(want) + 3, how)
            self.assertEqual(s.r.info("tiers")["cold_lost"], 0, "%s: %s" % (how, s.log()))
            # the pool holds exactly the records of the keys on PMem: none of
            # the previous run's unnamed records left, none of the current freed
            on_pmem = sum(1 for k in s.r.scan_iter(count=1000) if s.r.object("tier", k) == b"pmem")
            self.assertEqual(s.r.info("tiers")["tier_pmem"]["keys"], on_pmem, how)

        s.start()
        self.assertGreater(s.info("recovery_pmem_attached"), 150, s.log())
        check("warm restart")
        # again, twice: the pool re-attached once more (records the last
        # recovery stored count as the pool's now), then cleared (every cold
        # item of the snapshot stored again)
        s.kill9()
        s.start()
        check("second warm restart")
        s.kill9()
        s.start("--pmem-on-start", "clear")
        self.assertEqual(s.info("recovery_pmem_attached"), 0)
        check("cold reload")

if __name__ == "__main__":
    unittest.main(verbosity=2)
