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

    def describe(self):
        return self.desc() if callable(self.desc) else self.desc

    def check(self, r):
        try:
            return None if self.fn(r) else self.describe()
        except Exception as e:  # a malformed reply
            return "%s (check raised %r)" % (self.describe(), e)


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
