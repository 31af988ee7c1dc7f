#!/usr/bin/env python3
"""test_model_types.py -- model-based test of the data types (issue 3).

For each family (hash, list, set, zset, bitmap, hll) it sends tens of
thousands of random commands to a server it starts itself and to a small
reference model written in plain Python (dict, list, set, dict member->score
with a sorted view, bytearray, set-of-elements for HLL), and compares every
reply as it arrives.  A last pair of runs mixes all families on the same keys.

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
    - *SCAN: a full cursor loop returns every element (and only elements that
      match), with the right values/scores;
    - TTL after EXPIRE (long, 100000 s): within a few seconds of the model;
    - OBJECT ENCODING: a name valid for the type, and the large encoding once
      a collection is past the entries threshold; in the tiny-threshold runs
      each type must show both its compact and its large encoding;
    - HLL: PFADD's 0/1 where it is determined (new key: 1; only known
      elements: 0), PFCOUNT within max(3, 4%) of the true cardinality, GET of
      an HLL starts with "HYLL".
  Keys are few (20) and members few (about 30) so commands collide; each run
  mixes strings and other types on the same keys (WRONGTYPE paths) with DEL,
  EXPIRE, PERSIST, TTL, RENAME, RENAMENX, COPY, TYPE, EXISTS, DBSIZE.
  Scores and float increments are quarters (exact in binary, printed the same
  by Redis 7.0's %.17g and 7.2's shortest form).

Two threshold modes per family: "default" (Redis's defaults, set with CONFIG
SET at the start of the run) and "tiny" (hash/zset/set listpack entries 4,
intset entries 4, list-max-listpack-size 4, value limits 16 bytes,
hll-sparse-max-bytes 100), so the same random operations run on both
encodings and through the conversions.

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

import fnmatch
import math
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

from redis.connection import PythonParser
from redis.exceptions import ConnectionError as RedisConnectionError, InvalidResponse

# --------------------------------------------------------------------------
# Exact RESP2 replies
# --------------------------------------------------------------------------


class Status:
    """A +status reply (never equal to a bulk string)."""
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s

    def __eq__(self, o):
        return isinstance(o, Status) and o.s == self.s

    __hash__ = None

    def __repr__(self):
        return "+" + self.s


class Err:
    """A -error reply, full text."""
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s

    def __eq__(self, o):
        return isinstance(o, Err) and o.s == self.s

    __hash__ = None

    def __repr__(self):
        return "-" + self.s


class _NullArray:
    def __eq__(self, o):
        return isinstance(o, _NullArray)

    __hash__ = None

    def __repr__(self):
        return "*-1"


NULLARRAY = _NullArray()


class ExactParser(PythonParser):
    """redis-py's parser, but replies keep their RESP2 shape (see Status, Err,
    NULLARRAY); errors are returned, not raised."""

    def read_response(self, disable_decoding=False):
        raw = self._buffer.readline()
        if not raw:
            raise RedisConnectionError("server closed the connection")
        byte, rest = raw[:1], raw[1:]
        if byte == b"-":
            return Err(rest.decode("utf-8", errors="replace"))
        if byte == b"+":
            return Status(rest.decode("utf-8", errors="replace"))
        if byte == b":":
            return int(rest)
        if byte == b"$":
            n = int(rest)
            return None if n == -1 else self._buffer.read(n)
        if byte == b"*":
            n = int(rest)
            if n == -1:
                return NULLARRAY
            return [self.read_response() for _ in range(n)]
        raise InvalidResponse("Protocol Error: %r" % raw)


OK = Status("OK")
WRONGTYPE = Err("WRONGTYPE Operation against a key holding the wrong kind of value")
HLL_WRONGTYPE = Err("WRONGTYPE Key is not a valid HyperLogLog string value.")


def err(msg):
    return Err("ERR " + msg)


SYNTAX = err("syntax error")
NOTINT = err("value is not an integer or out of range")
NOTFLOAT = err("value is not a valid float")
MUSTBEPOS = err("value is out of range, must be positive")


def arity(name):
    return err("wrong number of arguments for '%s' command" % name)


# --------------------------------------------------------------------------
# Expectations
# --------------------------------------------------------------------------


class Expect:
    """What the model says the reply must be.  check(reply) -> None when it
    holds, else a description of what was expected.  after(reply), when set,
    updates the model from a checked reply (for commands whose effect the
    server chooses, e.g. SPOP)."""
    after = None

    def check(self, reply):
        raise NotImplementedError


class Exact(Expect):
    def __init__(self, v):
        self.v = v

    def check(self, r):
        return None if r == self.v else repr(self.v)


def _sortkey(x):
    return (0, x) if isinstance(x, bytes) else (1, repr(x))


class Unordered(Expect):
    """An array with the same elements in any order."""

    def __init__(self, v):
        self.v = v

    def check(self, r):
        if isinstance(r, list) and sorted(r, key=_sortkey) == sorted(self.v, key=_sortkey):
            return None
        return "any order of %r" % (sorted(self.v, key=_sortkey),)


class PairsUnordered(Expect):
    """A flat array of pairs (field, value) in any pair order."""

    def __init__(self, pairs):
        self.pairs = sorted(pairs)

    def check(self, r):
        if isinstance(r, list) and len(r) % 2 == 0 and \
                all(isinstance(x, bytes) for x in r) and \
                sorted(zip(r[0::2], r[1::2])) == self.pairs:
            return None
        return "pairs in any order: %r" % (self.pairs,)


class Pred(Expect):
    def __init__(self, fn, desc, after=None):
        self.fn = fn
        self.desc = desc
        self.after = after

    def check(self, r):
        try:
            return None if self.fn(r) else self.desc
        except Exception as e:  # a malformed reply
            return "%s (check raised %r)" % (self.desc, e)


class Reply(Exception):
    """Raised inside the model to answer at once (errors, early replies)."""

    def __init__(self, v):
        Exception.__init__(self)
        self.v = v


def is_bulk(x):
    return isinstance(x, bytes)


# --------------------------------------------------------------------------
# Parsing helpers (Redis's rules)
# --------------------------------------------------------------------------

INT_RE = re.compile(rb"^(0|-?[1-9][0-9]*)$")
FLOAT_RE = re.compile(rb"^[+-]?(inf|infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)$", re.I)
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1


def p_int(b):
    """string2ll: canonical decimal in int64, else None."""
    if not INT_RE.match(b):
        return None
    v = int(b)
    return v if I64_MIN <= v <= I64_MAX else None


def need_int(b, e=NOTINT):
    v = p_int(b)
    if v is None:
        raise Reply(e)
    return v


def p_float(b):
    """strtod as getDoubleFromObject accepts it (no spaces, no nan)."""
    if not FLOAT_RE.match(b):
        return None
    return float(b)


def need_float(b, e=NOTFLOAT):
    v = p_float(b)
    if v is None:
        raise Reply(e)
    return v


def fmt_double(d):
    """A score as Redis replies it (exact for the quarters used here).  Zero is
    "0" whatever its sign: Redis keeps -0.0 in a skiplist (replies "-0") but
    not in a listpack ("0"), so replies are compared with "-0" read as "0"."""
    if d == 0:
        return b"0"
    if d == math.inf:
        return b"inf"
    if d == -math.inf:
        return b"-inf"
    return (b"%.17g" % d)


def fmt_ld(d):
    """HINCRBYFLOAT's human long double form (%.17Lf, trailing zeros cut)."""
    s = "%.17f" % d
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    if s == "-0":
        s = "-0"
    return s.encode()


def norm_range(start, end, n):
    """LRANGE/ZRANGE rank normalisation -> python slice bounds or None."""
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if start > end or start >= n:
        return None
    if end >= n:
        end = n - 1
    return start, end + 1


def parse_score_bound(b):
    """zslParseRange item -> (value, exclusive) or None."""
    ex = False
    if b[:1] == b"(":
        ex = True
        b = b[1:]
    if b == b"":
        return 0.0, ex  # strtod("") is 0 and leaves nothing unparsed: Redis accepts it
    v = p_float(b)
    if v is None:
        return None
    return v, ex


def parse_lex_bound(b):
    """zslParseLexRange item -> ('-'|'+'|bytes, exclusive) or None."""
    if b == b"-":
        return ("-", False)
    if b == b"+":
        return ("+", False)
    if b[:1] == b"(":
        return (b[1:], True)
    if b[:1] == b"[":
        return (b[1:], False)
    return None


def score_in(v, lo, hi):
    (mn, mnex), (mx, mxex) = lo, hi
    if (v <= mn) if mnex else (v < mn):
        return False
    if (v >= mx) if mxex else (v > mx):
        return False
    return True


def lex_gte_min(m, lo):
    b, ex = lo
    if b == "-":
        return True
    if b == "+":
        return False
    return m > b if ex else m >= b


def lex_lte_max(m, hi):
    b, ex = hi
    if b == "+":
        return True
    if b == "-":
        return False
    return m < b if ex else m <= b


def glob_match(pattern, s):
    return fnmatch.fnmatchcase(s.decode("latin-1"), pattern.decode("latin-1"))


# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------

TTL_SLACK = 30  # seconds a TTL may have run down since EXPIRE (slow Sanitize builds)


class Entry:
    __slots__ = ("kind", "val", "exp")

    def __init__(self, kind, val, exp=None):
        self.kind = kind  # string hash list set zset hll
        self.val = val
        self.exp = exp    # absolute time.time() or None


def deep_copy(kind, v):
    if kind == "string":
        return bytearray(v)
    if kind in ("hash", "zset"):
        return dict(v)
    if kind == "list":
        return list(v)
    return set(v)  # set, hll


TYPE_NAME = {"string": "string", "hll": "string", "hash": "hash", "list": "list",
             "set": "set", "zset": "zset"}

ENCODINGS = {
    "string": {b"int", b"embstr", b"raw"},
    "hll": {b"raw"},
    "hash": {b"listpack", b"hashtable"},
    "list": {b"listpack", b"quicklist"},
    "set": {b"intset", b"listpack", b"hashtable"},
    "zset": {b"listpack", b"skiplist"},
}
BIG_ENCODING = {"hash": b"hashtable", "list": b"quicklist", "set": b"hashtable", "zset": b"skiplist"}

LIMITS_DEFAULT = {
    "hash-max-listpack-entries": 128, "hash-max-listpack-value": 64,
    "zset-max-listpack-entries": 128, "zset-max-listpack-value": 64,
    "set-max-intset-entries": 512, "set-max-listpack-entries": 128, "set-max-listpack-value": 64,
    "list-max-listpack-size": -2, "hll-sparse-max-bytes": 3000,
}
LIMITS_TINY = {
    "hash-max-listpack-entries": 4, "hash-max-listpack-value": 16,
    "zset-max-listpack-entries": 4, "zset-max-listpack-value": 16,
    "set-max-intset-entries": 4, "set-max-listpack-entries": 4, "set-max-listpack-value": 16,
    "list-max-listpack-size": 4, "hll-sparse-max-bytes": 100,
}
# Redis 7.0 has no listpack sets: these two may be missing from a real 7.0 server.
LIMITS_OPTIONAL = {"set-max-listpack-entries", "set-max-listpack-value"}


