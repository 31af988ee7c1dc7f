"""model_resp.py -- exact RESP2 replies and expectations for test_model_types.py.

Replies are read through redis-py's Connection with ExactParser, which keeps
the reply's shape: Status (+OK) is never equal to a bulk string, Err keeps the
error's full text, NULLARRAY (*-1) is not a nil bulk (None).  The reference
model (model_ref.py) answers with an Expect: Exact (the reply itself),
Unordered / PairsUnordered (same elements in any order), or Pred (a property
the reply must have where the server chooses, with an optional after(reply)
that updates the model from what the server chose).  Also here: Redis's
parsing rules for integers, floats and score/lex range items, and its number
formatting.
"""
import fnmatch
import math
import re

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
        # RESP3 (after HELLO 3)
        if byte == b"_":
            return NULL3
        if byte == b",":
            return Double(rest)
        if byte == b"%":
            n = int(rest)
            out = []
            for _ in range(n):
                out.append((self.read_response(), self.read_response()))
            return Map(out)
        if byte == b"~":
            return Set3([self.read_response() for _ in range(int(rest))])
        if byte == b"=":
            return Verbatim(self._buffer.read(int(rest)))
        if byte == b"#":
            return Bool3(rest == b"t")
        raise InvalidResponse("Protocol Error: %r" % raw)


class _Null3:
    def __eq__(self, o):
        return isinstance(o, _Null3)

    __hash__ = None

    def __repr__(self):
        return "_"


NULL3 = _Null3()


class Double:
    """A RESP3 double (its text as sent)."""
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s

    def __eq__(self, o):
        return isinstance(o, Double) and o.s == self.s

    __hash__ = None

    def __repr__(self):
        return "," + self.s.decode()


class Map(list):
    """A RESP3 map: list of (key, value) pairs in the order sent."""

    def __repr__(self):
        return "%" + list.__repr__(self)


class Set3(list):
    def __repr__(self):
        return "~" + list.__repr__(self)


class Verbatim(bytes):
    def __repr__(self):
        return "=" + bytes.__repr__(self)


class Bool3(int):
    def __repr__(self):
        return "#t" if self else "#f"


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

    def describe(self):
        return self.desc() if callable(self.desc) else self.desc

    def check(self, r):
        try:
            return None if self.fn(r) else self.describe()
        except Exception as e:  # a malformed reply
            return "%s (check raised %r)" % (self.describe(), e)


class Unmodelled(Exception):
    """The model cannot tell the reply (bit commands on an HLL's bytes): the
    generator never sends such a command; a shortened replay may."""


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
    return Pred(ok, lambda: "%d %s members%s of %r" % (
        want, "distinct" if uniq else "(repeats allowed)", " with values" if withvals else "",
        sorted(members)))


# --------------------------------------------------------------------------
# RESP3: the shape of each command's reply, then the same reply in RESP2 form
# --------------------------------------------------------------------------


class _Shape(Exception):
    pass


def _plain(x):
    """Arrays, bulks, integers, statuses, errors and RESP3 nulls only."""
    if x is NULL3:
        return None
    if isinstance(x, (Map, Set3, Double, Verbatim, Bool3)) or x is None or x is NULLARRAY:
        raise _Shape("no %r here (a RESP2 null or an unexpected RESP3 type)" % (x,))
    if isinstance(x, list):
        return [_plain(y) for y in x]
    return x


def _dbl(x):
    if not isinstance(x, Double):
        raise _Shape("a RESP3 double, not %r" % (x,))
    return x.s


def _bulk(x):
    if not isinstance(x, bytes) or isinstance(x, Verbatim):
        raise _Shape("a bulk string, not %r" % (x,))
    return x


def _arr(x, n=None):
    if type(x) is not list or (n is not None and len(x) != n):
        raise _Shape("an array%s, not %r" % (" of %d" % n if n else "", x))
    return x


def _scored_pairs(x):
    """[[member, double], ...] -> flat [member, score, ...] (RESP2's form)."""
    out = []
    for p in _arr(x):
        p = _arr(p, 2)
        out += [_bulk(p[0]), _dbl(p[1])]
    return out


Z_RANGES = {"ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE", "ZUNION", "ZINTER",
            "ZDIFF"}
SET_REPLIES = {"SMEMBERS", "SINTER", "SUNION", "SDIFF"}


def resp3_check(args, r):
    """r: a command's reply after HELLO 3.  -> (r in RESP2 form, None) when its
    shape is Redis's (maps, sets, doubles, verbatim text and nulls where Redis
    sends them, nothing of the kind elsewhere), else (None, what is wrong)."""
    name = (args[0] if isinstance(args[0], str) else args[0].decode()).upper()
    up = [(x.encode() if isinstance(x, str) else x).upper() for x in args]
    if isinstance(r, Err):
        return r, None
    try:
        if r is NULL3:
            return None, None
        if name in ("ZSCORE", "ZINCRBY") or (name == "ZADD" and b"INCR" in up):
            return _dbl(r), None
        if name == "ZMSCORE":
            return [None if x is NULL3 else _dbl(x) for x in _arr(r)], None
        if name in ("ZRANK", "ZREVRANK") and b"WITHSCORE" in up:
            p = _arr(r, 2)
            if not isinstance(p[0], int):
                raise _Shape("a rank")
            return [p[0], _dbl(p[1])], None
        if (name in Z_RANGES or name == "ZRANDMEMBER") and b"WITHSCORES" in up:
            return _scored_pairs(r), None
        if name in ("ZPOPMIN", "ZPOPMAX"):
            if len(args) == 3:
                return _scored_pairs(r), None
            if _arr(r) == []:
                return [], None
            p = _arr(r, 2)
            return [_bulk(p[0]), _dbl(p[1])], None
        if name in ("ZMPOP", "BZMPOP"):
            k, items = _arr(r, 2)
            return [_bulk(k), [[m, s] for m, s in zip(*[iter(_scored_pairs(items))] * 2)]], None
        if name in ("BZPOPMIN", "BZPOPMAX"):
            k, m, s = _arr(r, 3)
            return [_bulk(k), _bulk(m), _dbl(s)], None
        if name == "HGETALL":
            if not isinstance(r, Map):
                raise _Shape("a map, not %r" % (r,))
            return [x for kv in r for x in (_bulk(kv[0]), _bulk(kv[1]))], None
        if name == "HRANDFIELD" and b"WITHVALUES" in up:
            out = []
            for p in _arr(r):
                p = _arr(p, 2)
                out += [_bulk(p[0]), _bulk(p[1])]
            return out, None
        if name in SET_REPLIES or (name == "SPOP" and len(args) == 3):
            if not isinstance(r, Set3):
                raise _Shape("a set, not %r" % (r,))
            return [_bulk(x) for x in r], None
        if name == "INFO":
            if not isinstance(r, Verbatim) or not r.startswith(b"txt:"):
                raise _Shape("verbatim text (=...txt:), not %r" % (r,))
            return bytes(r[4:]), None
        return _plain(r), None
    except (_Shape, TypeError, ValueError) as e:
        return None, "RESP3 shape: %s" % (e,)


def nullarray_to_none(v):
    """RESP3 has one null: the model's *-1 becomes _ like $-1."""
    if v is NULLARRAY:
        return None
    if isinstance(v, list):
        return [nullarray_to_none(x) for x in v]
    return v
