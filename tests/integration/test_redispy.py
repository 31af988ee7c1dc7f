#!/usr/bin/env python3
"""test_redispy.py -- strata-server through redis-py (Debian python3-redis,
4.3: RESP2 only).

Starts $STRATA_SERVER on a free loopback port in a temp dir, runs a short set
of client-library checks (set/get, pipeline, expire/ttl, incr, mset/mget,
scan_iter, client_setname/getname, info()), and stops it with SIGTERM
expecting exit status 0.

The interpreter CMake finds first may be a pyenv or venv python without the
Debian package; then the script re-runs itself with /usr/bin/python3, which
is where python3-redis installs.
"""
import os
import sys

try:
    import redis
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("test_redispy: python module 'redis' not found "
                     "(install the Debian package python3-redis)\n")
    sys.exit(2)

import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One strata-server child on a free port in a private temp dir."""

    def __init__(self, *extra):
        binary = os.environ.get("STRATA_SERVER")
        if not binary or not os.access(binary, os.X_OK):
            raise RuntimeError("STRATA_SERVER is not set or not executable: %r" % binary)
        self.dir = tempfile.mkdtemp(prefix="strata-py-")
        self.log_path = os.path.join(self.dir, "server.log")
        for _attempt in range(5):
            self.port = free_port()
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    [binary, "--port", str(self.port), "--bind", "127.0.0.1", *extra,
                     *os.environ.get("STRATA_SERVER_ARGS", "").split()],
                    cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_ready():
                return
            if self.proc.poll() is None:  # alive but not answering: give up
                break
        self.proc.kill()
        self.proc.wait()
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError("strata-server did not start; log:\n" + log)

    def _wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False  # exited early (port taken?): retry
            try:
                if redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping():
                    return True
            except redis.exceptions.ConnectionError:
                pass
            time.sleep(0.05)
        return False

    def log(self):
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()[-20000:]
        except OSError as e:
            return "(no log: %s)" % e

    def client(self, **kw):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10, **kw)

    def stop(self):
        """SIGTERM; returns the exit status (None on timeout, then SIGKILL)."""
        status = None
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if status != 0:
            sys.stderr.write("server exit status %r; log:\n%s\n" % (status, self.log()))
        shutil.rmtree(self.dir, ignore_errors=True)
        return status


class RedisPyTest(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server()

    @classmethod
    def tearDownClass(cls):
        status = cls.server.stop()
        if status != 0:
            raise AssertionError("strata-server exit status %r after SIGTERM (expected 0)" % status)

    def setUp(self):
        self.r = self.server.client()
        self.s = self.server.client(decode_responses=True)

    def tearDown(self):
        self.r.close()
        self.s.close()

    def test_set_get_binary_safe(self):
        self.assertTrue(self.r.set("py:k", b"v\x00\xff\r\n"))
        self.assertEqual(self.r.get("py:k"), b"v\x00\xff\r\n")
        self.assertIsNone(self.r.get("py:missing"))
        self.assertTrue(self.s.set("py:uni", "h\u00e9llo"))
        self.assertEqual(self.s.get("py:uni"), "h\u00e9llo")
        self.assertIsNone(self.r.set("py:k", "x", nx=True))
        self.assertEqual(self.r.set("py:k", "new", get=True), b"v\x00\xff\r\n")
        self.assertEqual(self.r.delete("py:k", "py:uni", "py:missing"), 2)

    def test_pipeline(self):
        p = self.s.pipeline(transaction=False)
        for i in range(200):
            p.set("py:pipe:%d" % i, i)
        for i in range(200):
            p.incr("py:pipe:%d" % i)
        p.get("py:pipe:199")
        res = p.execute()
        self.assertEqual(res[:200], [True] * 200)
        self.assertEqual(res[200:400], list(range(1, 201)))
        self.assertEqual(res[400], "200")
        self.assertEqual(self.s.delete(*["py:pipe:%d" % i for i in range(200)]), 200)

    def test_pipeline_reports_errors_in_place(self):
        self.s.set("py:str", "abc")
        p = self.s.pipeline(transaction=False)
        p.set("py:n", 1)
        p.incr("py:str")
        p.incr("py:n")
        res = p.execute(raise_on_error=False)
        self.assertTrue(res[0])
        self.assertIsInstance(res[1], redis.exceptions.ResponseError)
        self.assertIn("not an integer", str(res[1]))
        self.assertEqual(res[2], 2)
        self.s.delete("py:str", "py:n")

    def test_expire_and_ttl(self):
        self.s.set("py:ttl", "v")
        self.assertEqual(self.s.ttl("py:ttl"), -1)
        self.assertTrue(self.s.expire("py:ttl", 1000))
        self.assertTrue(998 <= self.s.ttl("py:ttl") <= 1000)
        self.assertTrue(990000 <= self.s.pttl("py:ttl") <= 1000000)
        self.assertTrue(self.s.persist("py:ttl"))
        self.assertEqual(self.s.ttl("py:ttl"), -1)
        self.assertEqual(self.s.ttl("py:nokey"), -2)
        self.s.set("py:short", "v", px=300)
        self.assertEqual(self.s.get("py:short"), "v")
        time.sleep(0.6)
        self.assertIsNone(self.s.get("py:short"))
        self.assertEqual(self.s.exists("py:short"), 0)
        self.s.delete("py:ttl")

    def test_incr_family(self):
        self.assertEqual(self.s.incr("py:ctr"), 1)
        self.assertEqual(self.s.incr("py:ctr", 41), 42)
        self.assertEqual(self.s.decr("py:ctr", 2), 40)
        self.assertAlmostEqual(self.s.incrbyfloat("py:ctr", 0.5), 40.5)
        self.s.set("py:ctr", "nope")
        with self.assertRaises(redis.exceptions.ResponseError):
            self.s.incr("py:ctr")
        self.s.delete("py:ctr")

    def test_mset_mget(self):
        self.assertTrue(self.s.mset({"py:m1": "a", "py:m2": "b", "py:m3": "c"}))
        self.assertEqual(self.s.mget("py:m1", "py:missing", "py:m3"), ["a", None, "c"])
        self.assertEqual(self.s.mget(["py:m2"]), ["b"])
        self.assertEqual(self.s.delete("py:m1", "py:m2", "py:m3"), 3)

    def test_scan_iter(self):
        names = {"py:scan:%d" % i for i in range(500)}
        self.s.mset({n: "x" for n in names})
        self.s.set("py:other", "x")
        found = list(self.s.scan_iter(match="py:scan:*", count=50))
        self.assertEqual(set(found), names)
        self.assertEqual(self.s.delete(*names), 500)
        self.s.delete("py:other")

    def test_client_setname_getname(self):
        self.assertIsNone(self.s.client_getname())
        self.assertTrue(self.s.client_setname("py-client"))
        self.assertEqual(self.s.client_getname(), "py-client")
        names = [c.get("name") for c in self.s.client_list()]
        self.assertIn("py-client", names)

    def test_info(self):
        info = self.s.info()
        self.assertIsInstance(info, dict)
        self.assertGreaterEqual(info["connected_clients"], 1)
        self.assertEqual(int(info["tcp_port"]), self.server.port)
        self.assertIn("used_memory", info)
        self.s.set("py:info", "v")
        keyspace = self.s.info("keyspace")
        self.assertIn("db0", keyspace)
        self.assertGreaterEqual(keyspace["db0"]["keys"], 1)
        server = self.s.info("server")
        self.assertIn("process_id", server)
        self.assertEqual(int(server["process_id"]), self.server.proc.pid)
        self.assertNotIn("connected_clients", server)
        self.s.delete("py:info")

    def test_errors_map_to_exceptions(self):
        with self.assertRaises(redis.exceptions.ResponseError) as cm:
            self.s.execute_command("NOSUCHCOMMAND", "a")
        self.assertIn("unknown command", str(cm.exception))
        self.s.set("py:e", "v")
        with self.assertRaises(redis.exceptions.ResponseError):
            self.s.execute_command("GET")
        self.assertTrue(self.s.ping())
        self.s.delete("py:e")


if __name__ == "__main__":
    unittest.main(verbosity=2)