class Model:
    """The reference: db maps key (bytes) -> Entry.  apply(args) returns an
    Expect and updates the state (deterministic commands) or leaves that to
    Expect.after (commands where the server chooses)."""

    def __init__(self, limits, features):
        self.db = {}
        self.limits = limits
        self.features = features  # set of probed optional features
        self.enc_seen = {}        # kind -> set of encodings observed

    # ---- key access
    def get(self, key, kind):
        """Entry's value if key holds kind; None if missing; WRONGTYPE else."""
        e = self.db.get(key)
        if e is None:
            return None
        if e.kind != kind and not (kind == "string" and e.kind == "hll"):
            raise Reply(WRONGTYPE)
        return e.val

    def get_hll(self, key):
        e = self.db.get(key)
        if e is None:
            return None
        if e.kind == "hll":
            return e.val
        if e.kind == "string":
            raise Reply(HLL_WRONGTYPE)
        raise Reply(WRONGTYPE)

    def put(self, key, kind, val):
        """Overwrite (setKey): the TTL goes."""
        self.db[key] = Entry(kind, val)

    def create(self, key, kind, val):
        e = self.db.get(key)
        assert e is None
        self.db[key] = Entry(kind, val)
        return val

    def drop_if_empty(self, key):
        e = self.db.get(key)
        if e is not None and len(e.val) == 0 and e.kind != "string":
            del self.db[key]

    # ---- entry point
    def apply(self, args):
        a = [x if isinstance(x, bytes) else str(x).encode() for x in args]
        name = a[0].decode().lower()
        fn = getattr(self, "c_" + name, None)
        if fn is None:
            raise AssertionError("model has no command %s" % name)
        try:
            r = fn(a)
        except Reply as rep:
            return Exact(rep.v)
        if isinstance(r, Expect):
            return r
        return Exact(r)

    # ================================================================ generic
    def c_del(self, a):
        n = 0
        for k in a[1:]:
            if k in self.db:
                del self.db[k]
                n += 1
        return n

    c_unlink = c_del

    def c_exists(self, a):
        return sum(1 for k in a[1:] if k in self.db)

    def c_type(self, a):
        e = self.db.get(a[1])
        return Status("none" if e is None else TYPE_NAME[e.kind])

    def c_dbsize(self, a):
        return len(self.db)

    def c_expire(self, a):
        secs = need_int(a[2])
        e = self.db.get(a[1])
        if e is None:
            return 0
        e.exp = time.time() + secs
        return 1

    def c_persist(self, a):
        e = self.db.get(a[1])
        if e is None or e.exp is None:
            return 0
        e.exp = None
        return 1

    def c_ttl(self, a):
        e = self.db.get(a[1])
        if e is None:
            return -2
        if e.exp is None:
            return -1
        hi = int(math.ceil(e.exp - time.time())) + 1
        return Pred(lambda r: isinstance(r, int) and hi - TTL_SLACK <= r <= hi,
                    "an integer TTL close to %d" % hi)

    def c_rename(self, a, nx=False):
        src, dst = a[1], a[2]
        e = self.db.get(src)
        if e is None:
            return err("no such key")
        if src == dst:
            return 0 if nx else OK
        if nx and dst in self.db:
            return 0
        del self.db[src]
        self.db[dst] = e
        return 1 if nx else OK

    def c_renamenx(self, a):
        return self.c_rename(a, nx=True)

    def c_copy(self, a):
        src, dst = a[1], a[2]
        replace = False
        for opt in a[3:]:
            if opt.upper() == b"REPLACE":
                replace = True
            else:
                return SYNTAX
        if src == dst:
            return err("source and destination objects are the same")
        e = self.db.get(src)
        if e is None:
            return 0
        if dst in self.db and not replace:
            return 0
        self.db[dst] = Entry(e.kind, deep_copy(e.kind, e.val), e.exp)
        return 1

    def c_object(self, a):
        assert a[1].upper() == b"ENCODING"
        e = self.db.get(a[2])
        if e is None:
            return None
        kind = e.kind
        valid = ENCODINGS[kind]
        big = None
        n = len(e.val)
        lim = self.limits
        if kind == "hash" and n > lim["hash-max-listpack-entries"]:
            big = BIG_ENCODING[kind]
        elif kind == "zset" and n > lim["zset-max-listpack-entries"]:
            big = BIG_ENCODING[kind]
        elif kind == "set" and n > max(lim["set-max-intset-entries"],
                                       lim["set-max-listpack-entries"]):
            big = BIG_ENCODING[kind]
        elif kind == "list" and lim["list-max-listpack-size"] > 0 and \
                n > lim["list-max-listpack-size"]:
            big = BIG_ENCODING[kind]
        seen = self.enc_seen.setdefault(kind, set())

        def ok(r):
            if r not in valid or (big is not None and r != big):
                return False
            seen.add(r)
            return True
        desc = ("%r (more than the entries threshold)" % big) if big else \
            ("one of %r" % sorted(valid))
        return Pred(ok, desc)

    # ================================================================ strings
    def c_set(self, a):
        self.put(a[1], "string", bytearray(a[2]))
        return OK

    def c_get(self, a):
        e = self.db.get(a[1])
        if e is None:
            return None
        if e.kind == "hll":
            return Pred(lambda r: isinstance(r, bytes) and r.startswith(b"HYLL"),
                        "an HLL string starting with HYLL")
        if e.kind != "string":
            return WRONGTYPE
        return bytes(e.val)

    def c_strlen(self, a):
        v = self.get(a[1], "string")
        if v is not None and self.db[a[1]].kind == "hll":
            return Pred(lambda r: isinstance(r, int) and r > 16, "an HLL length")
        return 0 if v is None else len(v)

    def c_append(self, a):
        v = self.get(a[1], "string")
        if v is None:
            v = self.create(a[1], "string", bytearray())
        v += a[2]
        return len(v)

    def c_setrange(self, a):
        off = need_int(a[2])
        if off < 0:
            return err("offset is out of range")
        v = self.get(a[1], "string")
        val = a[3]
        if v is None:
            if not val:
                return 0
            v = self.create(a[1], "string", bytearray())
        if not val:
            return len(v)
        if len(v) < off + len(val):
            v.extend(b"\0" * (off + len(val) - len(v)))
        v[off:off + len(val)] = val
        return len(v)

    def c_getrange(self, a):
        start, end = need_int(a[2]), need_int(a[3])
        v = self.get(a[1], "string")
        if v is None:
            return b""
        n = len(v)
        if start < 0 and end < 0 and start > end:
            return b""
        if start < 0:
            start += n
        if end < 0:
            end += n
        start = max(start, 0)
        end = max(end, 0)
        if end >= n:
            end = n - 1
        if start > end or n == 0:
            return b""
        return bytes(v[start:end + 1])

    # ================================================================ hash
    def c_hset(self, a, name="hset"):
        if len(a) < 4 or len(a) % 2:
            return arity(name)
        h = self.get(a[1], "hash")
        if h is None:
            h = self.create(a[1], "hash", {})
        n = 0
        for f, v in zip(a[2::2], a[3::2]):
            if f not in h:
                n += 1
            h[f] = v
        return OK if name == "hmset" else n

    def c_hmset(self, a):
        return self.c_hset(a, "hmset")

    def c_hsetnx(self, a):
        h = self.get(a[1], "hash")
        if h is None:
            h = self.create(a[1], "hash", {})
        if a[2] in h:
            return 0
        h[a[2]] = a[3]
        return 1

    def c_hget(self, a):
        h = self.get(a[1], "hash")
        return None if h is None else h.get(a[2])

    def c_hmget(self, a):
        h = self.get(a[1], "hash") or {}
        return [h.get(f) for f in a[2:]]

    def c_hdel(self, a):
        h = self.get(a[1], "hash")
        if h is None:
            return 0
        n = 0
        for f in a[2:]:
            if f in h:
                del h[f]
                n += 1
        self.drop_if_empty(a[1])
        return n

    def c_hlen(self, a):
        h = self.get(a[1], "hash")
        return 0 if h is None else len(h)

    def c_hstrlen(self, a):
        h = self.get(a[1], "hash")
        return len(h.get(a[2], b"")) if h is not None else 0

    def c_hexists(self, a):
        h = self.get(a[1], "hash")
        return 1 if h is not None and a[2] in h else 0

    def c_hgetall(self, a):
        h = self.get(a[1], "hash") or {}
        return PairsUnordered(list(h.items()))

    def c_hkeys(self, a):
        return Unordered(list((self.get(a[1], "hash") or {}).keys()))

    def c_hvals(self, a):
        return Unordered(list((self.get(a[1], "hash") or {}).values()))

    def c_hincrby(self, a):
        incr = need_int(a[3])
        h = self.get(a[1], "hash")
        cur = 0
        if h is not None and a[2] in h:
            cur = p_int(h[a[2]])
            if cur is None:
                return err("hash value is not an integer")
        nv = cur + incr
        if not I64_MIN <= nv <= I64_MAX:
            return err("increment or decrement would overflow")
        if h is None:
            h = self.create(a[1], "hash", {})
        h[a[2]] = b"%d" % nv
        return nv

    def c_hincrbyfloat(self, a):
        incr = need_float(a[3])
        h = self.get(a[1], "hash")
        cur = 0.0
        if h is not None and a[2] in h:
            cur = p_float(h[a[2]])
            if cur is None:
                return err("hash value is not a float")
        nv = cur + incr
        if math.isnan(nv) or math.isinf(nv):
            return err("increment would produce NaN or Infinity")
        if h is None:
            h = self.create(a[1], "hash", {})
        s = fmt_ld(nv)
        h[a[2]] = s
        return s

    def c_hrandfield(self, a):
        if len(a) >= 3:
            count = need_int(a[2])
            withvalues = False
            if len(a) > 4 or (len(a) == 4 and a[3].upper() != b"WITHVALUES"):
                return SYNTAX
            withvalues = len(a) == 4
            h = self.get(a[1], "hash")
            if h is None:
                return []
            return rand_check(h, count, withvalues, lambda v: v)
        h = self.get(a[1], "hash")
        if h is None:
            return None
        return Pred(lambda r: r in h, "one of the fields %r" % sorted(h))

    def scan_expect(self, kind, key, pattern):
        """Elements (with values/scores) a full SCAN loop must return."""
        v = self.get(key, kind)
        if v is None:
            return {}
        if kind == "hash":
            items = dict(v)
        elif kind == "zset":
            items = {m: fmt_double(s) for m, s in v.items()}
        else:
            items = {m: None for m in v}
        if pattern is not None:
            items = {m: x for m, x in items.items() if glob_match(pattern, m)}
        return items

    # ================================================================ list
    def c_lpush(self, a, left=True, x=False):
        lst = self.get(a[1], "list")
        if lst is None:
            if x:
                return 0
            lst = self.create(a[1], "list", [])
        for el in a[2:]:
            if left:
                lst.insert(0, el)
            else:
                lst.append(el)
        return len(lst)

    def c_rpush(self, a):
        return self.c_lpush(a, left=False)

    def c_lpushx(self, a):
        return self.c_lpush(a, x=True)

    def c_rpushx(self, a):
        return self.c_lpush(a, left=False, x=True)

    def c_lpop(self, a, left=True):
        if len(a) > 3:
            return arity(a[0].decode().lower())
        count = None
        if len(a) == 3:
            count = need_int(a[2], MUSTBEPOS)
            if count < 0:
                return MUSTBEPOS
        lst = self.get(a[1], "list")
        if lst is None:
            return NULLARRAY if count is not None else None
        if count is None:
            el = lst.pop(0) if left else lst.pop()
            self.drop_if_empty(a[1])
            return el
        if count == 0:
            return []
        out = []
        for _ in range(min(count, len(lst))):
            out.append(lst.pop(0) if left else lst.pop())
        self.drop_if_empty(a[1])
        return out

    def c_rpop(self, a):
        return self.c_lpop(a, left=False)

    def c_llen(self, a):
        lst = self.get(a[1], "list")
        return 0 if lst is None else len(lst)

    def c_lindex(self, a):
        lst = self.get(a[1], "list")
        if lst is None:
            return None
        i = need_int(a[2])
        if i < 0:
            i += len(lst)
        return lst[i] if 0 <= i < len(lst) else None

    def c_lset(self, a):
        lst = self.get(a[1], "list")
        if lst is None:
            return err("no such key")
        i = need_int(a[2])
        if i < 0:
            i += len(lst)
        if not 0 <= i < len(lst):
            return err("index out of range")
        lst[i] = a[3]
        return OK

    def c_lrange(self, a):
        start, end = need_int(a[2]), need_int(a[3])
        lst = self.get(a[1], "list")
        if lst is None:
            return []
        r = norm_range(start, end, len(lst))
        return [] if r is None else lst[r[0]:r[1]]

    def c_linsert(self, a):
        where = a[2].upper()
        if where not in (b"BEFORE", b"AFTER"):
            return SYNTAX
        lst = self.get(a[1], "list")
        if lst is None:
            return 0
        try:
            i = lst.index(a[3])
        except ValueError:
            return -1
        lst.insert(i if where == b"BEFORE" else i + 1, a[4])
        return len(lst)

    def c_lrem(self, a):
        count = need_int(a[2])
        lst = self.get(a[1], "list")
        if lst is None:
            return 0
        el = a[3]
        removed = 0
        if count >= 0:
            out = []
            for x in lst:
                if x == el and (count == 0 or removed < count):
                    removed += 1
                else:
                    out.append(x)
        else:
            out = []
            for x in reversed(lst):
                if x == el and removed < -count:
                    removed += 1
                else:
                    out.append(x)
            out.reverse()
        lst[:] = out
        self.drop_if_empty(a[1])
        return removed

    def c_ltrim(self, a):
        start, end = need_int(a[2]), need_int(a[3])
        lst = self.get(a[1], "list")
        if lst is None:
            return OK
        n = len(lst)
        if start < 0:
            start += n
        if end < 0:
            end += n
        if start < 0:
            start = 0
        if start > end or start >= n:
            lst[:] = []
        else:
            lst[:] = lst[start:min(end, n - 1) + 1]
        self.drop_if_empty(a[1])
        return OK

    def c_lpos(self, a):
        rank, count, maxlen = 1, None, 0
        i = 3
        while i < len(a):
            opt = a[i].upper()
            if i + 1 >= len(a):
                return SYNTAX
            if opt == b"RANK":
                rank = need_int(a[i + 1])
                if rank == 0:
                    return err("RANK can't be zero: use 1 to start from the first match, "
                               "2 from the second ... or use negative to start from the "
                               "end of the list")
            elif opt == b"COUNT":
                count = need_int(a[i + 1])
                if count < 0:
                    return err("COUNT can't be negative")
            elif opt == b"MAXLEN":
                maxlen = need_int(a[i + 1])
                if maxlen < 0:
                    return err("MAXLEN can't be negative")
            else:
                return SYNTAX
            i += 2
        lst = self.get(a[1], "list")
        if lst is None:
            return [] if count is not None else None
        n = len(lst)
        idxs = range(n) if rank > 0 else range(n - 1, -1, -1)
        skip = abs(rank) - 1
        want = 1 if count is None else count
        out = []
        for cmp, i in enumerate(idxs):
            if maxlen and cmp >= maxlen:
                break
            if lst[i] == a[2]:
                if skip:
                    skip -= 1
                    continue
                out.append(i)
                if want and len(out) >= want:
                    break
        if count is None:
            return out[0] if out else None
        return out

    def _lmove(self, src, dst, wfrom, wto):
        lst = self.get(src, "list")
        if lst is None:
            return None
        d = self.get(dst, "list")
        el = lst.pop(0) if wfrom == b"LEFT" else lst.pop()
        if src == dst:
            d = lst
        elif d is None:
            d = self.create(dst, "list", [])
        if wto == b"LEFT":
            d.insert(0, el)
        else:
            d.append(el)
        self.drop_if_empty(src)
        return el

    def c_lmove(self, a):
        wf, wt = a[3].upper(), a[4].upper()
        if wf not in (b"LEFT", b"RIGHT") or wt not in (b"LEFT", b"RIGHT"):
            return SYNTAX
        return self._lmove(a[1], a[2], wf, wt)

    def c_rpoplpush(self, a):
        return self._lmove(a[1], a[2], b"RIGHT", b"LEFT")

    def _mpop_parse(self, a, idx, opts):
        """numkeys keys... WHERE [COUNT n] from a[idx]; -> (keys, where, count)."""
        numkeys = p_int(a[idx])
        if numkeys is None or numkeys < 1:
            raise Reply(err("numkeys should be greater than 0"))
        wi = idx + 1 + numkeys
        if wi >= len(a):
            raise Reply(SYNTAX)
        where = a[wi].upper()
        if where not in opts:
            raise Reply(SYNTAX)
        count = None
        j = wi + 1
        while j < len(a):
            if count is None and a[j].upper() == b"COUNT" and j + 1 < len(a):
                count = p_int(a[j + 1])
                if count is None or count < 1:
                    raise Reply(err("count should be greater than 0"))
                j += 2
            else:
                raise Reply(SYNTAX)
        return a[idx + 1:wi], where, (1 if count is None else count)

    def c_lmpop(self, a, block=False):
        keys, where, count = self._mpop_parse(a, 2 if block else 1, (b"LEFT", b"RIGHT"))
        for k in keys:
            lst = self.get(k, "list")
            if lst:
                out = []
                for _ in range(min(count, len(lst))):
                    out.append(lst.pop(0) if where == b"LEFT" else lst.pop())
                self.drop_if_empty(k)
                return [k, out]
        return NULLARRAY

    def c_blmpop(self, a):
        return self.c_lmpop(a, block=True)

    def c_blpop(self, a, left=True):
        for k in a[1:-1]:
            lst = self.get(k, "list")
            if lst:
                el = lst.pop(0) if left else lst.pop()
                self.drop_if_empty(k)
                return [k, el]
        return NULLARRAY  # times out

    def c_brpop(self, a):
        return self.c_blpop(a, left=False)

    def c_blmove(self, a):
        wf, wt = a[3].upper(), a[4].upper()
        if self.get(a[1], "list") is None:
            return NULLARRAY  # times out
        return self._lmove(a[1], a[2], wf, wt)

    def c_brpoplpush(self, a):
        if self.get(a[1], "list") is None:
            return NULLARRAY
        return self._lmove(a[1], a[2], b"RIGHT", b"LEFT")

    # ================================================================ set
    def c_sadd(self, a):
        s = self.get(a[1], "set")
        if s is None:
            s = self.create(a[1], "set", set())
        n = len(s)
        s.update(a[2:])
        return len(s) - n

    def c_srem(self, a):
        s = self.get(a[1], "set")
        if s is None:
            return 0
        n = 0
        for m in a[2:]:
            if m in s:
                s.discard(m)
                n += 1
        self.drop_if_empty(a[1])
        return n

    def c_sismember(self, a):
        s = self.get(a[1], "set")
        return 1 if s is not None and a[2] in s else 0

    def c_smismember(self, a):
        s = self.get(a[1], "set") or set()
        return [1 if m in s else 0 for m in a[2:]]

    def c_scard(self, a):
        s = self.get(a[1], "set")
        return 0 if s is None else len(s)

    def c_smembers(self, a):
        return Unordered(list(self.get(a[1], "set") or ()))

    def c_spop(self, a):
        key = a[1]
        if len(a) == 3:
            count = need_int(a[2], MUSTBEPOS)
            if count < 0:
                return MUSTBEPOS
            s = self.get(key, "set")
            if s is None or count == 0:
                return []
            want = min(count, len(s))
            members = set(s)

            def ok(r):
                return isinstance(r, list) and len(r) == want and len(set(r)) == want and \
                    all(m in members for m in r)

            def after(r):
                s.difference_update(r)
                self.drop_if_empty(key)
            return Pred(ok, "%d distinct members of %r" % (want, sorted(members)), after)
        if len(a) > 3:
            return SYNTAX
        s = self.get(key, "set")
        if s is None:
            return None
        members = set(s)

        def after1(r):
            s.discard(r)
            self.drop_if_empty(key)
        return Pred(lambda r: r in members, "one of %r" % sorted(members), after1)

    def c_srandmember(self, a):
        if len(a) == 3:
            count = need_int(a[2])
            s = self.get(a[1], "set")
            if s is None:
                return []
            return rand_check({m: None for m in s}, count, False, None)
        s = self.get(a[1], "set")
        if s is None:
            return None
        members = set(s)
        return Pred(lambda r: r in members, "one of %r" % sorted(members))

    def c_smove(self, a):
        src, dst, m = a[1], a[2], a[3]
        s = self.get(src, "set")
        if s is None:
            # the destination's type is not checked when the source is missing
            return 0
        d = self.get(dst, "set")
        if src == dst:
            return 1 if m in s else 0
        if m not in s:
            return 0
        s.discard(m)
        self.drop_if_empty(src)
        if d is None:
            d = self.create(dst, "set", set())
        d.add(m)
        return 1

    def _sets(self, keys):
        return [self.get(k, "set") for k in keys]

    def _salgebra(self, op, sets):
        if op == "inter":
            if any(s is None for s in sets):
                return set()
            r = set(sets[0])
            for s in sets[1:]:
                r &= s
            return r
        if op == "union":
            r = set()
            for s in sets:
                if s:
                    r |= s
            return r
        if sets[0] is None:
            return set()
        r = set(sets[0])
        for s in sets[1:]:
            if s:
                r -= s
        return r

    def c_sinter(self, a):
        return Unordered(list(self._salgebra("inter", self._sets(a[1:]))))

    def c_sunion(self, a):
        return Unordered(list(self._salgebra("union", self._sets(a[1:]))))

    def c_sdiff(self, a):
        return Unordered(list(self._salgebra("diff", self._sets(a[1:]))))

    def _sstore(self, a, op):
        r = self._salgebra(op, self._sets(a[2:]))
        if r:
            self.put(a[1], "set", r)
        else:
            self.db.pop(a[1], None)
        return len(r)

    def c_sinterstore(self, a):
        return self._sstore(a, "inter")

    def c_sunionstore(self, a):
        return self._sstore(a, "union")

    def c_sdiffstore(self, a):
        return self._sstore(a, "diff")

    def c_sintercard(self, a):
        numkeys = p_int(a[1])
        if numkeys is None or numkeys < 1:
            return err("numkeys should be greater than 0")
        if numkeys > len(a) - 2:
            return err("Number of keys can't be greater than number of args")
        limit = 0
        j = 2 + numkeys
        while j < len(a):
            if a[j].upper() == b"LIMIT" and j + 1 < len(a):
                limit = p_int(a[j + 1])
                if limit is None or limit < 0:
                    return err("LIMIT can't be negative")
                j += 2
            else:
                return SYNTAX
        n = len(self._salgebra("inter", self._sets(a[2:2 + numkeys])))
        return min(n, limit) if limit else n

    # ================================================================ zset
    def zsorted(self, z):
        return sorted(z.items(), key=lambda kv: (kv[1], kv[0]))

    def c_zadd(self, a):
        if len(a) < 4:
            return arity("zadd")
        nx = xx = gt = lt = ch = incr = False
        i = 2
        while i < len(a):
            o = a[i].upper()
            if o == b"NX":
                nx = True
            elif o == b"XX":
                xx = True
            elif o == b"GT":
                gt = True
            elif o == b"LT":
                lt = True
            elif o == b"CH":
                ch = True
            elif o == b"INCR":
                incr = True
            else:
                break
            i += 1
        rest = a[i:]
        if len(rest) % 2 or not rest:
            return SYNTAX
        if nx and xx:
            return err("XX and NX options at the same time are not compatible")
        if (gt and nx) or (lt and nx) or (gt and lt):
            return err("GT, LT, and/or NX options at the same time are not compatible")
        if incr and len(rest) > 2:
            return err("INCR option supports a single increment-element pair")
        pairs = []
        for s, m in zip(rest[0::2], rest[1::2]):
            pairs.append((need_float(s), m))
        z = self.get(a[1], "zset")
        if z is None:
            if xx:
                return None if incr else 0
            z = self.create(a[1], "zset", {})
        added = changed = 0
        result = None
        for sc, m in pairs:
            if m in z:
                if nx:
                    continue
                cur = z[m]
                new = cur + sc if incr else sc
                if math.isnan(new):
                    self.drop_if_empty(a[1])
                    return err("resulting score is not a number (NaN)")
                if (lt and new >= cur) or (gt and new <= cur):
                    continue
                if new != cur:
                    z[m] = new
                    changed += 1
                result = new
            else:
                if xx:
                    continue
                z[m] = sc
                added += 1
                result = sc
        self.drop_if_empty(a[1])
        if incr:
            return None if result is None else fmt_double(result)
        return added + changed if ch else added

    def c_zincrby(self, a):
        inc = need_float(a[2])
        z = self.get(a[1], "zset")
        cur = 0.0
        if z is not None and a[3] in z:
            cur = z[a[3]]
        new = cur + inc
        if math.isnan(new):
            return err("resulting score is not a number (NaN)")
        if z is None:
            z = self.create(a[1], "zset", {})
        z[a[3]] = new
        return fmt_double(new)

    def c_zrem(self, a):
        z = self.get(a[1], "zset")
        if z is None:
            return 0
        n = 0
        for m in a[2:]:
            if m in z:
                del z[m]
                n += 1
        self.drop_if_empty(a[1])
        return n

    def c_zscore(self, a):
        z = self.get(a[1], "zset")
        if z is None or a[2] not in z:
            return None
        return fmt_double(z[a[2]])

    def c_zmscore(self, a):
        z = self.get(a[1], "zset") or {}
        return [fmt_double(z[m]) if m in z else None for m in a[2:]]

    def c_zcard(self, a):
        z = self.get(a[1], "zset")
        return 0 if z is None else len(z)

    def _score_range(self, lo, hi):
        l, h = parse_score_bound(lo), parse_score_bound(hi)
        if l is None or h is None:
            raise Reply(err("min or max is not a float"))
        return l, h

    def _lex_range(self, lo, hi):
        l, h = parse_lex_bound(lo), parse_lex_bound(hi)
        if l is None or h is None:
            raise Reply(err("min or max not valid string range item"))
        return l, h

    def c_zcount(self, a):
        lo, hi = self._score_range(a[2], a[3])
        z = self.get(a[1], "zset")
        if z is None:
            return 0
        return sum(1 for s in z.values() if score_in(s, lo, hi))

    def c_zlexcount(self, a):
        lo, hi = self._lex_range(a[2], a[3])
        z = self.get(a[1], "zset")
        if z is None:
            return 0
        return sum(1 for m in z if lex_gte_min(m, lo) and lex_lte_max(m, hi))

    def _zrange_select(self, z, rtype, rev, r1, r2, offset, limit):
        """The (member, score) list a ZRANGE selects."""
        items = self.zsorted(z)
        if rev:
            items.reverse()
        if rtype == "rank":
            rr = norm_range(r1, r2, len(items))
            return [] if rr is None else items[rr[0]:rr[1]]
        if rtype == "score":
            sel = [(m, s) for m, s in items if score_in(s, r1, r2)]
        else:
            sel = [(m, s) for m, s in items if lex_gte_min(m, r1) and lex_lte_max(m, r2)]
        if offset is not None:
            if offset < 0:
                return []
            sel = sel[offset:]
            if limit >= 0:
                sel = sel[:limit]
        return sel

    def _zrange_generic(self, a, argstart, store, rtype, rev, fixed):
        """zrangeGenericCommand.  fixed: the legacy form (no BY*/REV options)."""
        key = a[argstart]
        withscores = False
        offset, limit = None, -1
        j = argstart + 3
        by_auto = not fixed
        rev_auto = not fixed
        while j < len(a):
            o = a[j].upper()
            left = len(a) - j - 1
            if not store and o == b"WITHSCORES":
                withscores = True
            elif o == b"LIMIT" and left >= 2:
                offset = need_int(a[j + 1])
                limit = need_int(a[j + 2])
                j += 2
            elif rev_auto and o == b"REV":
                rev = True
                rev_auto = False
            elif by_auto and o == b"BYLEX":
                rtype = "lex"
                by_auto = False
            elif by_auto and o == b"BYSCORE":
                rtype = "score"
                by_auto = False
            else:
                return SYNTAX
            j += 1
        if limit != -1 and rtype == "rank":
            return err("syntax error, LIMIT is only supported in combination with either "
                       "BYSCORE or BYLEX")
        if offset is not None and limit == -1:
            pass  # LIMIT off -1: all from offset
        if withscores and rtype == "lex":
            return err("syntax error, WITHSCORES not supported in combination with BYLEX")
        lo, hi = a[argstart + 1], a[argstart + 2]
        if rev and rtype in ("score", "lex"):
            lo, hi = hi, lo
        if rtype == "rank":
            r1, r2 = need_int(lo), need_int(hi)
        elif rtype == "score":
            r1, r2 = self._score_range(lo, hi)
        else:
            r1, r2 = self._lex_range(lo, hi)
        z = self.get(key, "zset") if key in self.db else None
        if z is None:
            if store:
                self.db.pop(a[1], None)
                return 0
            return []
        sel = self._zrange_select(z, rtype, rev, r1, r2, offset, limit)
        if store:
            if sel:
                self.put(a[1], "zset", dict(sel))
            else:
                self.db.pop(a[1], None)
            return len(sel)
        out = []
        for m, s in sel:
            out.append(m)
            if withscores:
                out.append(fmt_double(s))
        return out

    def c_zrange(self, a):
        return self._zrange_generic(a, 1, False, "rank", False, False)

    def c_zrangestore(self, a):
        return self._zrange_generic(a, 2, True, "rank", False, False)

    def c_zrevrange(self, a):
        return self._zrange_generic(a, 1, False, "rank", True, True)

    def c_zrangebyscore(self, a):
        return self._zrange_generic(a, 1, False, "score", False, True)

    def c_zrevrangebyscore(self, a):
        return self._zrange_generic(a, 1, False, "score", True, True)

    def c_zrangebylex(self, a):
        return self._zrange_generic(a, 1, False, "lex", False, True)

    def c_zrevrangebylex(self, a):
        return self._zrange_generic(a, 1, False, "lex", True, True)

    def c_zrank(self, a, rev=False):
        withscore = False
        if len(a) == 4:
            if a[3].upper() != b"WITHSCORE":
                return SYNTAX
            withscore = True
        elif len(a) > 4:
            return SYNTAX
        z = self.get(a[1], "zset")
        if z is None or a[2] not in z:
            return NULLARRAY if withscore else None
        items = self.zsorted(z)
        if rev:
            items.reverse()
        r = [m for m, _ in items].index(a[2])
        return [r, fmt_double(z[a[2]])] if withscore else r

    def c_zrevrank(self, a):
        return self.c_zrank(a, rev=True)

    def c_zremrangebyrank(self, a):
        start, end = need_int(a[2]), need_int(a[3])
        z = self.get(a[1], "zset")
        if z is None:
            return 0
        items = self.zsorted(z)
        rr = norm_range(start, end, len(items))
        if rr is None:
            return 0
        for m, _ in items[rr[0]:rr[1]]:
            del z[m]
        self.drop_if_empty(a[1])
        return rr[1] - rr[0]

    def c_zremrangebyscore(self, a):
        lo, hi = self._score_range(a[2], a[3])
        z = self.get(a[1], "zset")
        if z is None:
            return 0
        gone = [m for m, s in z.items() if score_in(s, lo, hi)]
        for m in gone:
            del z[m]
        self.drop_if_empty(a[1])
        return len(gone)

    def c_zremrangebylex(self, a):
        lo, hi = self._lex_range(a[2], a[3])
        z = self.get(a[1], "zset")
        if z is None:
            return 0
        gone = [m for m in z if lex_gte_min(m, lo) and lex_lte_max(m, hi)]
        for m in gone:
            del z[m]
        self.drop_if_empty(a[1])
        return len(gone)

    def _zpop(self, z, key, count, maxside):
        items = self.zsorted(z)
        if maxside:
            items.reverse()
        items = items[:count]
        for m, _ in items:
            del z[m]
        self.drop_if_empty(key)
        return items

    def c_zpopmin(self, a, maxside=False):
        if len(a) > 3:
            return SYNTAX
        count = None
        if len(a) == 3:
            count = need_int(a[2], MUSTBEPOS)
            if count < 0:
                return MUSTBEPOS
        z = self.get(a[1], "zset")
        if z is None or count == 0:
            return []
        out = []
        for m, s in self._zpop(z, a[1], 1 if count is None else count, maxside):
            out += [m, fmt_double(s)]
        return out

    def c_zpopmax(self, a):
        return self.c_zpopmin(a, maxside=True)

    def c_zmpop(self, a, block=False):
        keys, where, count = self._mpop_parse(a, 2 if block else 1, (b"MIN", b"MAX"))
        for k in keys:
            z = self.get(k, "zset")
            if z:
                items = self._zpop(z, k, count, where == b"MAX")
                return [k, [[m, fmt_double(s)] for m, s in items]]
        return NULLARRAY

    def c_bzmpop(self, a):
        return self.c_zmpop(a, block=True)

    def c_bzpopmin(self, a, maxside=False):
        for k in a[1:-1]:
            z = self.get(k, "zset")
            if z:
                (m, s), = self._zpop(z, k, 1, maxside)
                return [k, m, fmt_double(s)]
        return NULLARRAY

    def c_bzpopmax(self, a):
        return self.c_bzpopmin(a, maxside=True)

    def c_zrandmember(self, a):
        if len(a) >= 3:
            count = need_int(a[2])
            if len(a) > 4 or (len(a) == 4 and a[3].upper() != b"WITHSCORES"):
                return SYNTAX
            z = self.get(a[1], "zset")
            if z is None:
                return []
            return rand_check(z, count, len(a) == 4, fmt_double)
        z = self.get(a[1], "zset")
        if z is None:
            return None
        return Pred(lambda r: r in z, "one of the members %r" % sorted(z))

    def _zsetop(self, a, op, store):
        """zunionInterDiffGenericCommand (and ZINTERCARD)."""
        name = a[0].decode().lower()
        ni = 2 if store else 1
        numkeys = need_int(a[ni])
        if numkeys < 1:
            return err("at least 1 input key is needed for '%s' command" % name)
        if numkeys > len(a) - ni - 1:
            return SYNTAX
        keys = a[ni + 1:ni + 1 + numkeys]
        srcs = []
        for k in keys:
            e = self.db.get(k)
            if e is None:
                srcs.append(None)
            elif e.kind == "zset":
                srcs.append(e.val)
            elif e.kind == "set":
                srcs.append({m: 1.0 for m in e.val})
            else:
                return WRONGTYPE
        weights = [1.0] * numkeys
        agg = b"SUM"
        withscores = False
        limit = 0
        card = op == "card"
        j = ni + 1 + numkeys
        while j < len(a):
            o = a[j].upper()
            rem = len(a) - j
            if op != "diff" and not card and rem >= numkeys + 1 and o == b"WEIGHTS":
                for i in range(numkeys):
                    weights[i] = need_float(a[j + 1 + i], err("weight value is not a float"))
                j += 1 + numkeys
            elif op != "diff" and not card and rem >= 2 and o == b"AGGREGATE":
                agg = a[j + 1].upper()
                if agg not in (b"SUM", b"MIN", b"MAX"):
                    return SYNTAX
                j += 2
            elif not store and not card and o == b"WITHSCORES":
                withscores = True
                j += 1
            elif card and rem >= 2 and o == b"LIMIT":
                limit = p_int(a[j + 1])
                if limit is None or limit < 0:
                    return err("LIMIT can't be negative")
                j += 2
            else:
                return SYNTAX

        def wscore(s, w):
            v = s * w
            return 0.0 if math.isnan(v) else v

        def aggr(x, y):
            if agg == b"SUM":
                v = x + y
                return 0.0 if math.isnan(v) else v
            return min(x, y) if agg == b"MIN" else max(x, y)

        res = {}
        if op == "union":
            for src, w in zip(srcs, weights):
                for m, s in (src or {}).items():
                    v = wscore(s, w)
                    res[m] = aggr(res[m], v) if m in res else v
        elif op in ("inter", "card"):
            if all(s is not None for s in srcs):
                order = sorted(range(numkeys), key=lambda i: len(srcs[i]))
                first = order[0]
                for m, s in srcs[first].items():
                    if all(m in srcs[i] for i in range(numkeys)):
                        v = None
                        for i in range(numkeys):
                            x = wscore(srcs[i][m], weights[i])
                            v = x if v is None else aggr(v, x)
                        res[m] = v
        else:  # diff
            if srcs[0] is not None:
                for m, s in srcs[0].items():
                    if not any(src is not None and m in src for src in srcs[1:]):
                        res[m] = s
        if card:
            return min(len(res), limit) if limit else len(res)
        if store:
            if res:
                self.put(a[1], "zset", res)
            else:
                self.db.pop(a[1], None)
            return len(res)
        out = []
        for m, s in self.zsorted(res):
            out.append(m)
            if withscores:
                out.append(fmt_double(s))
        return out

    def c_zunionstore(self, a):
        return self._zsetop(a, "union", True)

    def c_zinterstore(self, a):
        return self._zsetop(a, "inter", True)

    def c_zdiffstore(self, a):
        return self._zsetop(a, "diff", True)

    def c_zunion(self, a):
        return self._zsetop(a, "union", False)

    def c_zinter(self, a):
        return self._zsetop(a, "inter", False)

    def c_zdiff(self, a):
        return self._zsetop(a, "diff", False)

    def c_zintercard(self, a):
        # zunionInterDiffGenericCommand with numkeys at argv[1], cardinality only
        return self._zsetop(a, "card", False)

    # ================================================================ bitmap
    def _bit_offset(self, b, bits=1, allow_hash=False):
        if allow_hash and b[:1] == b"#":
            v = p_int(b[1:])
            if v is not None:
                v *= bits
        else:
            v = p_int(b)
        if v is None or v < 0 or (v >> 3) >= 512 * 1024 * 1024:
            raise Reply(err("bit offset is not an integer or out of range"))
        return v

    def c_setbit(self, a):
        off = self._bit_offset(a[2])
        if a[3] not in (b"0", b"1"):
            return err("bit is not an integer or out of range")
        v = self.get(a[1], "string")
        if v is None:
            v = self.create(a[1], "string", bytearray())
        byte = off >> 3
        if len(v) <= byte:
            v.extend(b"\0" * (byte + 1 - len(v)))
        mask = 0x80 >> (off & 7)
        old = 1 if v[byte] & mask else 0
        if a[3] == b"1":
            v[byte] |= mask
        else:
            v[byte] &= ~mask & 0xFF
        return old

    def c_getbit(self, a):
        off = self._bit_offset(a[2])
        v = self.get(a[1], "string")
        if v is None or (off >> 3) >= len(v):
            return 0
        return 1 if v[off >> 3] & (0x80 >> (off & 7)) else 0

    @staticmethod
    def _bits(v):
        return "".join("{:08b}".format(x) for x in v)

    def _bit_range(self, a, i, n):
        """[start end [BYTE|BIT]] at a[i:] -> (s, e) in bits, inclusive, or None if empty."""
        start, end = need_int(a[i]), need_int(a[i + 1])
        isbit = False
        if len(a) > i + 2:
            u = a[i + 2].upper()
            if u == b"BIT":
                isbit = True
            elif u != b"BYTE":
                raise Reply(SYNTAX)
        total = n * 8 if isbit else n
        if start < 0:
            start += total
        if end < 0:
            end += total
        start = max(start, 0)
        end = max(end, 0)
        if end >= total:
            end = total - 1
        if start > end:
            return None
        return (start, end) if isbit else (start * 8, end * 8 + 7)

    def c_bitcount(self, a):
        v = self.get(a[1], "string")
        if v is None:
            return 0  # looked up before the arguments are parsed
        bits = self._bits(v)
        if len(a) == 2:
            return bits.count("1")
        if len(a) not in (4, 5):
            return SYNTAX
        s0, e0 = need_int(a[2]), need_int(a[3])
        if s0 < 0 and e0 < 0 and s0 > e0:
            if len(a) == 5 and a[4].upper() not in (b"BIT", b"BYTE"):
                return SYNTAX
            return 0
        r = self._bit_range(a, 2, len(v))
        if r is None:
            return 0
        return bits[r[0]:r[1] + 1].count("1")

    def c_bitpos(self, a):
        bit = need_int(a[2])
        if bit not in (0, 1):
            return err("The bit argument must be 1 or 0.")
        if len(a) > 6:
            return SYNTAX
        v = self.get(a[1], "string")
        end_given = len(a) >= 5
        if len(a) >= 4:
            need_int(a[3])
        if len(a) >= 5:
            need_int(a[4])
        if len(a) == 6 and a[5].upper() not in (b"BIT", b"BYTE"):
            return SYNTAX
        if v is None:
            return -1 if bit else 0
        n = len(v)
        if len(a) == 3:
            s, e = (0, n * 8 - 1) if n else (0, -1)
            if n == 0:
                return -1
        else:
            if len(a) == 4:
                a = a + [b"-1"]
            r = self._bit_range(a, 3, n)
            if r is None:
                return -1
            s, e = r
        bits = self._bits(v)
        want = "1" if bit else "0"
        pos = bits.find(want, s, e + 1)
        if pos != -1:
            return pos
        if bit == 1 or end_given:
            return -1
        return e + 1

    def c_bitop(self, a):
        op = a[1].upper()
        if op not in (b"AND", b"OR", b"XOR", b"NOT"):
            return SYNTAX
        srcs = a[3:]
        if op == b"NOT" and len(srcs) != 1:
            return err("BITOP NOT must be called with a single source key.")
        vals = []
        for k in srcs:
            v = self.get(k, "string")
            vals.append(bytes(v) if v is not None else b"")
        n = max(len(v) for v in vals)
        if n == 0:
            self.db.pop(a[2], None)
            return 0
        padded = [v + b"\0" * (n - len(v)) for v in vals]
        if op == b"NOT":
            out = bytearray((~x) & 0xFF for x in padded[0])
        else:
            out = bytearray(padded[0])
            for p in padded[1:]:
                for i in range(n):
                    if op == b"AND":
                        out[i] &= p[i]
                    elif op == b"OR":
                        out[i] |= p[i]
                    else:
                        out[i] ^= p[i]
        self.put(a[2], "string", out)
        return n

    @staticmethod
    def _bf_get(v, off, bits, signed):
        x = 0
        for i in range(off, off + bits):
            byte = i >> 3
            b = (v[byte] >> (7 - (i & 7))) & 1 if byte < len(v) else 0
            x = (x << 1) | b
        if signed and x & (1 << (bits - 1)):
            x -= 1 << bits
        return x

    @staticmethod
    def _bf_set(v, off, bits, x):
        x &= (1 << bits) - 1
        for i in range(bits):
            pos = off + i
            b = (x >> (bits - 1 - i)) & 1
            mask = 0x80 >> (pos & 7)
            if b:
                v[pos >> 3] |= mask
            else:
                v[pos >> 3] &= ~mask & 0xFF

    def c_bitfield(self, a, ro=False):
        ops = []
        owtype = b"WRAP"
        j = 2
        write = False
        highest = -1
        while j < len(a):
            sub = a[j].upper()
            rem = len(a) - j - 1
            if sub == b"GET" and rem >= 2:
                op = "get"
            elif sub == b"SET" and rem >= 3:
                op = "set"
            elif sub == b"INCRBY" and rem >= 3:
                op = "incrby"
            elif sub == b"OVERFLOW" and rem >= 1:
                ow = a[j + 1].upper()
                if ow not in (b"WRAP", b"SAT", b"FAIL"):
                    return err("Invalid OVERFLOW type specified")
                owtype = ow
                j += 2
                continue
            else:
                return SYNTAX
            t = a[j + 1]
            signed = t[:1] == b"i"
            bits = p_int(t[1:]) if t[:1] in (b"i", b"u") else None
            if bits is None or bits < 1 or (signed and bits > 64) or (not signed and bits > 63):
                return err("Invalid bitfield type. Use something like i16 u8. Note that u64 "
                           "is not supported but i64 is.")
            off = self._bit_offset(a[j + 2], bits, allow_hash=True)
            val = None
            if op != "get":
                write = True
                highest = max(highest, off + bits - 1)
                val = need_int(a[j + 3])
            ops.append((op, signed, bits, off, val, owtype))
            j += 3 if op == "get" else 4
        if ro and write:
            return err("BITFIELD_RO only supports the GET subcommand")
        if not write:
            v = self.get(a[1], "string")
            v = v if v is not None else bytearray()
        else:
            v = self.get(a[1], "string")
            if v is None:
                v = self.create(a[1], "string", bytearray())
            need = (highest >> 3) + 1
            if len(v) < need:
                v.extend(b"\0" * (need - len(v)))
        out = []
        for op, signed, bits, off, val, ow in ops:
            old = self._bf_get(v, off, bits, signed)
            if op == "get":
                out.append(old)
                continue
            if signed:
                lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
                total = old + val if op == "incrby" else val
            else:
                lo, hi = 0, (1 << bits) - 1
                total = old + val if op == "incrby" else (val & ((1 << 64) - 1))
            if lo <= total <= hi:
                new, overflow = total, False
            else:
                overflow = True
                if ow == b"WRAP":
                    new = total & ((1 << bits) - 1)
                    if signed and new & (1 << (bits - 1)):
                        new -= 1 << bits
                elif ow == b"SAT":
                    new = hi if total > hi else lo
                else:
                    new = None
            if overflow and ow == b"FAIL":
                out.append(None)
                continue
            self._bf_set(v, off, bits, new)
            out.append(new if op == "incrby" else old)
        return out

    def c_bitfield_ro(self, a):
        return self.c_bitfield(a, ro=True)

    # ================================================================ hll
    def c_pfadd(self, a):
        h = self.get_hll(a[1])
        if h is None:
            self.db[a[1]] = Entry("hll", set(a[2:]))
            return 1
        new = set(a[2:]) - h
        h.update(a[2:])
        if not new:
            return 0
        return Pred(lambda r: r in (0, 1), "0 or 1 (new elements)")

    def c_pfcount(self, a):
        u = set()
        for k in a[1:]:
            h = self.get_hll(k)
            if h:
                u |= h
        n = len(u)
        tol = max(3, int(n * 0.04))
        return Pred(lambda r: isinstance(r, int) and abs(r - n) <= tol,
                    "an estimate within %d of %d" % (tol, n))

    def c_pfmerge(self, a):
        u = set()
        for k in a[1:]:
            h = self.get_hll(k)
            if h:
                u |= h
        e = self.db.get(a[1])
        if e is None:
            self.db[a[1]] = Entry("hll", u)
        else:
            e.val = u
        return OK


