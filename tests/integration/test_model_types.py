#!/usr/bin/env python3
"""test_model_types.py -- model-based test of the data types (issue 3).

For each family (hash, list, set, zset, bitmap, hll) it sends tens of
thousands of random commands to a server it starts itself and to a small
reference model written in plain Python (dict, list, set, dict member->score
with a sorted view, bytearray, set-of-elements for HLL), and compares every
reply as it arrives.  Three more runs mix all families on the same keys.

What is compared
  Replies are read raw, RESP2, through redis-py's Connection with a parser of
  our own (ExactParser) that keeps the reply's shape: a status (+OK) is not a
  bulk "OK", an error keeps its full text ("WRONGTYPE ...", "ERR ..."), a nil
  bulk ($-1) is not a nil array (*-1).  The model answers in the same shape,
  so each reply is checked exactly: types, order, error texts.  Where Redis
  leaves the order or the choice open the check says what must hold instead:
    - HGETALL/HKEYS/HVALS/SMEMBERS/SINTER/SUNION/SDIFF: same multiset, any order;
    - SPOP/SRANDMEMBER/HRANDFIELD/ZRANDMEMBER: members of the model, distinct
      when the count is positive, the right number, values/scores right; SPOP
      then removes what the server popped;
    - SCAN/HSCAN/SSCAN/ZSCAN: a full cursor loop returns every element (and
      only elements that match), with the right values/scores; half the loops
      have writes to the same key (or keyspace) between calls, and then every
      element present throughout must come back and nothing never present;
    - TTL after EXPIRE (long, 100000 s): within TTL_SLACK seconds of the model;
    - OBJECT ENCODING: hash and zset exactly (listpack until past the entries
      or value limits, then hashtable/skiplist for good; a re-created key
      starts compact; these rules are the same in 7.0 and 7.2); list and set a
      name valid for the type, and the large encoding past the entries limit;
      in the tiny-threshold runs each type must show all its encodings;
    - MEMORY USAGE: a positive integer (nil for a missing key); INFO keyspace:
      db0's keys and expires counts equal the model's;
    - HLL: PFADD's 0/1 where it is determined (new key: 1; only known
      elements: 0), PFCOUNT within max(3, 4%) of the true cardinality, GET of
      an HLL starts with "HYLL".
  Keys are few (20) and members few (about 30) so commands collide; each run
  mixes strings and other types on the same keys (WRONGTYPE paths) with DEL,
  EXPIRE, PERSIST, TTL, RENAME, RENAMENX, COPY, TYPE, EXISTS, DBSIZE.  Rare
  bulk commands (a hundred or more members) cross the default thresholds
  (128/512 entries, 8 KB list nodes) and mass deletions follow; values at
  listpack's integer and string-length encoding limits are mixed in.  The
  (sequential) commands are spread over several connections so that
  consecutive commands on a key come from different server workers.  After
  the random commands every key is read back whole.
  Scores and float increments are quarters (exact in binary, printed the same
  by Redis 7.0's %.17g and 7.2's shortest form).

Two threshold modes per family: "default" (Redis's defaults, set with CONFIG
SET at the start of the run) and "tiny" (hash/zset/set listpack entries 4,
intset entries 4, list-max-listpack-size 4, value limits 16 bytes,
hll-sparse-max-bytes 100), so the same random operations run on both
encodings and through the conversions.  One more run, mixed/resp3, sends the
mixed families over RESP3 connections (HELLO 3, tiny thresholds): each reply's
RESP3 shape is checked per command (maps for HGETALL, sets for SMEMBERS,
SINTER, SUNION, SDIFF and SPOP with a count, doubles for scores, pairs for
WITHSCORES/WITHVALUES, verbatim text for INFO, _ for every null, and none of
these anywhere else), then its content is checked against the same model.

A command family that the server does not have is not skipped: its runs fail
naming the missing commands (after running the model on the commands that
exist, so other mismatches are still reported).

On a mismatch the test replays, on the same server after FLUSHALL, only the
commands that touched the failing command's keys (transitively), shrinks that
sequence while it still fails, and prints it (redis-cli syntax) with the
expected and actual reply.

Environment
  STRATA_SERVER  server binary (required).  If its name is redis-server the
                 test runs against real Redis (--save '' added); that is how
                 the model itself is validated (Redis 7.0.15 passes; 7.2-only
                 features such as ZRANK WITHSCORE and set listpacks are probed
                 and used only when present).
  STRATA_SEED    seed (default: random, printed).
  STRATA_STEPS   random commands per family and mode (default 20000).
  STRATA_ONLY    comma-separated family names to run (default all).
  STRATA_CONNS   connections the (sequential) commands are spread over,
                 so that they reach different server workers (default 3).
  STRATA_MODEL_STATS  set: print how many replies of each kind each command
                 got (coverage of the error paths).

Files: this one (server, connections, the run loop, reproduction, the unittest
cases); model_resp.py (exact replies, expectations, Redis's parsing rules);
model_ref.py (the reference model); model_gen.py (the random commands).

The interpreter CMake finds first may be a pyenv or venv python without the
Debian package python3-redis; then the script re-runs itself with
/usr/bin/python3.
"""
import os
import sys

