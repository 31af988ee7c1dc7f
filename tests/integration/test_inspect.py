#!/usr/bin/env python3
"""test_inspect.py -- strata-inspect against files the engine's own writers made,
without a strata-server.

tests/integration/inspect_gen.c writes two snapshots (every type and encoding,
hot and cold, raw / zstd / zstd with a trained dictionary, TTLs, several
databases; B changes, adds and removes keys of A), a PMem pool (tiers/pmem.c)
and an SSD directory (tiers/ssd.c), each with a file saying what it holds. This
test checks, against those files: info counts, keys (and its filters), get (and
--json, -e), dump --format json, dump --format resp piped into a real
redis-server (Debian's) compared key by key (values, and TTLs within a second),
diff A B (one pass and several), report rendered in headless Chromium, every
exit path of verify on damaged inputs, the golden files of tests/fixtures,
--help of every subcommand, a closed pipe, flat memory on a growing snapshot,
and that no input's bytes or mtime ever changed.

Environment: STRATA_INSPECT, STRATA_INSPECT_GEN (tests/CMakeLists.txt sets
them), STRATA_SRC. Prints one line per check and "N passed, M failed".
"""
import base64
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import redis  # noqa: F401  (python3-redis; re-exec with Debian's python if absent)
except ImportError:
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.stderr.write("test_inspect: python module 'redis' not found (Debian package python3-redis)\n")
    sys.exit(2)
import redis