def rand_check(d, count, withvals, fmt):
    """HRANDFIELD/SRANDMEMBER/ZRANDMEMBER with a count over d (member -> value)."""
    if count == 0:
        return []
    members = dict(d)
    uniq = count > 0
    want = min(count, len(members)) if uniq else -count
    step = 2 if withvals else 1

    def ok(r):
        if not isinstance(r, list) or len(r) != want * step:
            return False
        ms = r[0::step]
        if uniq and len(set(ms)) != len(ms):
            return False
        for i, m in enumerate(ms):
            if m not in members:
                return False
            if withvals and r[2 * i + 1] != fmt(members[m]):
                return False
        return True
    return Pred(ok, "%d %s members%s of %r" % (want, "distinct" if uniq else "(repeats allowed)",
                                                " with values" if withvals else "",
                                                sorted(members)))


# --------------------------------------------------------------------------
# Random commands
# --------------------------------------------------------------------------

KEYS = [b"k%d" % i for i in range(20)]
KEY_RE = re.compile(rb"^k[0-9]+$")
LONG = b"x" * 70
MID = b"value-of-20-bytes-xx"

HFIELDS = [b"f%d" % i for i in range(30)]
HVALUES = [b"v", b"", b"1", b"-5", b"007", b"123456789", b"9223372036854775800", LONG,
           b"abc\x00def", b"3.5", b"hello world", MID, b"-0", b"2.25", b"10"]
