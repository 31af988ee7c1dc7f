"""model_ref.py -- the reference model of test_model_types.py.

Plain Python structures stand for the server's keyspace: db maps a key (bytes)
to an Entry whose kind is string (bytearray), hash (dict), list (list), set
(set), zset (dict member -> float score; sorted on demand by (score, member)),
or hll (the set of elements added; TYPE says string).  Model.apply(args)
parses a command as Redis 7 does (same argument checks in the same order,
same error texts), updates the state and returns what the reply must be
(model_resp.Expect).  Commands whose effect the server chooses (SPOP) update
the state from the checked reply.

Invariants the model keeps as Redis does:
  1. A collection emptied by a command is deleted (drop_if_empty).
  2. Writing a whole value (SET, *STORE, BITOP, ZRANGESTORE) drops the TTL;
     changing a collection in place keeps it; RENAME moves it; COPY copies it.
  3. Hash and zset leave listpack for good past the entries or value limits
     (Entry.big, mark_big); a re-created key starts compact again.
"""
import math
import re
import time

from model_resp import *  # noqa: F401,F403 (replies, expectations, parsing rules)

# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------

TTL_SLACK = 30  # seconds a TTL may have run down since EXPIRE (slow Sanitize builds)


class Entry:
    __slots__ = ("kind", "val", "exp", "big")

    def __init__(self, kind, val, exp=None, big=False):
        self.kind = kind  # string hash list set zset hll
        self.val = val
        self.exp = exp    # absolute time.time() or None
        self.big = big    # hash/zset: has left listpack (one way, until the key is re-created)


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
    def get(self, key, kind, hll_ok=False):
        """Entry's value if key holds kind; None if missing; WRONGTYPE else.
        An HLL is a string to Redis, but its bytes are not modelled: string
        and bit commands on one raise Unmodelled unless hll_ok."""
        e = self.db.get(key)
        if e is None:
            return None
        if e.kind == "hll" and kind == "string":
            if not hll_ok:
                raise Unmodelled("%s holds an HLL" % key)
            return e.val
        if e.kind != kind:
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

    def mark_big(self, key, kind, lens=()):
        """Hash/zset conversion rules (Redis 7.0 and 7.2 alike): past the
        entries limit, or an element (field, value, member) longer than the
        value limit, the collection leaves listpack for good."""
        e = self.db.get(key)
        if e is None:
            return
        lim = self.limits
        ent, vl = (lim["hash-max-listpack-entries"], lim["hash-max-listpack-value"]) \
            if kind == "hash" else (lim["zset-max-listpack-entries"],
                                    lim["zset-max-listpack-value"])
        if len(e.val) > ent or any(n > vl for n in lens):
            e.big = True

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

    def c_info(self, a):
        """INFO keyspace: db0's keys and expires counts (no db0 line when empty)."""
        assert a[1].lower() == b"keyspace"
        keys = len(self.db)
        expires = sum(1 for e in self.db.values() if e.exp is not None)

        def ok(r):
            if not isinstance(r, bytes):
                return False
            m = re.search(rb"^db0:keys=(\d+),expires=(\d+)", r, re.M)
            if keys == 0:
                return m is None
            return m is not None and (int(m.group(1)), int(m.group(2))) == (keys, expires)
        return Pred(ok, "db0:keys=%d,expires=%d" % (keys, expires) if keys else "no db0 line")

    def c_memory(self, a):
        assert a[1].upper() == b"USAGE"
        if a[2] not in self.db:
            return None
        return Pred(lambda r: isinstance(r, int) and r > 0, "a positive byte count")

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
        self.db[dst] = Entry(e.kind, deep_copy(e.kind, e.val), e.exp, e.big)
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
        if kind in ("hash", "zset"):
            big = BIG_ENCODING[kind] if e.big else b"listpack"
        seen = self.enc_seen.setdefault(kind, set())

        def ok(r):
            if r not in valid or (big is not None and r != big):
                return False
            seen.add(r)
            return True
        desc = ("%r" % big) if big else ("one of %r" % sorted(valid))
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
        v = self.get(a[1], "string", hll_ok=True)
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
        self.mark_big(a[1], "hash", [len(x) for x in a[2:]])
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
        self.mark_big(a[1], "hash", [len(a[2]), len(a[3])])
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
        self.mark_big(a[1], "hash", [len(a[2]), len(h[a[2]])])
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
        self.mark_big(a[1], "hash", [len(a[2]), len(s)])
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
        return Pred(lambda r: r in h, lambda: "one of the fields %r" % sorted(h))

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
            return Pred(ok, lambda: "%d distinct members of %r" % (want, sorted(members)), after)
        if len(a) > 3:
            return SYNTAX
        s = self.get(key, "set")
        if s is None:
            return None
        members = set(s)

        def after1(r):
            s.discard(r)
            self.drop_if_empty(key)
        return Pred(lambda r: r in members, lambda: "one of %r" % sorted(members), after1)

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
        return Pred(lambda r: r in members, lambda: "one of %r" % sorted(members))

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
                self.mark_big(a[1], "zset", [len(m)])
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
        self.mark_big(a[1], "zset", [len(a[3])])
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
                self.mark_big(a[1], "zset", [len(m) for m, _ in sel])
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
        return Pred(lambda r: r in z, lambda: "one of the members %r" % sorted(z))

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
                        # the smallest input's weighted score starts at 0
                        # when NaN; the others' products go to the
                        # aggregate as they are (MIN/MAX keep the score)
                        v = wscore(srcs[first][m], weights[first])
                        for i in order[1:]:
                            v = aggr(v, srcs[i][m] * weights[i])
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
                self.mark_big(a[1], "zset", [len(m) for m in res])
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