INS = os.environ.get("STRATA_INSPECT", "")
GEN = os.environ.get("STRATA_INSPECT_GEN", "")
SRC = os.environ.get("STRATA_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
for name, p in (("STRATA_INSPECT", INS), ("STRATA_INSPECT_GEN", GEN)):
    if not p or not os.access(p, os.X_OK):
        sys.stderr.write("test_inspect: %s is not set or not executable ('%s')\n" % (name, p))
        sys.exit(2)

PASS = 0
FAIL = 0


def ok(name):
    global PASS
    PASS += 1
    print("ok   - " + name, flush=True)


def bad(name, *why):
    global FAIL
    FAIL += 1
    print("FAIL - " + name, flush=True)
    for w in why:
        print("       " + str(w)[:2000], flush=True)


def check(name, cond, *why):
    if cond:
        ok(name)
    else:
        bad(name, *why)


def run(*args, stdin=None, env=None, timeout=120):
    p = subprocess.run([INS] + list(args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, env=env)
    return p.returncode, p.stdout, p.stderr


def unquote(s):
    """The inverse of the tool's terminal quoting (tools/ins_out.c)."""
    if len(s) < 2 or s[:1] != b'"' or s[-1:] != b'"':
        return s
    out = bytearray()
    i, body = 0, s[1:-1]
    esc = {ord('n'): 10, ord('r'): 13, ord('t'): 9, ord('a'): 7, ord('b'): 8, ord('"'): 34, ord('\\'): 92}
    while i < len(body):
        c = body[i]
        if c != 92:
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == ord('x'):
            out.append(int(body[i + 2:i + 4], 16))
            i += 4
        else:
            out.append(esc[n])
            i += 2
    return bytes(out)


def jbytes(v):
    """A JSON byte string of the tool: a string (UTF-8) or {"base64": ...}."""
    if isinstance(v, dict):
        return base64.b64decode(v["base64"])
    return v.encode("utf-8")


def hexb(h):
    return b"" if h == "-" else bytes.fromhex(h)


def score_of(s):
    return float(s)


def load_expected(path):
    """{(db, key): (type, expire_ms, expired, value)} from inspect_gen's file."""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            db = None if p[0] == "?" else int(p[0])
            typ, exp, expired, key, n = p[1], int(p[2]), p[3] == "1", hexb(p[4]), int(p[5])
            el = p[6:]
            assert len(el) == n, line[:200]
            if typ == "string":
                val = hexb(el[0])
            elif typ == "list":
                val = [hexb(x) for x in el]
            elif typ == "set":
                val = sorted(hexb(x) for x in el)
            elif typ == "zset":
                val = [(hexb(x.split(":")[0]), score_of(x.split(":")[1])) for x in el]
            else:
                val = sorted((hexb(x.split(":")[0]), hexb(x.split(":")[1])) for x in el)
            out[(db, key)] = (typ, exp, expired, val)
    return out


def norm_json_value(typ, v):
    if typ == "string":
        return jbytes(v)
    if typ == "list":
        return [jbytes(x) for x in v]
    if typ == "set":
        return sorted(jbytes(x) for x in v)
    if typ == "zset":
        return [(jbytes(m), float(s)) for m, s in v]
    return sorted((jbytes(f), jbytes(x)) for f, x in v)


def file_state(paths):
    st = {}
    for p in paths:
        files = [p]
        if os.path.isdir(p):
            files = sorted(os.path.join(p, f) for f in os.listdir(p))
        for f in files:
            with open(f, "rb") as fh:
                st[f] = (hashlib.sha256(fh.read()).hexdigest(), os.stat(f).st_mtime_ns)
    return st


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    tmp = tempfile.mkdtemp(prefix="strata-inspect-")
    shm = tempfile.mkdtemp(prefix="strata-inspect-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    servers = []
    try:
        body(tmp, shm, servers)
    finally:
        for p in servers:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(shm, ignore_errors=True)
    print("%d passed, %d failed" % (PASS, FAIL))
    return 1 if FAIL else 0


def gen(*args, env=None):
    p = subprocess.run([GEN] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=300)
    if p.returncode != 0:
        raise SystemExit("inspect_gen %s failed: %s" % (args, p.stderr.decode(errors="replace")))
    return p.stdout


def body(tmp, shm, servers):
    A, B = os.path.join(tmp, "a.sts"), os.path.join(tmp, "b.sts")
    POOL, SSD = os.path.join(shm, "tier.pool"), os.path.join(tmp, "ssd")
    penv = dict(os.environ, PMEM_IS_PMEM_FORCE="1", PMEMOBJ_CONF="sds.at_create=0")
    senv = dict(os.environ, STRATA_GEN_NOW_MS=str(int(time.time() * 1000)))
    gen("snap", A, A + ".exp", env=senv)
    gen("snap", B, B + ".exp", "b", env=senv)
    gen("pool", POOL, POOL + ".exp", env=penv)
    gen("ssd", SSD, SSD + ".exp")
    inputs = [A, B, POOL, SSD]
    before = file_state(inputs)
    ea, eb = load_expected(A + ".exp"), load_expected(B + ".exp")
    ep, es = load_expected(POOL + ".exp"), load_expected(SSD + ".exp")

    # ---- golden files: every format version's fixture keeps reading
    fixtures = sorted(f for f in os.listdir(os.path.join(SRC, "tests", "fixtures")) if f.endswith(".sts"))
    check("fixtures: at least snap-v1.sts", "snap-v1.sts" in fixtures, fixtures)
    for f in fixtures:
        path = os.path.join(SRC, "tests", "fixtures", f)
        rc, out, err = run("verify", path)
        check("fixture %s: verify exits 0" % f, rc == 0 and b"OK:" in out, out, err)
        rc, out, _ = run("info", path, "--json")
        info = json.loads(out)
        check("fixture %s: info counts the footer's keys" % f, rc == 0 and info["keys"] == info["footer_keys"] > 0,
              info)
        rc, out, _ = run("dump", path, "--format", "json", "--include-expired")
        check("fixture %s: dump has every key" % f, rc == 0 and len(out.splitlines()) == info["keys"], out)
    rc, out, _ = run("get", os.path.join(SRC, "tests/fixtures/snap-v1.sts"), "greeting", "--value-only")
    check("fixture snap-v1: get greeting", rc == 0 and out == b'"hello"\n', out)
    rc, out, _ = run("get", os.path.join(SRC, "tests/fixtures/snap-v1.sts"), "cold:zstd", "--db", "1", "--json")
    check("fixture snap-v1: get a zstd cold record", rc == 0 and json.loads(out)["value"] == "abc" * 21 + "a", out)
    # server-v1.sts: a snapshot strata-server's SAVE wrote (every type, a HyperLogLog, a TTL, two
    # databases, two keys demoted to a PMem tier: zstd records copied into the snapshot as they are)
    server_v1 = os.path.join(SRC, "tests/fixtures/server-v1.sts")
    rc, out, _ = run("get", server_v1, "cold:json", "--json")
    check("fixture server-v1: get a cold zstd string", rc == 0 and json.loads(out)["tier"] == "pmem" and
          json.loads(out)["value"] == '{"user":"alice","visits":[1,2,3]}' * 8, out)
    rc, out, _ = run("get", server_v1, "cold:list", "--json")
    check("fixture server-v1: get a cold list", rc == 0 and json.loads(out)["value"] == [str(i) for i in range(1, 51)],
          out)
    rc, out, _ = run("keys", server_v1)
    check("fixture server-v1: keys", rc == 0 and sorted(out.split()) == sorted(
        b"greeting counter list set zset hash hll cold:json cold:list other".split()), out)

    # ---- info
    rc, out, err = run("info", A, "--json")
    info = json.loads(out)
    per_db = {}
    types = {}
    for (db, _), (t, _, _, _) in ea.items():
        per_db[db] = per_db.get(db, 0) + 1
        types[t] = types.get(t, 0) + 1
    check("info: keys = generated", rc == 0 and info["keys"] == len(ea) == info["footer_keys"], info, len(ea))
    check("info: keys per database", {int(k): v["keys"] for k, v in info["dbs"].items()} == per_db,
          info["dbs"], per_db)
    check("info: keys per type", {k: v for k, v in info["types"].items() if v} == types, info["types"], types)
    check("info: keys per tier add up, every tier present",
          sum(info["tiers"].values()) == len(ea) and all(info["tiers"][t] > 0 for t in ("dram", "pmem", "ssd")),
          info["tiers"])
    check("info: hot + cold, ratio, lineage, log offset",
          info["hot"] + info["cold"] == len(ea) and info["ratio"] > 1 and info["log_offset"] == 123456 and
          info["lineage"] == 0xabcdef0123456789, info)
    check("info: TTLs (with, expired by now)",
          info["with_ttl"] == sum(1 for v in ea.values() if v[1] >= 0) and info["expired_now"] == 1, info)
    check("info: one dictionary held and used", info["dicts_held"] == info["dicts_used"] == [1], info)
    check("info: one HyperLogLog", info["hll"] == 1, info)
    rc, out, _ = run("info", A)
    check("info: text names the creation time and the compression ratio",
          rc == 0 and b"created" in out and b"ratio" in out and b"lineage 0xabcdef0123456789" in out, out)

    # ---- keys
    rc, out, _ = run("keys", A)
    got = [unquote(l) for l in out.split(b"\n")[:-1]]
    check("keys: every key once", rc == 0 and sorted(got) == sorted(k for _, k in ea), got)
    check("keys: binary keys are quoted, never raw control bytes",
          b'"bin\\x00key\\r\\n\\x7f\\xff"' in out and b"\x00" not in out and b"\r" not in out, out[:300])
    rc, out, _ = run("keys", A, "--match", "cold:*", "--type", "hash")
    check("keys: --match and --type", sorted(out.split()) == [b"cold:hash", b"cold:hash:small"], out)
    rc, out, _ = run("keys", A, "--db", "7")
    check("keys: --db", sorted(out.split()) == sorted(k for (d, k) in ea if d == 7), out)
    rc, out, _ = run("keys", A, "--tier", "ssd", "-l")
    rows = [l.split(b"\t") for l in out.splitlines()]
    check("keys: --tier ssd -l", rc == 0 and rows and all(r[2] == b"ssd" for r in rows) and len(rows[0]) == 6, out)
    p1 = subprocess.Popen([INS, "keys", A], stdout=subprocess.PIPE)
    p2 = subprocess.run(["wc", "-l"], stdin=p1.stdout, stdout=subprocess.PIPE)
    p1.stdout.close()
    check("keys | wc -l", p1.wait() == 0 and int(p2.stdout) == len(ea), p2.stdout)

    # ---- get
    bad_get = []
    for (db, key), (typ, exp, expired, val) in ea.items():
        rc, out, err = run("get", A, '"' + "".join("\\x%02x" % c for c in key) + '"', "-e", "--db", str(db), "--json")
        if rc != 0:
            bad_get.append((key, rc, err))
            continue
        j = json.loads(out)
        if j["type"] != typ or norm_json_value(typ, j["value"]) != val or (j["expire_ms"] or -1) != exp:
            bad_get.append((key, j))
    check("get --json -e: every key's type, value and expiry", not bad_get, bad_get[:3])
    rc, out, _ = run("get", A, "list:small", "--db", "1")
    check("get: a list as redis-cli prints it",
          rc == 0 and out.split(b"\n")[1:] == [b'1) "item-0"', b'2) "item-1"', b'3) "item-2"', b'4) "item-3"',
                                               b'5) "item-4"', b""], out)
    rc, out, _ = run("get", A, "zset:small", "--db", "3")
    lines = out.split(b"\n")
    check("get: a zset with scores, numbered, header with encoding and TTL",
          rc == 0 and lines[0].startswith(b"# db 3, zset (listpack), 10 elements, dram, no expiry") and
          lines[1] == b' 1) "player:0"' and lines[2] == b' 2) "-inf"', out)
    rc, out, _ = run("get", A, "counter", "--db", "0")
    check("get: TTL shown", rc == 0 and b"expires" in out and b"TTL" in out, out)
    rc, out, _ = run("get", A, "no-such-key")
    check("get: a missing key is (nil), exit 1", rc == 1 and out == b"(nil)\n", rc, out)

    # ---- dump --format json
    rc, out, err = run("dump", A, "--format", "json")
    dumped, problems = {}, []
    for l in out.splitlines():
        j = json.loads(l)
        dumped[(j["db"], jbytes(j["key"]))] = j
    for (db, key), (typ, exp, expired, val) in ea.items():
        j = dumped.get((db, key))
        if expired:
            if j:
                problems.append(("expired but dumped", key))
            continue
        if not j or j["type"] != typ or norm_json_value(typ, j["value"]) != val or (j["expire_ms"] or -1) != exp:
            problems.append((key, j))
    check("dump json: every live key exactly, the expired one skipped", rc == 0 and not problems and
          len(dumped) == len(ea) - 1, problems[:3], err)
    rc, out, _ = run("dump", A, "--format", "json", "--include-expired")
    check("dump json --include-expired", rc == 0 and len(out.splitlines()) == len(ea), len(out.splitlines()))

    # ---- dump --format resp | redis-cli --pipe into a real redis-server
    if shutil.which("redis-server") and shutil.which("redis-cli"):
        port = free_port()
        srv = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", tmp, "--databases", "16"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(srv)
        r = None
        for _ in range(100):
            try:
                r = redis.Redis(host="127.0.0.1", port=port)
                r.ping()
                break
            except Exception:
                time.sleep(0.05)
        dump = subprocess.Popen([INS, "dump", A, "--format", "resp"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        pipe = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], stdin=dump.stdout, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=120)
        dump.stdout.close()
        drc = dump.wait()
        check("dump resp | redis-cli --pipe: no errors", drc == 0 and pipe.returncode == 0 and
              b"errors: 0" in pipe.stdout, pipe.stdout, pipe.stderr)
        now = int(time.time() * 1000)
        mism = []
        for (db, key), (typ, exp, expired, val) in ea.items():
            c = redis.Redis(host="127.0.0.1", port=port, db=db)
            if expired:
                if c.exists(key):
                    mism.append(("expired key loaded", key))
                continue
            t = c.type(key).decode()
            if t != typ:
                mism.append((key, "type", t))
                continue
            if typ == "string":
                got = c.get(key)
            elif typ == "list":
                got = c.lrange(key, 0, -1)
            elif typ == "set":
                got = sorted(c.smembers(key))
            elif typ == "zset":
                got = [(m, float(s)) for m, s in c.zrange(key, 0, -1, withscores=True)]
            else:
                got = sorted(c.hgetall(key).items())
            if got != val:
                mism.append((key, "value"))
            pttl = c.pttl(key)
            if exp < 0 and pttl != -1:
                mism.append((key, "ttl", pttl))
            if exp >= 0 and abs((exp - now) - pttl) > 1000:
                mism.append((key, "ttl", pttl, exp - now))
        check("redis: every key of A, values and TTLs (within a second)", not mism, mism[:5])
        sizes = {db: redis.Redis(host="127.0.0.1", port=port, db=db).dbsize() for db in range(16)}
        want = {db: sum(1 for (d, _), v in ea.items() if d == db and not v[2]) for db in range(16)}
        check("redis: DBSIZE of every database", sizes == want, sizes, want)
        card = redis.Redis(host="127.0.0.1", port=port).pfcount("hll:visitors")
        check("redis: the HyperLogLog moved as a string PFCOUNT reads", abs(card - 300) <= 10, card)
        srv.terminate()
        srv.wait()
    else:
        bad("redis-server / redis-cli not found (Debian packages redis-server, redis-tools)")

    # ---- diff
    rc, out, err = run("diff", A, B)
    lines = set(out.splitlines()[:-1])
    want = {b"~ 0 greeting (value)", b"~ 0 hll:visitors (value)", b"~ 1 list:quick (value)",
            b"~ 6 cold:json:4 (value)", b"+ 5 only:in:b", b"- 5 only:in:a"}
    check("diff A B: added, removed, changed; a hot and a cold copy of one value are equal",
          rc == 1 and lines == want and b"1 added, 1 removed, 4 changed" in out, out, err)
    rc2, out2, _ = run("diff", A, B, "--mem", "4kb")
    check("diff --mem 4kb: several passes, the same differences",
          rc2 == 1 and set(out2.splitlines()[:-1]) == want and b"passes" in out2, out2)
    rc, out, _ = run("diff", A, A)
    check("diff A A: no differences, exit 0", rc == 0 and b"0 added, 0 removed, 0 changed" in out, out)

    # ---- report in headless Chromium
    html = os.path.join(tmp, "report.html")
    rc, out, err = run("report", A, "--html", html, "--top", "10")
    page = open(html, "rb").read() if os.path.exists(html) else b""
    check("report: written, self-contained (no script, nothing fetched)",
          rc == 0 and b"<svg id=\"size-hist\"" in page and b"<script" not in page.lower() and
          b"http://" not in page and b"https://" not in page and b"src=" not in page, out, err)
    check("report: keys are escaped for HTML", b"bin\\x00key" in page and b"\x00" not in page, page[:200])
    chrome = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(chrome, os.X_OK):
        subprocess.run(["apt-get", "install", "-y", "chromium", "chromium-driver"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    if os.access(chrome, os.X_OK):
        prof = os.path.join(tmp, "chrome-profile")
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + prof]
        p = subprocess.run([chrome] + flags + ["--dump-dom", "file://" + html], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        dom = p.stdout
        check("chromium: the DOM has the charts and tables",
              all(x in dom for x in (b'id="size-hist"', b'id="ttl-hist"', b'id="type-share"', b'id="tier-share"',
                                     b'id="biggest"', b'id="prefixes"')), p.stderr[-500:])
        check("chromium: the DOM shows the numbers (key count, a prefix)",
              b">%d<" % len(ea) in dom and b"cold:" in dom, dom[:300])
        png = os.path.join(tmp, "report.png")
        p = subprocess.run([chrome] + flags + ["--window-size=1200,1800", "--screenshot=" + png, "file://" + html],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        size = os.path.getsize(png) if os.path.exists(png) else 0
        check("chromium: a screenshot of the report is not blank (> 30 KB)", size > 30000, size, p.stderr[-300:])
        keep = os.environ.get("STRATA_INSPECT_KEEP")
        if keep and size:
            shutil.copy(png, keep)
    else:
        bad("chromium not installed and apt-get could not install it")

    # ---- report never writes its page over an input nor into an input directory
    ssd_copy = os.path.join(tmp, "ssd-copy")
    shutil.copytree(SSD, ssd_copy)
    os.mkdir(os.path.join(ssd_copy, "sub"))
    refused = []
    for inp, page in ((A, A), (SSD, os.path.join(SSD, "r.html")),
                      (SSD, os.path.join(tmp, "ssd-copy", "..", "ssd", "r.html")),
                      (ssd_copy, os.path.join(ssd_copy, "sub", "r.html"))):
        rc, out, err = run("report", inp, "--html", page)
        if rc != 2 or os.path.exists(page) and page != A or b"input" not in err:
            refused.append((inp, page, rc, err[-200:]))
    rc, out, err = run("report", SSD, "--html", os.path.join(tmp, "ssd-report.html"))
    check("report: refuses an input as its page or a page inside an input directory (exit 2); "
          "beside it is fine", not refused and rc == 0, refused, rc, err)

    # ---- PMem pool, read-only
    rc, out, err = run("verify", POOL)
    check("pool: verify exits 0", rc == 0 and b"OK:" in out and b"deleted" in out, out, err)
    rc, out, _ = run("info", POOL, "--json")
    j = json.loads(out)
    check("pool: info counts keys and deleted records", j["keys"] == len(ep) and j["deleted_records"] == 4, j)
    rc, out, _ = run("keys", POOL)
    check("pool: keys", sorted(unquote(l) for l in out.splitlines()) == sorted(k for _, k in ep), out[:200])
    rc, out, _ = run("dump", POOL, "--format", "json")
    got = {jbytes(json.loads(l)["key"]): json.loads(l) for l in out.splitlines()}
    mism = [k for (_, k), (t, e, x, v) in ep.items() if k not in got or norm_json_value(t, got[k]["value"]) != v]
    check("pool: dump json values (compressed with the pool's dictionary, raw)", rc == 0 and not mism, mism[:3])

    # ---- SSD directory, read-only
    rc, out, err = run("verify", SSD)
    check("ssd: verify exits 0", rc == 0 and b"OK:" in out, out, err)
    rc, out, _ = run("keys", SSD, "-l")
    got = sorted((int(l.split(b"\t")[0]), unquote(l.split(b"\t")[5])) for l in out.splitlines())
    check("ssd: keys = current keys after deletes, overwrites, SWAPDB, FLUSHDB, expiry", got == sorted(es), got[:5])
    rc, out, _ = run("dump", SSD, "--format", "json")
    got = {(json.loads(l)["db"], jbytes(json.loads(l)["key"])): json.loads(l) for l in out.splitlines()}
    mism = [k for k, (t, e, x, v) in es.items() if k not in got or norm_json_value(t, got[k]["value"]) != v]
    check("ssd: dump json values (the overwrites win)", rc == 0 and not mism and len(got) == len(es), mism[:3])
    rc, out, _ = run("info", SSD, "--json")
    j = json.loads(out)
    check("ssd: info", j["keys"] == len(es) and j["segments"] >= 1 and j["expired"] >= 1, j)

    # ---- verify: every exit path
    def damaged_copy(name, mutate):
        p = os.path.join(tmp, name)
        data = bytearray(open(A, "rb").read())
        data = mutate(data)
        open(p, "wb").write(data)
        return p

    flip = damaged_copy("flip.sts", lambda d: d[:len(d) // 2] + bytes([d[len(d) // 2] ^ 0x40]) + d[len(d) // 2 + 1:])
    rc, out, _ = run("verify", flip)
    check("verify: a flipped byte -> 1, with the offset and readable keys",
          rc == 1 and b"DAMAGED" in out and b"first damaged offset" in out and b"readable keys" in out, out)
    trunc = damaged_copy("trunc.sts", lambda d: d[:len(d) - 1000])
    rc, out, _ = run("verify", trunc)
    check("verify: truncated -> 1", rc == 1 and b"DAMAGED" in out, out)
    hdr = damaged_copy("hdr.sts", lambda d: d[:20] + b"\xff" + d[21:])
    rc, out, _ = run("verify", hdr)
    check("verify: bad header (CRC) -> 1", rc == 1 and b"first damaged offset 0:" in out, out)
    magic = damaged_copy("magic.sts", lambda d: b"\0" * 8 + d[8:])
    rc, out, _ = run("verify", magic)
    check("verify: clobbered magic, footer intact -> still a snapshot, 1", rc == 1 and b"DAMAGED" in out, out)
    rc, out, err = run("verify", os.path.join(tmp, "missing.sts"))
    check("verify: missing file -> 2", rc == 2 and b"no such file" in err, err)
    empty_dir = os.path.join(tmp, "emptydir")
    os.mkdir(empty_dir)
    rc, out, err = run("verify", empty_dir)
    check("verify: a directory that is not an SSD directory -> 2", rc == 2 and b"directory" in err, err)
    junk = os.path.join(tmp, "junk.bin")
    open(junk, "wb").write(os.urandom(5000))
    rc, out, err = run("verify", junk)
    check("verify: not a Strata file -> 2", rc == 2 and b"not a Strata snapshot" in err, err)
    dup = os.path.join(tmp, "dup.sts")
    gen("snap", dup, dup + ".exp", "dup", env=senv)
    rc, out, _ = run("verify", dup)
    check("verify: a key twice in one database -> 1, named", rc == 1 and b"key greeting of db 0 appears more than once"
          in out, out)
    rc, out, _ = run("verify", dup, "--mem", "4kb")
    check("verify --mem 4kb: the duplicate found across partitions", rc == 1 and b"appears more than once" in out,
          out)
    rc, out, err = run("keys", flip)
    check("keys on a damaged file: exit 1 with the offset, keys before it", rc == 1 and b"damaged at offset" in err,
          err)
    # pool and ssd damage
    pd = os.path.join(shm, "damaged.pool")
    data = bytearray(open(POOL, "rb").read())
    at = data.find(b"pool:key:05")
    data[at + 2] ^= 1
    open(pd, "wb").write(data)
    rc, out, _ = run("verify", pd)
    check("pool: a flipped byte in a record -> 1, at the record's offset",
          rc == 1 and b"first damaged offset %d" % (at - 44) in out, out)
    sd = os.path.join(tmp, "ssd-damaged")
    shutil.copytree(SSD, sd)
    seg = sorted(f for f in os.listdir(sd) if f.startswith("seg-"))[0]
    data = bytearray(open(os.path.join(sd, seg), "rb").read())
    data[4096 + 40] ^= 1
    open(os.path.join(sd, seg), "wb").write(data)
    rc, out, _ = run("verify", sd)
    check("ssd: a flipped byte in an entry -> 1, naming the segment and offset",
          rc == 1 and seg.encode() in out and b"offset 4096" in out, out)
    # hostile inputs: never a crash
    hostile = os.path.join(tmp, "hostile.sts")
    crashes = []
    for i in range(40):
        d = bytearray(open(A, "rb").read()[:4096])
        for _ in range(8):
            d[int.from_bytes(os.urandom(2), "little") % len(d)] = os.urandom(1)[0]
        open(hostile, "wb").write(b"STRSNP01" + bytes(d[8:]))
        for sub in (("verify",), ("info",), ("dump", "--format", "json")):
            rc, out, err = run(sub[0], hostile, *sub[1:])
            if rc < 0 or rc > 2:
                crashes.append((sub, rc, err[-200:]))
    check("hostile files: only exit statuses 1 or 2, never a signal", not crashes, crashes[:3])

    # ---- --help for every subcommand
    helps = []
    for sub in ("verify", "info", "keys", "get", "dump", "diff", "report"):
        rc, out, _ = run(sub, "--help")
        if rc != 0 or b"usage: strata-inspect " + sub.encode() not in out or b"Exit status" not in out:
            helps.append(sub)
    rc, out, _ = run("keys", "--help")
    check("--help for every subcommand; keys --help states the quoting", not helps and b"\\xNN" in out, helps)
    rc, out, err = run("keys", A, "--bogus")
    check("an unknown option: exit 2 and a message", rc == 2 and b"unknown option" in err, err)

    # ---- a closed pipe ends the tool quietly
    p1 = subprocess.Popen([INS, "dump", A, "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p1.stdout.read(100)
    p1.stdout.close()
    err = p1.stderr.read()
    rc = p1.wait()
    check("a closed pipe: quiet, status 141 (or 0 if all was written)", rc in (0, 141) and b"rror" not in err, rc, err)

    # ---- flat memory: the same peak RSS for a 16 MiB and a 96 MiB snapshot
    rss = {}
    for mib in (16, 96):
        big = os.path.join(tmp, "big%d.sts" % mib)
        gen("big", big, str(mib))
        for sub in (("verify",), ("dump", "--format", "resp")):
            # under ASan, freed memory waits in a quarantine (256 MB): measure the tool, not that
            aenv = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                        ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0")
            rc, out, err = run(sub[0], big, *sub[1:], "--peak-rss", timeout=600, env=aenv)
            words = err.split(b"peak RSS ")
            rss[(mib, sub[0])] = int(words[1].split()[0]) if rc == 0 and len(words) > 1 else -1
        os.unlink(big)
    flat = all(0 < rss[(16, s)] and rss[(96, s)] - rss[(16, s)] < 8 * 1024 and rss[(96, s)] < 64 * 1024
               for s in ("verify", "dump"))
    check("memory stays flat: peak RSS (KiB) 16 MiB vs 96 MiB snapshots %s" % rss, flat, rss)

    # ---- never writes to its inputs
    after = file_state(inputs)
    check("inputs unchanged (bytes and mtimes of the snapshots, the pool, every SSD file)", before == after,
          [k for k in before if before[k] != after.get(k)])


if __name__ == "__main__":
    sys.exit(main())