LELEMS = [b"a%d" % i for i in range(12)] + [b"%d" % i for i in range(8)] + \
    [b"-1", b"", b"bin\x00\xff", MID]
SINTS = [b"%d" % i for i in range(20)] + [b"-3", b"70000", b"5000000000",
                                         b"-9223372036854775808"]
SSTRS = [b"m%d" % i for i in range(8)] + [b"01", b"+1", MID]
ZMEMBERS = [b"m%d" % i for i in range(30)]
ZSCORES = [b"-3", b"-2.5", b"-1", b"-0.25", b"0", b"0.25", b"0.5", b"1", b"1.75", b"2", b"3",
           b"10"]
ZBOUNDS = [b"-inf", b"+inf", b"(0", b"0", b"1", b"(1", b"-1", b"2.5", b"(2.5", b"3", b"(-0.25",
           b"10", b"0.5"] * 8 + [b"abc", b"(", b"inf"]
LEXBOUNDS = [b"-", b"+", b"[m1", b"(m1", b"[m15", b"(m2", b"[m25", b"[a", b"[z", b"(m",
             b"[m"] * 8 + [b"m1", b"", b"+x"]


class Op:
    __slots__ = ("weight", "cmds", "fn", "family")

    def __init__(self, weight, cmds, fn, family):
        self.weight = weight
        self.cmds = cmds      # command names the op may send
        self.fn = fn          # fn() -> args list, or None to pick again
        self.family = family


