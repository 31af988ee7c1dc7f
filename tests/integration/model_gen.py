"""model_gen.py -- random commands for test_model_types.py.

Gen builds weighted Ops per family (hash, list, set, zset, bitmap, hll) plus
generic key commands and a little of the other types on the same keys (for
WRONGTYPE paths).  Keys are few (k0..k19) and members few (about 30) so that
commands collide; rare bulk ops cross the default encoding thresholds
(128/512 entries, 8 KB list nodes) and boundary values sit at listpack's
integer and string-length encoding limits.  Ops may peek at the model to aim
(existing members, lists that exist) but never to decide a reply.
"""
import math
import re

from model_resp import *  # noqa: F401,F403
from model_ref import *   # noqa: F401,F403

# --------------------------------------------------------------------------
# Random commands
# --------------------------------------------------------------------------

KEYS = [b"k%d" % i for i in range(20)]
KEY_RE = re.compile(rb"^k[0-9]+$")
LONG = b"x" * 70
MID = b"value-of-20-bytes-xx"

# listpack boundaries: 7-bit uint, 13/16/24/32/64-bit ints; 6/12/32-bit string lengths
BOUNDARY_INTS = [b"127", b"128", b"-128", b"-129", b"4095", b"4096", b"-4096", b"-4097",
                 b"32767", b"32768", b"-32768", b"-32769", b"8388607", b"8388608", b"-8388608",
                 b"-8388609", b"2147483647", b"2147483648", b"-2147483648", b"-2147483649",
                 b"9223372036854775807", b"-9223372036854775808", b"18446744073709551616",
                 b"00", b"-0", b" 1"]
BOUNDARY_STRS = [b"s" * 63, b"s" * 64, b"s" * 65, b"t" * 4095, b"t" * 4096]