try:
    import redis
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("test_model_types: python module 'redis' not found "
                     "(install the Debian package python3-redis)\n")
    sys.exit(2)

import atexit
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model_resp import *  # noqa: E402,F401,F403 (replies, expectations)
from model_ref import *   # noqa: E402,F401,F403 (the reference model)
from model_gen import *   # noqa: E402,F401,F403 (random commands)

# --------------------------------------------------------------------------
# Server and connection
# --------------------------------------------------------------------------


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """One server child ($STRATA_SERVER, or a redis-server to validate the
    model) on a free loopback port in a private temp dir."""

    def __init__(self):
        binary = os.environ.get("STRATA_SERVER")
        if not binary or not os.access(binary, os.X_OK):
            raise RuntimeError("STRATA_SERVER is not set or not executable: %r" % binary)
        self.is_redis = os.path.basename(binary).startswith("redis-server")
        extra = ["--save", "", "--appendonly", "no"] if self.is_redis else []
        self.dir = tempfile.mkdtemp(prefix="strata-model-")
        self.log_path = os.path.join(self.dir, "server.log")
        for _attempt in range(5):
            self.port = free_port()
            with open(self.log_path, "wb") as log:
                self.proc = subprocess.Popen(
                    [binary, "--port", str(self.port), "--bind", "127.0.0.1", *extra,
                     *([] if self.is_redis else os.environ.get("STRATA_SERVER_ARGS", "").split())],
                    cwd=self.dir, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_ready():
                return
            if self.proc.poll() is None:
                break
        self.proc.kill()
        self.proc.wait()
        log = self.log()
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError("server did not start; log:\n" + log)

    def _wait_ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
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

    def kill(self):
        """SIGKILL if still running (atexit safety net)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stop(self):
        """SIGTERM; -> exit status, or "sanitizer" when the log has an ASan/UBSan
        report (a Sanitize build), or None on timeout."""
        status = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        log = self.log()
        if "Sanitizer" in log or "runtime error:" in log:
            status = "sanitizer"
        if status != 0:
            sys.stderr.write("server exit status %r; log:\n%s\n" % (status, log))
        shutil.rmtree(self.dir, ignore_errors=True)
        return status


class Conns:
    """Several connections used one at a time, each command on a random one:
    still strictly sequential (the model stays exact), but consecutive commands
    on the same keys usually come from different server workers."""

    def __init__(self, port, n, rng, resp3=False):
        self.conns = [Conn(port, resp3) for _ in range(n)]
        self.rng = rng

    def call(self, args):
        return self.rng.choice(self.conns).call(args)

    def close(self):
        for c in self.conns:
            c.close()


class Conn:
    """One raw connection (redis-py Connection + ExactParser), RESP2 or,
    after HELLO 3, RESP3."""

    def __init__(self, port, resp3=False):
        self.c = redis.Connection(host="127.0.0.1", port=port, parser_class=ExactParser,
                                  socket_timeout=60)
        self.c.connect()
        if resp3:
            r = self.call(["HELLO", "3"])
            if not isinstance(r, Map):
                raise AssertionError("HELLO 3 answered %r" % (r,))

    def call(self, args):
        self.c.send_command(*args)
        return self.c.read_response()

    def close(self):
        self.c.disconnect()


def fmt_arg(x):
    if isinstance(x, str):
        x = x.encode()
    if re.match(rb"^[A-Za-z0-9_.+:#()\[\]*?-]+$", x):
        return x.decode()
    out = '"'
    for ch in x:
        c = chr(ch)
        if c in '"\\':
            out += "\\" + c
        elif 32 <= ch < 127:
            out += c
        else:
            out += "\\x%02x" % ch
    return out + '"'


def fmt_cmd(args):
    if args and args[0] == "*SCAN":
        return "(full cursor loop) " + " ".join(fmt_arg(x) for x in args[1:])
    return " ".join(fmt_arg(x) for x in args)


SCAN_KIND = {"HSCAN": "hash", "SSCAN": "set", "ZSCAN": "zset"}


def _z(x):
    return b"0" if x == b"-0" else x


def _zodd(lst):
    return [_z(x) if i % 2 else x for i, x in enumerate(lst)] if isinstance(lst, list) else lst


def unzero(args, r):
    """Scores (only) "-0" -> "0" in a sorted-set command's RESP2 reply (see
    model_resp.fmt_double); members are left alone."""
    name = str(args[0]).upper()
    up = [(x.encode() if isinstance(x, str) else x).upper() for x in args]
    if not isinstance(r, (list, bytes)):
        return r
    if name in ("ZSCORE", "ZINCRBY", "ZADD"):
        return _z(r)
    if name == "ZMSCORE":
        return [_z(x) for x in r]
    if name in ("ZRANK", "ZREVRANK"):
        return [r[0], _z(r[1])] if isinstance(r, list) and len(r) == 2 else r
    if name in ("ZPOPMIN", "ZPOPMAX") or b"WITHSCORES" in up:
        return _zodd(r)
    if name in ("ZMPOP", "BZMPOP") and isinstance(r, list) and len(r) == 2 and \
            isinstance(r[1], list):
        return [r[0], [[p[0], _z(p[1])] if isinstance(p, list) and len(p) == 2 else p
                       for p in r[1]]]
    if name in ("BZPOPMIN", "BZPOPMAX") and isinstance(r, list) and len(r) == 3:
        return [r[0], r[1], _z(r[2])]
    return r


class Mismatch:
    def __init__(self, step, args, expected, got):
        self.step = step
        self.args = args
        self.expected = expected
        self.got = got


# --------------------------------------------------------------------------
# One random run
# --------------------------------------------------------------------------


class Run:
    MAX_DISTINCT = 5

    def __init__(self, suite, family, mode, seed, steps):
        self.s = suite
        self.conn = suite.conn
        self.family = family
        self.mode = mode
        self.seed = seed
        self.steps = steps
        self.limits = LIMITS_DEFAULT if mode == "default" else LIMITS_TINY
        self.resp3 = mode == "resp3"
        if self.resp3:
            self.conn = Conns(suite.server.port, CONNS, random.Random(seed), resp3=True)

    def close(self):
        if self.resp3:
            self.conn.close()

    # ---- server state
    def reset(self):
        assert self.conn.call(["FLUSHALL"]) == OK
        for name, v in self.limits.items():
            r = self.conn.call(["CONFIG", "SET", name, str(v)])
            if r != OK and not (name in LIMITS_OPTIONAL and self.s.server.is_redis):
                raise AssertionError("CONFIG SET %s %s -> %r" % (name, v, r))

    # ---- one command (or one SCAN loop) against server and model
    def execute(self, model, args):
        """-> None, or (expected description, got)."""
        if args[0] == "*SCAN":
            return self.scan(model, args[1:])
        exp = model.apply(args)
        got = self.conn.call(args)
        if self.resp3:
            raw = got
            got, problem = resp3_check(args, raw)
            if problem is not None:
                return problem, raw
            if isinstance(exp, Exact):
                exp.v = nullarray_to_none(exp.v)
        if str(args[0])[:1] in "zZ" or str(args[0])[:2] in ("bz", "BZ"):
            got = unzero(args, got)  # see fmt_double
        if STATS:
            k = (str(args[0]).upper(), got.s.split(" ")[0] + " " + got.s[4:40]
                 if isinstance(got, Err) else type(got).__name__)
            STATS_COUNT[k] = STATS_COUNT.get(k, 0) + 1
        why = exp.check(got)
        if why is not None:
            return why, got
        if exp.after is not None:
            exp.after(got)
        return None

    def scan_mutation(self, kind, key, rng):
        """A write on the scanned key (or, for SCAN, on the keyspace)."""
        if kind == "keys":
            k = rng.choice(KEYS)
            return ["DEL", k] if rng.random() < 0.5 else ["SET", k, "x"]
        if kind == "set":
            m = rng.choice([b"%d" % rng.randrange(40), b"m%d" % rng.randrange(10),
                            b"%d" % rng.randrange(1000, 1800), b"s%d" % rng.randrange(400)])
            return [rng.choice(["SADD", "SREM"]), key, m]
        m = rng.choice([b"f%d" % rng.randrange(30), b"b%d" % rng.randrange(300),
                        b"m%d" % rng.randrange(30)])
        if kind == "hash":
            return ["HSET", key, m, "v"] if rng.random() < 0.5 else ["HDEL", key, m]
        return ["ZADD", key, "1", m] if rng.random() < 0.5 else ["ZREM", key, m]

    def scan_loop(self, model, kind, call, parse, expect_now, rng):
        """A full cursor loop.  Without rng: exactly the elements of expect_now()
        (with their values).  With rng, a write on the same key or keyspace
        goes between calls: then every element present from start to end must
        come back, and nothing that was never present."""
        start = expect_now()
        ever = {m: {v} for m, v in start.items()}
        kept = set(start)
        cursor = b"0"
        seen = set()
        for _ in range(5000):
            got = call(cursor)
            pairs = parse(got)
            if isinstance(pairs, str):
                return pairs, got
            for m, v in pairs:
                if m not in ever or (rng is None and v not in ever[m]):
                    return ("only elements of %r" % sorted(start.items()) if rng is None else
                            "elements that were present during the loop", got)
                seen.add(m)
            cursor = got[0]
            if cursor == b"0":
                break
            if rng is not None and rng.random() < 0.7:
                w = self.scan_mutation(kind, b"" if kind == "keys" else self.scan_key, rng)
                res = self.execute(model, w)
                if res is not None:
                    return ("(%s between SCAN calls) %s" % (fmt_cmd(w), res[0]), res[1])
                now = expect_now()
                for m, v in now.items():
                    ever.setdefault(m, set()).add(v)
                kept &= set(now)
        else:
            return "a cursor loop that ends", got
        if not kept <= seen:
            return ("every element of %r" % sorted(kept), "the loop returned %r" % sorted(seen))
        return None

    @staticmethod
    def split_mut(opts):
        if b"*MUT" in opts:
            i = opts.index(b"*MUT")
            return opts[:i], random.Random(int(opts[i + 1]))
        return opts, None

    def kscan(self, model, a):
        """SCAN [MATCH] [COUNT] [TYPE] cursor loop over the model's keys."""
        opts, rng = self.split_mut([x.encode() if isinstance(x, str) else x for x in a[1:]])
        want = b"TYPE" in opts and opts[opts.index(b"TYPE") + 1].decode()
        pattern = opts[opts.index(b"MATCH") + 1] if b"MATCH" in opts else None

        def expect_now():
            return {k: None for k, e in model.db.items()
                    if (not want or TYPE_NAME[e.kind] == want) and
                    (pattern is None or glob_match(pattern, k))}

        def parse(got):
            if not (isinstance(got, list) and len(got) == 2 and isinstance(got[0], bytes) and
                    isinstance(got[1], list)):
                return "[cursor, [keys]]"
            return [(k, None) for k in got[1]]
        return self.scan_loop(model, "keys", lambda c: self.conn.call(["SCAN", c] + opts),
                              parse, expect_now, rng)

    def scan(self, model, a):
        if a[0] == "SCAN":
            return self.kscan(model, a)
        name, key = a[0], a[1].encode() if isinstance(a[1], str) else a[1]
        opts, rng = self.split_mut([x.encode() if isinstance(x, str) else x for x in a[2:]])
        pattern = opts[opts.index(b"MATCH") + 1] if b"MATCH" in opts else None
        kind = SCAN_KIND[name]
        try:
            model.scan_expect(kind, key, pattern)
        except Reply as rep:
            got = self.conn.call([name, key, b"0"] + opts)
            return None if got == rep.v else (repr(rep.v), got)

        def expect_now():
            try:
                return model.scan_expect(kind, key, pattern)
            except Reply:  # a mutation cannot change the type; defensive
                return {}

        def call(cursor):
            got = self.conn.call([name, key, cursor] + opts)
            if kind == "zset" and isinstance(got, list) and len(got) == 2:
                got = [got[0], _zodd(got[1])]
            return got

        def parse(got):
            if not (isinstance(got, list) and len(got) == 2 and isinstance(got[0], bytes) and
                    isinstance(got[1], list)):
                return "[cursor, [elements]]"
            items = got[1]
            if kind == "set":
                return [(m, None) for m in items]
            if len(items) % 2:
                return "an even number of items"
            return list(zip(items[0::2], items[1::2]))
        self.scan_key = key
        return self.scan_loop(model, kind, call, parse, expect_now, rng)

    def final_sweep(self, model):
        """Commands that read every key back whole, checked like the others."""
        cmds = [["DBSIZE"], ["INFO", "keyspace"]]
        for k in KEYS:
            cmds.append(["TYPE", k])
            e = model.db.get(k)
            kind = e.kind if e else None
            read = {"hash": ["HGETALL", k], "list": ["LRANGE", k, "0", "-1"],
                    "set": ["SMEMBERS", k], "zset": ["ZRANGE", k, "0", "-1", "WITHSCORES"],
                    "string": ["GET", k], "hll": ["PFCOUNT", k]}.get(kind)
            if read and read[0].upper() in self.s.avail:
                cmds.append(read)
            cmds.append(["TTL", k])
            cmds.append(["OBJECT", "ENCODING", k])
        return cmds

    # ---- the run
    def run(self):
        rng = random.Random(self.seed)
        model = Model(self.limits, self.s.features)
        gen = Gen(rng, model)
        ops = build_ops(gen, self.family)
        wanted = FAMILY_CMDS[self.family] if self.family != "mixed" else \
            [c for f in FAMILIES for c in FAMILY_CMDS[f]]
        missing = sorted(c for c in wanted if c not in self.s.avail)
        ops = [o for o in ops if all(c in self.s.avail for c in o.cmds)]
        fam_ops = [o for o in ops if o.family not in ("generic",)]
        result = {"missing": missing, "mismatches": [], "steps": 0, "encodings": None}
        if self.family != "mixed" and not [o for o in fam_ops if o.family == self.family]:
            return result  # nothing of the family exists
        total = sum(o.weight for o in ops)
        cum = []
        acc = 0.0
        for o in ops:
            acc += o.weight
            cum.append(acc)
        self.reset()
        history = []
        mismatches = []
        names_failed = set()
        t0 = time.monotonic()
        step = 0
        sweep = None
        while True:
            if step < self.steps:
                x = rng.random() * total
                i = 0
                while cum[i] < x:
                    i += 1
                args = ops[i].fn()
                if args is None:
                    continue
            else:
                if sweep is None:
                    sweep = self.final_sweep(model)
                if not sweep:
                    break
                args = sweep.pop(0)
            step += 1
            history.append(args)
            res = self.execute(model, args)
            if res is None:
                continue
            name = args[1] if args[0] == "*SCAN" else args[0]
            mismatches.append(Mismatch(len(history) - 1, args, res[0], res[1]))
            names_failed.add(str(name).upper())
            if len(names_failed) >= self.MAX_DISTINCT or len(mismatches) >= 50:
                break
            # resynchronise: forget the keys involved on both sides
            ks = sorted(keys_of(args)) or KEYS
            d = ["DEL"] + ks
            history.append(d)
            model.apply(d)
            self.conn.call(d)
        result["steps"] = step
        result["seconds"] = time.monotonic() - t0
        result["encodings"] = {k: sorted(v) for k, v in model.enc_seen.items()}
        result["history"] = history
        result["mismatches"] = mismatches
        return result

    # ---- reproduction
    def replay(self, seq):
        """Run seq on a flushed server with a fresh model -> (index, expected, got) or None."""
        self.reset()
        model = Model(self.limits, self.s.features)
        for i, args in enumerate(seq):
            try:
                res = self.execute(model, args)
            except Unmodelled:
                # a shortened sequence may aim a command where the model cannot
                # follow (bit commands on an HLL): not a reproduction
                return None
            if res is not None:
                return i, res[0], res[1]
        return None

    def reproduce(self, history, mm, budget):
        """The failing command's key closure, replayed and shrunk."""
        idx = mm.step
        if not keys_of(mm.args):  # DBSIZE, SCAN: the whole keyspace matters
            seq = history[:idx + 1]
        else:
            keys = set(keys_of(mm.args))
            chosen = [idx]
            for j in range(idx - 1, -1, -1):
                ks = keys_of(history[j])
                if ks & keys:
                    chosen.append(j)
                    keys |= ks
            seq = [history[j] for j in reversed(chosen)]
        deadline = time.monotonic() + budget
        target = cmd_name(mm.args)

        def attempt(cand):
            """Replay cand; the failure counts only on the same command."""
            g = self.replay(cand) if cand else None
            return g if g is not None and cmd_name(cand[g[0]]) == target else None

        f = attempt(seq)
        if f is None:
            return seq, None, False
        seq = seq[:f[0] + 1]
        n = 2
        while len(seq) >= 2 and time.monotonic() < deadline:
            chunk = max(1, (len(seq) + n - 1) // n)
            progress = False
            start = 0
            while start < len(seq) and time.monotonic() < deadline:
                cand = seq[:start] + seq[start + chunk:]
                g = attempt(cand)
                if g is not None:
                    seq, f = cand[:g[0] + 1], g
                    progress = True
                else:
                    start += chunk
            if not progress:
                if chunk == 1:
                    break
                n = min(len(seq), n * 2)
            else:
                n = max(2, n - 1)
        f = attempt(seq) or f
        return seq, f, True


def cmd_name(args):
    return str(args[1] if args[0] == "*SCAN" else args[0]).upper()


FAMILY_CMDS = {
    "hash": ["HSET", "HSETNX", "HGET", "HMSET", "HMGET", "HDEL", "HEXISTS", "HLEN", "HKEYS",
             "HVALS", "HGETALL", "HINCRBY", "HINCRBYFLOAT", "HSTRLEN", "HRANDFIELD", "HSCAN"],
    "list": ["LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP", "LLEN", "LRANGE", "LINDEX",
             "LSET", "LINSERT", "LREM", "LTRIM", "LPOS", "LMOVE", "RPOPLPUSH", "LMPOP", "BLPOP",
             "BRPOP", "BLMOVE", "BRPOPLPUSH", "BLMPOP"],
    "set": ["SADD", "SREM", "SMEMBERS", "SISMEMBER", "SMISMEMBER", "SCARD", "SPOP",
            "SRANDMEMBER", "SMOVE", "SINTER", "SINTERCARD", "SUNION", "SDIFF", "SINTERSTORE",
            "SUNIONSTORE", "SDIFFSTORE", "SSCAN"],
    "zset": ["ZADD", "ZINCRBY", "ZREM", "ZSCORE", "ZMSCORE", "ZCARD", "ZCOUNT", "ZLEXCOUNT",
             "ZRANGE", "ZRANGESTORE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE",
             "ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZRANK", "ZREVRANK", "ZREMRANGEBYRANK",
             "ZREMRANGEBYSCORE", "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX", "BZPOPMIN", "BZPOPMAX",
             "ZMPOP", "BZMPOP", "ZRANDMEMBER", "ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE",
             "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD", "ZSCAN"],
    "bitmap": ["SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITOP", "BITFIELD", "BITFIELD_RO"],
    "hll": ["PFADD", "PFCOUNT", "PFMERGE"],
}
GENERIC_CMDS = ["INFO", "MEMORY", "SCAN", "DEL", "UNLINK", "EXISTS", "TYPE", "EXPIRE", "TTL", "PERSIST", "RENAME",
                "RENAMENX", "COPY", "OBJECT", "DBSIZE", "SET", "GET", "APPEND", "SETRANGE",
                "GETRANGE", "STRLEN", "FLUSHALL", "CONFIG"]
# encodings each family must show in a tiny-threshold run
TINY_ENCODINGS = {"hash": ("hash", {b"listpack", b"hashtable"}),
                  "list": ("list", {b"listpack", b"quicklist"}),
                  "set": ("set", {b"intset", b"listpack", b"hashtable"}),
                  "zset": ("zset", {b"listpack", b"skiplist"})}


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


BASE_SEED = env_int("STRATA_SEED", random.SystemRandom().randrange(1, 1 << 31))
STEPS = env_int("STRATA_STEPS", 20000)
CONNS = max(1, env_int("STRATA_CONNS", 3))  # connections the commands are spread over
STATS = bool(os.environ.get("STRATA_MODEL_STATS"))  # print replies seen per command
STATS_COUNT = {}
ONLY = set(x for x in os.environ.get("STRATA_ONLY", "").split(",") if x)


class ModelTypesTest(unittest.TestCase):
    server = None
    conn = None

    @classmethod
    def setUpClass(cls):
        sys.stderr.write("test_model_types: STRATA_SEED=%d STRATA_STEPS=%d\n" % (BASE_SEED, STEPS))
        cls.server = Server()
        # unittest skips tearDownClass when setUpClass raises; atexit covers
        # that and an interrupted run
        atexit.register(cls.server.kill)
        try:
            cls.setup_probes()
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def setup_probes(cls):
        cls.conn = Conns(cls.server.port, CONNS, random.Random(BASE_SEED))
        names = sorted(set(c for f in FAMILY_CMDS.values() for c in f) | set(GENERIC_CMDS))
        info = cls.conn.call(["COMMAND", "INFO"] + names)
        cls.avail = {n for n, i in zip(names, info) if isinstance(i, list) and i}
        cls.features = set()
        if "ZRANK" in cls.avail:
            r = cls.conn.call(["ZRANK", "probe:none", "m", "WITHSCORE"])
            if not isinstance(r, Err):
                cls.features.add("zrank-withscore")
        if "RPUSH" in cls.avail:
            cls.conn.call(["RPUSH", "probe:list", "a"])
            if cls.conn.call(["OBJECT", "ENCODING", "probe:list"]) == b"listpack":
                cls.features.add("list-listpack")
        r = cls.conn.call(["CONFIG", "GET", "set-max-listpack-entries"])
        if isinstance(r, list) and r:
            cls.features.add("set-listpack")
        cls.conn.call(["FLUSHALL"])

    @classmethod
    def tearDownClass(cls):
        if STATS:
            for (name, kind), n in sorted(STATS_COUNT.items()):
                sys.stderr.write("  %-18s %-50s %d\n" % (name, kind, n))
        if cls.conn is not None:
            cls.conn.close()
        if cls.server is not None:
            status = cls.server.stop()
            if status != 0 and not cls.server.is_redis:
                raise AssertionError("server exit status %r after SIGTERM (expected 0)" % status)

    def run_model(self, family, mode):
        if ONLY and family not in ONLY:
            self.skipTest("STRATA_ONLY=%s" % ",".join(sorted(ONLY)))
        seed = BASE_SEED ^ zlib.crc32(("%s/%s" % (family, mode)).encode())
        steps = STEPS if family != "mixed" or mode == "resp3" else max(1, STEPS // 2)
        run = Run(self, family, mode, seed, steps)
        try:
            self.check_run(run, family, mode, seed)
        finally:
            run.close()

    def check_run(self, run, family, mode, seed):
        res = run.run()
        lines = []
        if self.server.proc.poll() is not None:
            self.fail("the server died (exit %r); log:\n%s" % (self.server.proc.returncode,
                                                              self.server.log()))
        if res["steps"] == 0:
            self.fail("%s: the server has none of this family's commands (missing: %s)"
                      % (family, " ".join(res["missing"])))
        sys.stderr.write("  %s/%s: seed %d, %d commands in %.1f s, encodings seen %s\n" % (
            family, mode, seed, res["steps"], res["seconds"],
            {k: [e.decode() for e in v] for k, v in res["encodings"].items()}))
        budget = 60.0
        reported = set()
        for mm in res["mismatches"]:
            name = cmd_name(mm.args)
            if name in reported:
                continue
            reported.add(name)
            t0 = time.monotonic()
            seq, f, reproduced = run.reproduce(res["history"], mm, min(20.0, max(budget, 1.0)))
            budget -= time.monotonic() - t0
            lines.append("MISMATCH (%s/%s, seed %d, STRATA_SEED=%d, step %d): %s" % (
                family, mode, seed, BASE_SEED, mm.step, fmt_cmd(mm.args)))
            lines.append("  expected: %s" % mm.expected)
            lines.append("  got:      %r" % (mm.got,))
            if f is not None:
                lines.append("  reproduction from a fresh server (FLUSHALL, %s thresholds), "
                             "%d commands:" % (mode, len(seq)))
                for c in seq:
                    lines.append("    " + fmt_cmd(c))
                lines.append("  last command: expected %s, got %r" % (f[1], f[2]))
            else:
                lines.append("  (the key closure, %d commands, did not reproduce on replay)"
                             % len(seq))
        if len(res["mismatches"]) > len(reported):
            lines.append("(%d mismatches in all)" % len(res["mismatches"]))
        # a short run (STRATA_STEPS below 5000) may not get that far
        if mode == "tiny" and family in TINY_ENCODINGS and not res["mismatches"] and \
                run.steps >= 5000:
            kind, want = TINY_ENCODINGS[family]
            want = set(want)
            if kind == "list" and "list-listpack" not in self.features:
                want.discard(b"listpack")
            if kind == "set" and "set-listpack" not in self.features:
                want.discard(b"listpack")
            got = set(e for e in res["encodings"].get(kind, []))
            if not want <= got:
                lines.append("encodings not seen in the tiny run: %s (seen %s)" % (
                    sorted(want - got), sorted(got)))
        if res["missing"]:
            lines.append("%s: commands missing from the server: %s" % (
                family, " ".join(res["missing"])))
        if lines:
            msg = "\n".join(lines)
            sys.stderr.write(msg + "\n")
            self.fail(msg)


def _add_tests():
    for fam in FAMILIES + ["mixed"]:
        for mode in ("default", "tiny") + (("resp3",) if fam == "mixed" else ()):
            def t(self, fam=fam, mode=mode):
                self.run_model(fam, mode)
            t.__name__ = "test_%s_%s" % (fam, mode)
            t.__doc__ = "%s, %s thresholds" % (fam, mode)
            setattr(ModelTypesTest, t.__name__, t)


_add_tests()


if __name__ == "__main__":
    # a SIGTERM (a test driver's timeout) still runs atexit, so the server goes
    # too; KeyboardInterrupt because unittest would catch SystemExit as an error

    def _on_term(*_):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, _on_term)
    unittest.main(verbosity=2)