class Gen:
    """Builds ops for one family (or all).  Ops peek at the model only to aim
    (existing members, keys that are lists ...), never to decide a reply."""

    def __init__(self, rng, model):
        self.r = rng
        self.m = model

    # ---- helpers
    def key(self):
        return self.r.choice(KEYS)

    def keys(self, lo, hi):
        return [self.key() for _ in range(self.r.randint(lo, hi))]

    def val(self, key):
        e = self.m.db.get(key)
        return e.val if e is not None else None

    def kind(self, key):
        e = self.m.db.get(key)
        return e.kind if e is not None else None

    def chance(self, p):
        return self.r.random() < p

    def pick_existing(self, key, fallback):
        v = self.val(key)
        if v and not isinstance(v, bytearray) and self.chance(0.7):
            return self.r.choice(sorted(v))
        return self.r.choice(fallback)

    def idx(self, n):
        """An index near or past [-(n+2), n+2)."""
        return self.r.randint(-n - 2, n + 1)

    # ---- op tables
    def generic_ops(self):
        R = self.r
        return [
            Op(3, ["DEL"], lambda: ["DEL"] + self.keys(1, 3), "generic"),
            Op(0.3, ["UNLINK"], lambda: ["UNLINK", self.key()], "generic"),
            Op(1, ["EXISTS"], lambda: ["EXISTS"] + self.keys(1, 3), "generic"),
            Op(1, ["TYPE"], lambda: ["TYPE", self.key()], "generic"),
            Op(1, ["EXPIRE"], lambda: ["EXPIRE", self.key(), R.choice(["100000", "200000"])],
               "generic"),
            Op(1, ["TTL"], lambda: ["TTL", self.key()], "generic"),
            Op(0.5, ["PERSIST"], lambda: ["PERSIST", self.key()], "generic"),
            Op(1, ["RENAME"], lambda: ["RENAME", self.key(), self.key()], "generic"),
            Op(0.5, ["RENAMENX"], lambda: ["RENAMENX", self.key(), self.key()], "generic"),
            Op(1, ["COPY"], lambda: ["COPY", self.key(), self.key()] +
               (["REPLACE"] if R.random() < 0.5 else []), "generic"),
            Op(1.5, ["OBJECT"], lambda: ["OBJECT", "ENCODING", self.key()], "generic"),
            Op(0.2, ["DBSIZE"], lambda: ["DBSIZE"], "generic"),
            Op(1.2, ["SET"], lambda: ["SET", self.key(), R.choice([b"str", b"12", b"", MID])],
               "generic"),
            Op(0.5, ["GET"], lambda: ["GET", self.key()], "generic"),
        ]

    def foreign_ops(self, family):
        """A little of other collection types on the same keys (WRONGTYPE)."""
        R = self.r
        ops = [
            Op(0.4, ["SADD"], lambda: ["SADD", self.key(), R.choice(SINTS)], "set"),
            Op(0.4, ["HSET"], lambda: ["HSET", self.key(), "f1", "v"], "hash"),
            Op(0.4, ["RPUSH"], lambda: ["RPUSH", self.key(), "a1"], "list"),
            Op(0.4, ["ZADD"], lambda: ["ZADD", self.key(), "1", "m1"], "zset"),
        ]
        return [o for o in ops if o.family != family]

    # ---- hash
    def hash_ops(self):
        R = self.r
        F = lambda k: self.pick_existing(k, HFIELDS) if R.random() > 0.01 else b"F" + LONG

        def V():
            v = R.choice(HVALUES)
            return v if v is not LONG or R.random() < 0.3 else b"v"

        def hset(name):
            k = self.key()
            args = [name, k]
            for _ in range(R.randint(1, 3)):
                args += [F(k), V()]
            if R.random() < 0.01:
                args.pop()
            return args

        def hincrby():
            k = self.key()
            return ["HINCRBY", k, F(k), R.choice([b"1", b"-3", b"100", b"abc", b"0"] * 5 +
                                                 [b"9223372036854775807"])]

        def hincrbyfloat():
            k = self.key()
            f = F(k)
            v = self.val(k)
            if self.kind(k) == "hash" and f in v:
                x = p_float(v[f])
                if x is not None and abs(x) > 1e12:
                    return None  # long double rounding: not modelled
            return ["HINCRBYFLOAT", k, f, R.choice([b"0.5", b"-1.25", b"3", b"0.25", b"abc"])]

        def hrandfield():
            k = self.key()
            c = R.choice([None, b"0", b"1", b"3", b"5", b"40", b"-1", b"-5", b"-40"])
            if c is None:
                return ["HRANDFIELD", k]
            return ["HRANDFIELD", k, c] + (["WITHVALUES"] if R.random() < 0.5 else [])

        def hscan():
            k = self.key()
            args = ["*SCAN", "HSCAN", k]
            if R.random() < 0.3:
                args += ["MATCH", R.choice([b"f1*", b"*2", b"f?"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"3", b"100"])]
            return args

        return [
            Op(10, ["HSET"], lambda: hset("HSET"), "hash"),
            Op(2, ["HMSET"], lambda: hset("HMSET"), "hash"),
            Op(2, ["HSETNX"], lambda: (lambda k: ["HSETNX", k, F(k), V()])(self.key()), "hash"),
            Op(5, ["HGET"], lambda: (lambda k: ["HGET", k, F(k)])(self.key()), "hash"),
            Op(2, ["HMGET"], lambda: (lambda k: ["HMGET", k] + [F(k) for _ in range(R.randint(1, 4))])(self.key()), "hash"),
            Op(5, ["HDEL"], lambda: (lambda k: ["HDEL", k] + [F(k) for _ in range(R.randint(1, 3))])(self.key()), "hash"),
            Op(2, ["HLEN"], lambda: ["HLEN", self.key()], "hash"),
            Op(2, ["HSTRLEN"], lambda: (lambda k: ["HSTRLEN", k, F(k)])(self.key()), "hash"),
            Op(2, ["HEXISTS"], lambda: (lambda k: ["HEXISTS", k, F(k)])(self.key()), "hash"),
            Op(3, ["HGETALL"], lambda: ["HGETALL", self.key()], "hash"),
            Op(1, ["HKEYS"], lambda: ["HKEYS", self.key()], "hash"),
            Op(1, ["HVALS"], lambda: ["HVALS", self.key()], "hash"),
            Op(3, ["HINCRBY"], hincrby, "hash"),
            Op(3, ["HINCRBYFLOAT"], hincrbyfloat, "hash"),
            Op(3, ["HRANDFIELD"], hrandfield, "hash"),
            Op(1, ["HSCAN"], hscan, "hash"),
        ]

    # ---- list
    def list_ops(self):
        R = self.r

        def E():
            x = R.random()
            if x < 0.01:
                return LONG
            if x < 0.015:
                return b"y" * 300
            return R.choice(LELEMS)

        def push(name):
            k = self.key()
            v = self.val(k)
            if isinstance(v, list) and len(v) > 150:
                return ["LTRIM", k, str(R.randint(0, 20)), str(R.randint(40, 100))]
            return [name, k] + [E() for _ in range(R.randint(1, 4))]

        def pop(name):
            k = self.key()
            c = R.choice([None, None, b"0", b"1", b"2", b"5", b"-1"])
            return [name, k] + ([c] if c is not None else [])

        def n_of(k):
            v = self.val(k)
            return len(v) if isinstance(v, list) else 3

        def el_of(k):
            v = self.val(k)
            if isinstance(v, list) and v and R.random() < 0.8:
                return R.choice(v)
            return E()

        def lrange():
            k = self.key()
            n = n_of(k)
            return ["LRANGE", k, str(self.idx(n)), str(self.idx(n))]

        def ltrim():
            k = self.key()
            n = n_of(k)
            if R.random() < 0.7:  # keep most of it
                return ["LTRIM", k, str(R.randint(-1, 2)), str(R.randint(-3, n + 1))]
            return ["LTRIM", k, str(self.idx(n)), str(self.idx(n))]

        def lpos():
            k = self.key()
            args = ["LPOS", k, el_of(k)]
            opts = []
            if R.random() < 0.4:
                opts += [["RANK", R.choice([b"1", b"2", b"-1", b"-2", b"3", b"0"])]]
            if R.random() < 0.4:
                opts += [["COUNT", R.choice([b"0", b"1", b"2", b"5", b"-1"])]]
            if R.random() < 0.3:
                opts += [["MAXLEN", R.choice([b"0", b"1", b"3", b"10", b"-1"])]]
            R.shuffle(opts)
            for o in opts:
                args += o
            return args

        def side():
            return R.choice(["LEFT", "RIGHT"])

        def mpop(block):
            ks = self.keys(1, 3)
            args = (["BLMPOP", "0.01"] if block else ["LMPOP"]) + [str(len(ks))] + ks + [side()]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"2", b"10", b"0"])]
            if R.random() < 0.01:
                args[2 if block else 1] = b"0"
            return args

        def nonblocking(keys):
            """True when a blocking pop on keys answers at once."""
            for k in keys:
                kd = self.kind(k)
                if kd is not None:
                    return True
            return R.random() < 0.05  # now and then a real 10 ms timeout

        def bpop(name):
            ks = self.keys(1, 3)
            if not nonblocking(ks):
                return None
            return [name] + ks + ["0.01"]

        def blmpop():
            a = mpop(True)
            nk = int(a[2])
            if nk >= 1 and not nonblocking(a[3:3 + nk]):
                return None
            return a

        def blmove(name):
            src, dst = self.key(), self.key()
            if self.kind(src) is None and R.random() > 0.05:
                return None
            if name == "BRPOPLPUSH":
                return [name, src, dst, "0.01"]
            return [name, src, dst, side(), side(), "0.01"]

        return [
            Op(8, ["LPUSH"], lambda: push("LPUSH"), "list"),
            Op(8, ["RPUSH"], lambda: push("RPUSH"), "list"),
            Op(2, ["LPUSHX"], lambda: push("LPUSHX"), "list"),
            Op(2, ["RPUSHX"], lambda: push("RPUSHX"), "list"),
            Op(4, ["LPOP"], lambda: pop("LPOP"), "list"),
            Op(4, ["RPOP"], lambda: pop("RPOP"), "list"),
            Op(2, ["LLEN"], lambda: ["LLEN", self.key()], "list"),
            Op(3, ["LINDEX"], lambda: (lambda k: ["LINDEX", k, str(self.idx(n_of(k)))])(self.key()), "list"),
            Op(3, ["LSET"], lambda: (lambda k: ["LSET", k, str(self.idx(n_of(k))), E()])(self.key()), "list"),
            Op(4, ["LRANGE"], lrange, "list"),
            Op(3, ["LINSERT"], lambda: (lambda k: ["LINSERT", k, R.choice(["BEFORE", "AFTER", "before"] * 10 + ["MIDDLE"]), el_of(k), E()])(self.key()), "list"),
            Op(3, ["LREM"], lambda: (lambda k: ["LREM", k, R.choice(["0", "1", "2", "-1", "-2", "5"]), el_of(k)])(self.key()), "list"),
            Op(2, ["LTRIM"], ltrim, "list"),
            Op(4, ["LPOS"], lpos, "list"),
            Op(3, ["LMOVE"], lambda: ["LMOVE", self.key(), self.key(), side(), side()], "list"),
            Op(1, ["RPOPLPUSH"], lambda: ["RPOPLPUSH", self.key(), self.key()], "list"),
            Op(2, ["LMPOP"], lambda: mpop(False), "list"),
            Op(1, ["BLPOP"], lambda: bpop("BLPOP"), "list"),
            Op(1, ["BRPOP"], lambda: bpop("BRPOP"), "list"),
            Op(1, ["BLMOVE"], lambda: blmove("BLMOVE"), "list"),
            Op(0.5, ["BRPOPLPUSH"], lambda: blmove("BRPOPLPUSH"), "list"),
            Op(1, ["BLMPOP"], blmpop, "list"),
        ]

    # ---- set
    def set_ops(self):
        R = self.r

        def M(k):
            v = self.val(k)
            if isinstance(v, set) and v and R.random() < 0.5:
                return R.choice(sorted(v))
            intish = int(k[1:]) % 2 == 0
            if R.random() < 0.005:
                return LONG
            if intish and R.random() < 0.95:
                return R.choice(SINTS)
            return R.choice(SINTS + SSTRS)

        def multi(name, lo, hi):
            k = self.key()
            return [name, k] + [M(k) for _ in range(R.randint(lo, hi))]

        def spop():
            k = self.key()
            c = R.choice([None, None, b"0", b"1", b"3", b"40", b"-1"])
            return ["SPOP", k] + ([c] if c else [])

        def srand():
            k = self.key()
            c = R.choice([None, b"0", b"1", b"3", b"40", b"-1", b"-5", b"-40"])
            return ["SRANDMEMBER", k] + ([c] if c else [])

        def sintercard():
            ks = self.keys(1, 3)
            args = ["SINTERCARD", str(len(ks))] + ks
            if R.random() < 0.4:
                args += ["LIMIT", R.choice([b"0", b"1", b"2", b"-1"])]
            if R.random() < 0.02:
                args[1] = R.choice([b"0", b"9"])
            return args

        def sscan():
            k = self.key()
            args = ["*SCAN", "SSCAN", k]
            if R.random() < 0.3:
                args += ["MATCH", R.choice([b"1*", b"m*", b"?"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"3", b"100"])]
            return args

        return [
            Op(10, ["SADD"], lambda: multi("SADD", 1, 4), "set"),
            Op(5, ["SREM"], lambda: multi("SREM", 1, 3), "set"),
            Op(3, ["SISMEMBER"], lambda: multi("SISMEMBER", 1, 1), "set"),
            Op(2, ["SMISMEMBER"], lambda: multi("SMISMEMBER", 1, 4), "set"),
            Op(2, ["SCARD"], lambda: ["SCARD", self.key()], "set"),
            Op(3, ["SMEMBERS"], lambda: ["SMEMBERS", self.key()], "set"),
            Op(3, ["SPOP"], spop, "set"),
            Op(3, ["SRANDMEMBER"], srand, "set"),
            Op(3, ["SMOVE"], lambda: (lambda s: ["SMOVE", s, self.key(), M(s)])(self.key()), "set"),
            Op(2, ["SINTER"], lambda: ["SINTER"] + self.keys(1, 3), "set"),
            Op(2, ["SUNION"], lambda: ["SUNION"] + self.keys(1, 3), "set"),
            Op(2, ["SDIFF"], lambda: ["SDIFF"] + self.keys(1, 3), "set"),
            Op(1.5, ["SINTERSTORE"], lambda: ["SINTERSTORE"] + self.keys(2, 4), "set"),
            Op(1.5, ["SUNIONSTORE"], lambda: ["SUNIONSTORE"] + self.keys(2, 4), "set"),
            Op(1.5, ["SDIFFSTORE"], lambda: ["SDIFFSTORE"] + self.keys(2, 4), "set"),
            Op(2, ["SINTERCARD"], sintercard, "set"),
            Op(1, ["SSCAN"], sscan, "set"),
        ]

    # ---- zset
    def zset_ops(self):
        R = self.r

        def lexkey(k):
            return int(k[1:]) % 4 == 0

        def Mz(k):
            v = self.val(k)
            if isinstance(v, dict) and v and R.random() < 0.5:
                return R.choice(sorted(v))
            if R.random() < 0.005:
                return b"z" + LONG
            return R.choice(ZMEMBERS)

        def S(k):
            if lexkey(k):
                return b"0"
            x = R.random()
            if x < 0.01:
                return R.choice([b"+inf", b"-inf"])
            if x < 0.012:
                return b"abc"
            return R.choice(ZSCORES)

        def lex_ok(k):
            """Lex ranges only over keys whose scores are all equal."""
            v = self.val(k)
            if isinstance(v, dict) and len(set(v.values())) > 1:
                return False
            return True

        def maxscore(keys):
            m = 0
            for k in keys:
                v = self.val(k)
                if self.kind(k) == "zset":
                    for s in v.values():
                        if not math.isinf(s):
                            m = max(m, abs(s))
            return m

        def zadd():
            k = self.key()
            flags = []
            for f in ("NX", "XX", "GT", "LT", "CH"):
                if R.random() < 0.12:
                    flags.append(f)
            incr = R.random() < 0.1
            if incr:
                flags.append("INCR")
            R.shuffle(flags)
            npairs = 1 if incr and R.random() < 0.95 else R.randint(1, 3)
            args = ["ZADD", k] + flags
            for _ in range(npairs):
                args += [S(k), Mz(k)]
            if R.random() < 0.005:
                args.pop()
            return args

        def zincrby():
            k = self.key()
            inc = b"0" if lexkey(k) else R.choice([b"1", b"-0.5", b"0.25", b"2", b"-3", b"abc"])
            return ["ZINCRBY", k, inc, Mz(k)]

        def limit():
            return ["LIMIT", R.choice([b"0", b"1", b"2", b"5", b"-1"]),
                    R.choice([b"-1", b"0", b"1", b"3", b"10"])]

        def zrange():
            k = self.key()
            t = R.random()
            n = len(self.val(k) or ()) if self.kind(k) == "zset" else 3
            if t < 0.4:
                args = ["ZRANGE", k, str(self.idx(n)), str(self.idx(n))]
                if R.random() < 0.3:
                    args.append("REV")
                if R.random() < 0.4:
                    args.append("WITHSCORES")
                if R.random() < 0.02:
                    args += limit()
            elif t < 0.8 or not lex_ok(k):
                args = ["ZRANGE", k, R.choice(ZBOUNDS), R.choice(ZBOUNDS), "BYSCORE"]
                if R.random() < 0.4:
                    args.append("REV")
                if R.random() < 0.4:
                    args.append("WITHSCORES")
                if R.random() < 0.4:
                    args += limit()
            else:
                args = ["ZRANGE", k, R.choice(LEXBOUNDS), R.choice(LEXBOUNDS), "BYLEX"]
                if R.random() < 0.4:
                    args.append("REV")
                if R.random() < 0.4:
                    args += limit()
                if R.random() < 0.02:
                    args.append("WITHSCORES")
            if len(args) > 5:
                opts = args[4:]
                # shuffle option groups, keeping LIMIT's two numbers with it
                groups = []
                i = 0
                while i < len(opts):
                    if opts[i] == "LIMIT":
                        groups.append(opts[i:i + 3])
                        i += 3
                    else:
                        groups.append([opts[i]])
                        i += 1
                R.shuffle(groups)
                args = args[:4] + [x for g in groups for x in g]
            return args

        def zrangestore():
            a = zrange()
            a = [x for x in a if x != "WITHSCORES"]
            return ["ZRANGESTORE", self.key()] + a[1:]

        def legacy(name):
            k = self.key()
            n = len(self.val(k) or ()) if self.kind(k) == "zset" else 3
            if name == "ZREVRANGE":
                args = [name, k, str(self.idx(n)), str(self.idx(n))]
                if R.random() < 0.5:
                    args.append("WITHSCORES")
                return args
            if "LEX" in name:
                if not lex_ok(k):
                    return None
                args = [name, k, R.choice(LEXBOUNDS), R.choice(LEXBOUNDS)]
            else:
                args = [name, k, R.choice(ZBOUNDS), R.choice(ZBOUNDS)]
                if R.random() < 0.5:
                    args.append("WITHSCORES")
            if R.random() < 0.4:
                args += limit()
            return args

        def zrank(name):
            k = self.key()
            args = [name, k, Mz(k)]
            if "zrank-withscore" in self.m.features and R.random() < 0.3:
                args.append("WITHSCORE")
            return args

        def zremrange(name):
            k = self.key()
            n = len(self.val(k) or ()) if self.kind(k) == "zset" else 3
            if name == "ZREMRANGEBYRANK":
                return [name, k, str(self.idx(n)), str(self.idx(n))]
            if name == "ZREMRANGEBYLEX":
                if not lex_ok(k):
                    return None
                return [name, k, R.choice(LEXBOUNDS), R.choice(LEXBOUNDS)]
            return [name, k, R.choice(ZBOUNDS), R.choice(ZBOUNDS)]

        def zpop(name):
            c = R.choice([None, None, b"0", b"1", b"2", b"5", b"-1"])
            return [name, self.key()] + ([c] if c else [])

        def zmpop(block):
            ks = self.keys(1, 3)
            if block and not any(self.kind(k) is not None for k in ks) and R.random() > 0.05:
                return None
            args = (["BZMPOP", "0.01"] if block else ["ZMPOP"]) + [str(len(ks))] + ks + \
                [R.choice(["MIN", "MAX"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"2", b"10", b"0"])]
            return args

        def bzpop(name):
            ks = self.keys(1, 3)
            if not any(self.kind(k) is not None for k in ks) and R.random() > 0.05:
                return None
            return [name] + ks + ["0.01"]

        def zrandmember():
            k = self.key()
            c = R.choice([None, b"0", b"1", b"3", b"5", b"40", b"-1", b"-5", b"-40"])
            if c is None:
                return ["ZRANDMEMBER", k]
            return ["ZRANDMEMBER", k, c] + (["WITHSCORES"] if R.random() < 0.5 else [])

        def zsetop(name):
            store = name.endswith("STORE")
            ks = self.keys(1, 3)
            args = [name] + ([self.key()] if store else []) + [str(len(ks))] + ks
            big = maxscore(ks)
            if "DIFF" not in name:
                if R.random() < 0.4:
                    ws = [b"1", b"-1", b"0"] + ([b"2", b"3"] if big < 1e6 else [])
                    args += ["WEIGHTS"] + [R.choice(ws) for _ in ks]
                if R.random() < 0.4 or big >= 1e9:
                    args += ["AGGREGATE", R.choice(["MIN", "MAX"] + (["SUM"] if big < 1e9 else []))]
            if not store and R.random() < 0.5:
                args.append("WITHSCORES")
            if R.random() < 0.01:
                args[2 if store else 1] = b"0"
            return args

        def zintercard():
            ks = self.keys(1, 3)
            args = ["ZINTERCARD", str(len(ks))] + ks
            if R.random() < 0.4:
                args += ["LIMIT", R.choice([b"0", b"1", b"2", b"-1"])]
            return args

        def zscan():
            k = self.key()
            args = ["*SCAN", "ZSCAN", k]
            if R.random() < 0.3:
                args += ["MATCH", R.choice([b"m1*", b"*2", b"m?"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"3", b"100"])]
            return args

        def bounds(name):
            k = self.key()
            if name == "ZLEXCOUNT":
                return [name, k, R.choice(LEXBOUNDS), R.choice(LEXBOUNDS)] if lex_ok(k) else None
            return [name, k, R.choice(ZBOUNDS), R.choice(ZBOUNDS)]

        ops = [
            Op(10, ["ZADD"], zadd, "zset"),
            Op(3, ["ZINCRBY"], zincrby, "zset"),
            Op(4, ["ZREM"], lambda: (lambda k: ["ZREM", k] + [Mz(k) for _ in range(R.randint(1, 3))])(self.key()), "zset"),
            Op(3, ["ZSCORE"], lambda: (lambda k: ["ZSCORE", k, Mz(k)])(self.key()), "zset"),
            Op(2, ["ZMSCORE"], lambda: (lambda k: ["ZMSCORE", k] + [Mz(k) for _ in range(R.randint(1, 3))])(self.key()), "zset"),
            Op(2, ["ZCARD"], lambda: ["ZCARD", self.key()], "zset"),
            Op(3, ["ZCOUNT"], lambda: bounds("ZCOUNT"), "zset"),
            Op(2, ["ZLEXCOUNT"], lambda: bounds("ZLEXCOUNT"), "zset"),
            Op(8, ["ZRANGE"], zrange, "zset"),
            Op(2, ["ZRANGESTORE"], zrangestore, "zset"),
            Op(2, ["ZREVRANGE"], lambda: legacy("ZREVRANGE"), "zset"),
            Op(2, ["ZRANGEBYSCORE"], lambda: legacy("ZRANGEBYSCORE"), "zset"),
            Op(2, ["ZREVRANGEBYSCORE"], lambda: legacy("ZREVRANGEBYSCORE"), "zset"),
            Op(1.5, ["ZRANGEBYLEX"], lambda: legacy("ZRANGEBYLEX"), "zset"),
            Op(1.5, ["ZREVRANGEBYLEX"], lambda: legacy("ZREVRANGEBYLEX"), "zset"),
            Op(2, ["ZRANK"], lambda: zrank("ZRANK"), "zset"),
            Op(2, ["ZREVRANK"], lambda: zrank("ZREVRANK"), "zset"),
            Op(1.5, ["ZREMRANGEBYRANK"], lambda: zremrange("ZREMRANGEBYRANK"), "zset"),
            Op(1.5, ["ZREMRANGEBYSCORE"], lambda: zremrange("ZREMRANGEBYSCORE"), "zset"),
            Op(1, ["ZREMRANGEBYLEX"], lambda: zremrange("ZREMRANGEBYLEX"), "zset"),
            Op(2, ["ZPOPMIN"], lambda: zpop("ZPOPMIN"), "zset"),
            Op(2, ["ZPOPMAX"], lambda: zpop("ZPOPMAX"), "zset"),
            Op(1, ["ZMPOP"], lambda: zmpop(False), "zset"),
            Op(1, ["BZPOPMIN"], lambda: bzpop("BZPOPMIN"), "zset"),
            Op(1, ["BZPOPMAX"], lambda: bzpop("BZPOPMAX"), "zset"),
            Op(0.5, ["BZMPOP"], lambda: zmpop(True), "zset"),
            Op(2, ["ZRANDMEMBER"], zrandmember, "zset"),
            Op(2, ["ZUNIONSTORE"], lambda: zsetop("ZUNIONSTORE"), "zset"),
            Op(2, ["ZINTERSTORE"], lambda: zsetop("ZINTERSTORE"), "zset"),
            Op(1, ["ZDIFFSTORE"], lambda: zsetop("ZDIFFSTORE"), "zset"),
            Op(1, ["ZUNION"], lambda: zsetop("ZUNION"), "zset"),
            Op(1, ["ZINTER"], lambda: zsetop("ZINTER"), "zset"),
            Op(1, ["ZDIFF"], lambda: zsetop("ZDIFF"), "zset"),
            Op(1, ["ZINTERCARD"], zintercard, "zset"),
            Op(1, ["ZSCAN"], zscan, "zset"),
        ]
        return ops

    # ---- bitmap
    def bitmap_ops(self):
        R = self.r

        def off():
            x = R.random()
            if x < 0.85:
                return str(R.randint(0, 200))
            if x < 0.99:
                return str(R.randint(0, 3000))
            return R.choice(["-1", "abc", "4294967296"])

        def slen(k):
            v = self.val(k)
            return len(v) if isinstance(v, bytearray) else 4

        def rng_args(k, bits_ok=True):
            n = slen(k)
            mode = R.random()
            unit = n * 8 if mode < 0.3 else n
            args = [str(self.idx(unit)), str(self.idx(unit))]
            if mode < 0.3:
                args.append(R.choice(["BIT", "bit"]))
            elif mode < 0.5:
                args.append("BYTE")
            return args

        def bitcount():
            k = self.key()
            if R.random() < 0.3:
                return ["BITCOUNT", k]
            a = ["BITCOUNT", k] + rng_args(k)
            if R.random() < 0.01:
                a = a[:3]  # start without end: syntax error
            return a

        def bitpos():
            k = self.key()
            a = ["BITPOS", k, R.choice(["0", "1"] * 20 + ["2"])]
            x = R.random()
            if x < 0.3:
                return a
            r = rng_args(k)
            if x < 0.5:
                return a + r[:1]
            if x < 0.75:
                return a + r[:2]
            if len(r) == 2:
                r.append("BYTE")
            return a + r

        def bitop():
            op = R.choice(["AND", "OR", "XOR", "NOT", "and"])
            srcs = self.keys(1, 1) if op == "NOT" else self.keys(1, 3)
            if R.random() < 0.01:
                srcs = self.keys(2, 2)
            return ["BITOP", op, self.key()] + srcs

        def bftype():
            x = R.random()
            if x < 0.005:
                return R.choice(["u64", "i65", "x8", "i0", "U8", "I8"])
            return R.choice(["i8", "u8", "i16", "u16", "i5", "u4", "u1", "i1", "i32", "u31",
                             "i64", "u63"])

        def bfoff():
            if R.random() < 0.3:
                return "#" + str(R.randint(0, 12))
            return str(R.randint(0, 130))

        def bfval():
            return R.choice(["0", "1", "-1", "100", "-100", "127", "128", "255", "256",
                             "-129", "32767", "65535", "1000000", "-1000000",
                             "9223372036854775807", "abc"] + ["5", "-7", "3"] * 4)

        def bitfield(ro):
            k = self.key()
            args = ["BITFIELD_RO" if ro else "BITFIELD", k]
            for _ in range(R.randint(1, 4)):
                x = R.random()
                if ro and R.random() < 0.97:
                    x = 0
                if x < 0.4:
                    args += ["GET", bftype(), bfoff()]
                elif x < 0.65:
                    args += ["SET", bftype(), bfoff(), bfval()]
                elif x < 0.9:
                    args += ["INCRBY", bftype(), bfoff(), bfval()]
                else:
                    args += ["OVERFLOW", R.choice(["WRAP", "SAT", "FAIL"] * 20 + ["BAD"])]
            if args[-2] == "OVERFLOW" and R.random() < 0.5:
                args += ["GET", bftype(), bfoff()]
            return args

        def sval():
            return R.choice([b"", b"\xff\xf0\x00", b"abc", b"\x00\x00\x01", b"12", b"\xaa" * 9])

        def nohll(fn):
            """The model cannot read an HLL's bits: no bit commands on HLL keys."""
            def op():
                args = fn()
                if any(self.kind(k) == "hll" for k in keys_of(args)):
                    return None
                return args
            return op

        return [
            Op(10, ["SETBIT"], nohll(lambda: ["SETBIT", self.key(), off(),
                                             R.choice(["0", "1"] * 30 + ["2"])]), "bitmap"),
            Op(4, ["GETBIT"], nohll(lambda: ["GETBIT", self.key(), off()]), "bitmap"),
            Op(5, ["BITCOUNT"], nohll(bitcount), "bitmap"),
            Op(5, ["BITPOS"], nohll(bitpos), "bitmap"),
            Op(3, ["BITOP"], nohll(bitop), "bitmap"),
            Op(5, ["BITFIELD"], nohll(lambda: bitfield(False)), "bitmap"),
            Op(2, ["BITFIELD_RO"], nohll(lambda: bitfield(True)), "bitmap"),
            Op(1, ["APPEND"], nohll(lambda: ["APPEND", self.key(), sval()]), "bitmap"),
            Op(1, ["SETRANGE"], nohll(lambda: ["SETRANGE", self.key(),
                                               R.choice(["0", "1", "5", "20", "-1"]), sval()]),
               "bitmap"),
            Op(1, ["GETRANGE"], nohll(lambda: (lambda k: ["GETRANGE", k, str(self.idx(slen(k))),
                                                          str(self.idx(slen(k)))])(self.key())),
               "bitmap"),
            Op(1, ["STRLEN"], lambda: ["STRLEN", self.key()], "bitmap"),
            Op(2, ["GET"], lambda: ["GET", self.key()], "bitmap"),
            Op(1, ["SET"], lambda: ["SET", self.key(), sval()], "bitmap"),
        ]

    # ---- hll
    def hll_ops(self):
        R = self.r

        def pfadd():
            k = self.key()
            v = self.val(k)
            els = []
            for _ in range(R.randint(0 if R.random() < 0.02 else 1, 10)):
                if isinstance(v, set) and v and R.random() < 0.3:
                    els.append(R.choice(sorted(v)) if len(v) < 50 else next(iter(v)))
                else:
                    els.append(b"e%d" % R.randint(0, 3000))
            return ["PFADD", k] + els

        return [
            Op(12, ["PFADD"], pfadd, "hll"),
            Op(6, ["PFCOUNT"], lambda: ["PFCOUNT"] + self.keys(1, 3), "hll"),
            Op(2, ["PFMERGE"], lambda: ["PFMERGE"] + self.keys(1, 4), "hll"),
        ]