def boundary(rng):
    if rng.random() < 0.9:
        return rng.choice(BOUNDARY_INTS)
    return rng.choice(BOUNDARY_STRS)


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

    def many(self, key, fmt, space):
        """Up to ~150 members for a mass delete: most of the key's own, some not."""
        v = self.val(key)
        own = sorted(v) if v and not isinstance(v, (bytearray, list)) else []
        out = self.r.sample(own, min(len(own), self.r.randint(20, 150)))
        return out + [fmt % self.r.randrange(space) for _ in range(self.r.randint(1, 20))]

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
            Op(0.2, ["INFO"], lambda: ["INFO", "keyspace"], "generic"),
            Op(0.5, ["MEMORY"], lambda: ["MEMORY", "USAGE", self.key()], "generic"),
            Op(0.3, ["SCAN"], lambda: ["*SCAN", "SCAN"] +
               (["TYPE", R.choice(["string", "hash", "list", "set", "zset"])]
                if R.random() < 0.8 else []) +
               (["COUNT", R.choice(["2", "100"])] if R.random() < 0.5 else []) +
               (["MATCH", "k1*"] if R.random() < 0.2 else []) +
               (["*MUT", str(R.randrange(1 << 30))] if R.random() < 0.5 else []), "generic"),
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
            if R.random() < 0.05:
                return boundary(R)
            v = R.choice(HVALUES)
            return v if v is not LONG or R.random() < 0.3 else b"v"

        def bulk():
            k = self.key()
            args = ["HSET", k]
            for i in R.sample(range(300), R.randint(60, 150)):
                args += [b"b%d" % i, R.choice(HVALUES[:7])]
            return args

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
            c = R.choice([None, b"0", b"1", b"3", b"5", b"40", b"-1", b"-5", b"-40", b"100",
                          b"-200"])
            if c is None:
                return ["HRANDFIELD", k]
            return ["HRANDFIELD", k, c] + (["WITHVALUES"] if R.random() < 0.5 else [])

        def hscan():
            k = self.key()
            args = ["*SCAN", "HSCAN", k]
            mut = ["*MUT", str(R.randrange(1 << 30))] if R.random() < 0.5 else []
            if R.random() < 0.3:
                args += ["MATCH", R.choice([b"f1*", b"*2", b"f?"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"3", b"100"])]
            args += mut
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
            Op(2, ["HSCAN"], hscan, "hash"),
            Op(0.15, ["HSET"], bulk, "hash"),
            Op(0.1, ["HDEL"], lambda: (lambda k: ["HDEL", k] + self.many(k, b"b%d", 300))(self.key()),
               "hash"),
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
            if x < 0.05:
                return boundary(R)
            return R.choice(LELEMS)

        def push(name):
            k = self.key()
            v = self.val(k)
            if isinstance(v, list) and len(v) > 700:
                return ["LTRIM", k, str(R.randint(0, 20)), str(R.randint(40, 400))]
            return [name, k] + [E() for _ in range(R.randint(1, 4))]

        def bulk():
            return [R.choice(["RPUSH", "LPUSH"]), self.key()] + \
                [E() for _ in range(R.randint(100, 300))]

        def pop(name):
            k = self.key()
            c = R.choice([None, None, b"0", b"1", b"2", b"5", b"-1", b"100"])
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
            Op(0.15, ["RPUSH", "LPUSH"], bulk, "list"),
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
            if R.random() < 0.03:
                return boundary(R)
            if intish and R.random() < 0.95:
                return R.choice(SINTS)
            return R.choice(SINTS + SSTRS)

        def multi(name, lo, hi):
            k = self.key()
            return [name, k] + [M(k) for _ in range(R.randint(lo, hi))]

        def bulk():
            k = self.key()
            if int(k[1:]) % 2 == 0:
                ms = [b"%d" % i for i in R.sample(range(1000, 1800), R.randint(100, 300))]
            else:
                ms = [b"s%d" % i for i in R.sample(range(400), R.randint(60, 200))]
            return ["SADD", k] + ms

        def spop():
            k = self.key()
            c = R.choice([None, None, b"0", b"1", b"3", b"40", b"-1", b"100", b"250"])
            return ["SPOP", k] + ([c] if c else [])

        def srand():
            k = self.key()
            c = R.choice([None, b"0", b"1", b"3", b"40", b"-1", b"-5", b"-40", b"100", b"250",
                          b"-300"])
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
            mut = ["*MUT", str(R.randrange(1 << 30))] if R.random() < 0.5 else []
            if R.random() < 0.3:
                args += ["MATCH", R.choice([b"1*", b"m*", b"?"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"3", b"100"])]
            args += mut
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
            Op(2, ["SSCAN"], sscan, "set"),
            Op(0.15, ["SADD"], bulk, "set"),
            Op(0.1, ["SREM"], lambda: (lambda k: ["SREM", k] + self.many(k, b"%d", 1800))(self.key()),
               "set"),
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

        def bulk():
            k = self.key()
            args = ["ZADD", k]
            for i in R.sample(range(300), R.randint(60, 200)):
                args += [S(k) if R.random() < 0.9 else b"0", b"b%d" % i]
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
            c = R.choice([None, None, b"0", b"1", b"2", b"5", b"-1", b"100"])
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
            c = R.choice([None, b"0", b"1", b"3", b"5", b"40", b"-1", b"-5", b"-40", b"100",
                          b"-200"])
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
            mut = ["*MUT", str(R.randrange(1 << 30))] if R.random() < 0.5 else []
            if R.random() < 0.3:
                args += ["MATCH", R.choice([b"m1*", b"*2", b"m?"])]
            if R.random() < 0.5:
                args += ["COUNT", R.choice([b"1", b"3", b"100"])]
            args += mut
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
            Op(2, ["ZSCAN"], zscan, "zset"),
            Op(0.15, ["ZADD"], bulk, "zset"),
            Op(0.1, ["ZREM"], lambda: (lambda k: ["ZREM", k] + self.many(k, b"b%d", 300))(self.key()),
               "zset"),
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
            if x < 0.995:
                return str(R.randint(0, 100000))
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
            Op(0.3, ["PFADD"], lambda: ["PFADD", self.key()] +
               [b"e%d" % R.randint(0, 20000) for _ in range(200)], "hll"),
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


def keys_of(args):
    return {x if isinstance(x, bytes) else str(x).encode() for x in args[1:]
            if KEY_RE.match(x if isinstance(x, bytes) else str(x).encode())}