FAMILIES = ["hash", "list", "set", "zset", "bitmap", "hll"]


def build_ops(gen, family):
    if family == "mixed":
        ops = []
        for f in FAMILIES:
            ops += getattr(gen, f + "_ops")()
        return ops + gen.generic_ops()
    ops = getattr(gen, family + "_ops")() + gen.generic_ops() + gen.foreign_ops(family)
    return ops


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
                    [binary, "--port", str(self.port), "--bind", "127.0.0.1", *extra],
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

    def stop(self):
        status = None
        if self.proc.poll() is None:
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


class Conn:
    """One raw RESP2 connection (redis-py Connection + ExactParser)."""

    def __init__(self, port):
        self.c = redis.Connection(host="127.0.0.1", port=port, parser_class=ExactParser,
                                  socket_timeout=60)
        self.c.connect()

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


def keys_of(args):
    return {x if isinstance(x, bytes) else str(x).encode() for x in args[1:]
            if KEY_RE.match(x if isinstance(x, bytes) else str(x).encode())}


SCAN_KIND = {"HSCAN": "hash", "SSCAN": "set", "ZSCAN": "zset"}


def unzero(x):
    if x == b"-0":
        return b"0"
    if isinstance(x, list):
        return [unzero(y) for y in x]
    return x


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
        self.limits = LIMITS_TINY if mode == "tiny" else LIMITS_DEFAULT

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
        if str(args[0])[:1] in "zZ" or str(args[0])[:2] in ("bz", "BZ"):
            got = unzero(got)  # see fmt_double
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

    def scan(self, model, a):
        name, key = a[0], a[1].encode() if isinstance(a[1], str) else a[1]
        opts = [x.encode() if isinstance(x, str) else x for x in a[2:]]
        pattern = opts[opts.index(b"MATCH") + 1] if b"MATCH" in opts else None
        kind = SCAN_KIND[name]
        try:
            expected = model.scan_expect(kind, key, pattern)
        except Reply as rep:
            got = self.conn.call([name, key, b"0"] + opts)
            return None if got == rep.v else (repr(rep.v), got)
        cursor = b"0"
        seen = {}
        for _ in range(5000):
            got = self.conn.call([name, key, cursor] + opts)
            if kind == "zset":
                got = unzero(got)
            if not (isinstance(got, list) and len(got) == 2 and isinstance(got[0], bytes) and
                    isinstance(got[1], list)):
                return "[cursor, [elements]]", got
            items = got[1]
            if kind == "set":
                pairs = [(m, None) for m in items]
            else:
                if len(items) % 2:
                    return "an even number of items", got
                pairs = list(zip(items[0::2], items[1::2]))
            for m, v in pairs:
                if m not in expected or expected[m] != v:
                    return ("only elements of %r" % sorted(expected.items()), got)
                seen[m] = v
            cursor = got[0]
            if cursor == b"0":
                break
        else:
            return "a cursor loop that ends", got
        if set(seen) != set(expected):
            return ("every element of %r" % sorted(expected),
                    "the loop returned %r" % sorted(seen))
        return None

    def final_sweep(self, model):
        """Commands that read every key back whole, checked like the others."""
        cmds = [["DBSIZE"]]
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
            except (AttributeError, TypeError, KeyError, IndexError, ValueError):
                # a shortened sequence may aim a command where the model cannot
                # follow (bit commands on an HLL): not a reproduction
                return None
            if res is not None:
                return i, res[0], res[1]
        return None

    def reproduce(self, history, mm, budget):
        """The failing command's key closure, replayed and shrunk."""
        idx = mm.step
        if mm.args[0] in ("DBSIZE",):
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
        f = self.replay(seq)
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
                g = self.replay(cand) if cand else None
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
        f = self.replay(seq)
        return seq, f, True


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
GENERIC_CMDS = ["DEL", "UNLINK", "EXISTS", "TYPE", "EXPIRE", "TTL", "PERSIST", "RENAME",
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
        cls.conn = Conn(cls.server.port)
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
        steps = STEPS if family != "mixed" else max(1, STEPS // 2)
        run = Run(self, family, mode, seed, steps)
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
            name = (mm.args[1] if mm.args[0] == "*SCAN" else mm.args[0]).upper()
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
        if mode == "tiny" and family in TINY_ENCODINGS and not res["mismatches"]:
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
        for mode in ("default", "tiny"):
            def t(self, fam=fam, mode=mode):
                self.run_model(fam, mode)
            t.__name__ = "test_%s_%s" % (fam, mode)
            t.__doc__ = "%s, %s thresholds" % (fam, mode)
            setattr(ModelTypesTest, t.__name__, t)


_add_tests()


if __name__ == "__main__":
    unittest.main(verbosity=2)
