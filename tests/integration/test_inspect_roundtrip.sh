#!/usr/bin/env bash
# test_inspect_roundtrip.sh -- strata-inspect on a snapshot strata-server itself wrote: load data of
# every type and encoding into a server (several databases, TTLs, binary keys and values, a
# HyperLogLog, keys demoted to a PMem tier so the snapshot holds cold records), BGSAVE, wait for it,
# then check that
#   - verify says OK, info counts (keys per database, per type) equal DBSIZE and TYPE,
#   - keys lists exactly the server's keys (KEYS * per database),
#   - get prints what the server returns for a few keys of each type,
#   - dump --format resp | redis-cli --pipe into a fresh strata-server reproduces every key
#     (type, value, TTL within a second), and dump --format json agrees with the server too.
#
# It uses Redis's persistence interface: dir/dbfilename (here --dir and --dbfilename on the command
# line), BGSAVE, and INFO persistence's rdb_bgsave_in_progress, rdb_saves, rdb_last_bgsave_status.
#
# Environment: STRATA_SERVER, STRATA_INSPECT (tests/CMakeLists.txt's STRATA_TEST_ENV sets both).
# Prints one line per check and "N passed, M failed".
set -u

SERVER=${STRATA_SERVER:-}
INSPECT=${STRATA_INSPECT:-}
for v in SERVER INSPECT; do
  if [ -z "${!v}" ] || [ ! -x "${!v}" ]; then
    echo "test_inspect_roundtrip: STRATA_$v is not set or not executable ('${!v}')" >&2
    exit 2
  fi
done
for tool in redis-cli timeout; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test_inspect_roundtrip: $tool not found (redis-tools)" >&2; exit 2; }
done
PY=python3
/usr/bin/python3 -c 'import redis' 2>/dev/null && PY=/usr/bin/python3

PASS=0
FAIL=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/strata-inspect-rt-XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
ok() { PASS=$((PASS + 1)); echo "ok   - $1"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $1"; shift; [ $# -gt 0 ] && printf '       %s\n' "$@"; }
check_eq() { if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "expected: $(printf '%q' "$2")" "got:      $(printf '%q' "$3")"; fi; }

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

SNAP_ARGS="--dir $TMP --dbfilename dump.sts"
# start_server DIR -> sets PORT; the server runs in DIR with a PMem tier there
start_server() {
  local dir=$1 i
  mkdir -p "$dir"
  PORT=$(free_port)
  # shellcheck disable=SC2086
  (cd "$dir" && PMEM_IS_PMEM_FORCE=1 PMEMOBJ_CONF=sds.at_create=0 exec "$SERVER" --port "$PORT" --bind 127.0.0.1 \
      --pmem-path tier.pool --pmem-size 32mb $SNAP_ARGS >"$dir/server.log" 2>&1) &
  PIDS+=($!)
  for i in $(seq 1 100); do
    redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  echo "test_inspect_roundtrip: the server did not start:" >&2
  cat "$dir/server.log" >&2
  return 1
}

start_server "$TMP/a" || exit 1
A=$PORT
cli() { timeout 30 redis-cli -p "$A" "$@"; }

# ---- data of every type and encoding
cli set greeting hello >/dev/null
cli set counter 12345 >/dev/null
cli expire counter 3600 >/dev/null
cli set long "$(head -c 3000 /dev/zero | tr '\0' 'x')" >/dev/null
printf 'bin\x00\xff\r\nvalue' | cli -x set "bin:key" >/dev/null
cli pfadd hll:visitors a b c d e f g h >/dev/null
cli rpush list:small a b c >/dev/null
seq 1 3000 | sed 's/^/element-/' | xargs -n 500 redis-cli -p "$A" rpush list:big >/dev/null
cli sadd set:ints 1 2 3 4 5 >/dev/null
cli sadd set:small x y z >/dev/null
seq 1 1000 | sed 's/^/member-/' | xargs -n 500 redis-cli -p "$A" sadd set:big >/dev/null
cli zadd zset:small 1 a 2.5 b -inf c >/dev/null
seq 1 500 | awk '{print $1/7, "p" $1}' | xargs -n 200 redis-cli -p "$A" zadd zset:big >/dev/null
cli hset hash:small f1 v1 f2 v2 >/dev/null
seq 1 700 | awk '{print "field" $1, "value" $1}' | xargs -n 200 redis-cli -p "$A" hset hash:big >/dev/null
cli pexpire hash:big 7200000 >/dev/null
cli -n 3 set db3:key "in db 3" >/dev/null
cli -n 3 expire db3:key 86400 >/dev/null
cli -n 5 rpush db5:list x y >/dev/null
# some keys cold (the snapshot then holds their tier records)
cli tier demote list:big set:big hash:small greeting >/dev/null 2>&1 || true

# ---- BGSAVE and wait (rdb_saves counts finished saves; LASTSAVE has one-second resolution and
# may not move when the server started in the same second)
saves() { cli info persistence | tr -d '\r' | sed -n 's/^rdb_saves://p'; }
before=$(saves)
cli bgsave >/dev/null
wait_bgsave() {
  local i info
  for i in $(seq 1 300); do
    info=$(cli info persistence | tr -d '\r')
    if grep -q '^rdb_bgsave_in_progress:0' <<<"$info" && [ "$(sed -n 's/^rdb_saves://p' <<<"$info")" -gt "$before" ]; then
      grep -q '^rdb_last_bgsave_status:ok' <<<"$info"
      return
    fi
    sleep 0.1
  done
  return 1
}
if wait_bgsave && [ -s "$TMP/dump.sts" ]; then ok "BGSAVE wrote $TMP/dump.sts"; else bad "BGSAVE did not finish"; fi
SNAP=$TMP/dump.sts

out=$("$INSPECT" verify "$SNAP")
if [ $? -eq 0 ] && grep -q '^OK:' <<<"$out"; then ok "verify: OK"; else bad "verify" "$out"; fi

# ---- info, keys, get, dump against the server
# tally OUTPUT: prints a Python block's lines and adds its PYRESULT counts
tally() {
  grep -v '^PYRESULT' <<<"$1"
  local p f
  read -r p f < <(grep '^PYRESULT' <<<"$1" | awk '{print $2, $3}')
  PASS=$((PASS + ${p:-0}))
  FAIL=$((FAIL + ${f:-1}))
}
pyout=$(SNAP=$SNAP A=$A INSPECT=$INSPECT $PY - <<'EOF'
import json, os, subprocess, sys, time
import redis
snap, port, ins = os.environ["SNAP"], int(os.environ["A"]), os.environ["INSPECT"]
passed = failed = 0
def check(name, cond, *why):
    global passed, failed
    if cond:
        passed += 1; print("ok   - " + name)
    else:
        failed += 1; print("FAIL - " + name); [print("       " + str(w)[:1500]) for w in why]
def unquote(s):
    if len(s) < 2 or s[:1] != b'"':
        return s
    out, b, i = bytearray(), s[1:-1], 0
    esc = {110: 10, 114: 13, 116: 9, 97: 7, 98: 8, 34: 34, 92: 92}
    while i < len(b):
        if b[i] != 92:
            out.append(b[i]); i += 1
        elif b[i + 1] == 120:
            out.append(int(b[i + 2:i + 4], 16)); i += 4
        else:
            out.append(esc[b[i + 1]]); i += 2
    return bytes(out)
def jb(v):
    import base64
    return base64.b64decode(v["base64"]) if isinstance(v, dict) else v.encode()
def value(c, k):
    t = c.type(k).decode()
    if t == "string": return t, c.get(k)
    if t == "list": return t, c.lrange(k, 0, -1)
    if t == "set": return t, sorted(c.smembers(k))
    if t == "zset": return t, [(m, float(s)) for m, s in c.zrange(k, 0, -1, withscores=True)]
    return t, sorted(c.hgetall(k).items())
def run(*a):
    p = subprocess.run([ins] + list(a), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout
server = {}
for db in range(16):
    c = redis.Redis(port=port, db=db)
    for k in c.keys("*"):
        server[(db, k)] = (value(c, k), c.pttl(k))
rc, out = run("info", snap, "--json")
info = json.loads(out)
check("info: keys = the server's", info["keys"] == len(server), info["keys"], len(server))
check("info: keys per database", {int(d): v["keys"] for d, v in info["dbs"].items()} ==
      {db: sum(1 for (d, _) in server if d == db) for db in {d for d, _ in server}}, info["dbs"])
types = {}
for (v, _) in server.values():
    types[v[0]] = types.get(v[0], 0) + 1
check("info: keys per type", {t: n for t, n in info["types"].items() if n} == types, info["types"], types)
check("info: cold keys present (demoted before BGSAVE)", info["cold"] > 0, info)
rc, out = run("keys", snap, "-l")
got = sorted((int(l.split(b"\t")[0]), unquote(l.split(b"\t")[5])) for l in out.splitlines())
check("keys: exactly the server's keys", got == sorted(server), got[:5])
for (db, k) in [(0, b"greeting"), (0, b"list:small"), (0, b"zset:small"), (3, b"db3:key")]:
    rc, out = run("get", snap, k.decode(), "--db", str(db), "--json")
    j = json.loads(out)
    t, v = server[(db, k)][0]
    jv = {"string": lambda x: jb(x), "list": lambda x: [jb(e) for e in x], "set": lambda x: sorted(jb(e) for e in x),
          "zset": lambda x: [(jb(m), float(s)) for m, s in x], "hash": lambda x: sorted((jb(f), jb(e)) for f, e in x)}
    check("get %s: the server's value" % k.decode(), rc == 0 and j["type"] == t and jv[t](j["value"]) == v, j)
rc, out = run("dump", snap, "--format", "json")
jv = {"string": lambda x: jb(x), "list": lambda x: [jb(e) for e in x], "set": lambda x: sorted(jb(e) for e in x),
      "zset": lambda x: [(jb(m), float(s)) for m, s in x], "hash": lambda x: sorted((jb(f), jb(e)) for f, e in x)}
now_ms = time.time() * 1000
seen, wrong = set(), []
for line in out.splitlines():
    j = json.loads(line)
    key = (j["db"], jb(j["key"]))
    seen.add(key)
    (t, v), pttl = server.get(key, ((None, None), None))
    if j["type"] != t or jv[t](j["value"]) != v:
        wrong.append((key, "value"))
    elif (j["expire_ms"] is None) != (pttl < 0) or (pttl >= 0 and abs(j["expire_ms"] - now_ms - pttl) > 1000):
        wrong.append((key, "ttl", j["expire_ms"], pttl))
check("dump json: every key's type, value and expiry are the server's", rc == 0 and not wrong and seen == set(server),
      wrong[:5], sorted(set(server) ^ seen)[:5])
print("PYRESULT %d %d" % (passed, failed))
EOF
)
tally "$pyout"

# ---- dump --format resp | redis-cli --pipe into a fresh server, compared key by key
start_server "$TMP/b" || exit 1
B=$PORT
pipe=$("$INSPECT" dump "$SNAP" --format resp 2>/dev/null | timeout 120 redis-cli -p "$B" --pipe 2>&1)
if grep -q 'errors: 0' <<<"$pipe"; then ok "dump resp | redis-cli --pipe: no errors"; else bad "redis-cli --pipe" "$pipe"; fi
pyout=$(A=$A B=$B $PY - <<'EOF'
import os, redis
a, b = int(os.environ["A"]), int(os.environ["B"])
bad = []
n = 0
for db in range(16):
    ca, cb = redis.Redis(port=a, db=db), redis.Redis(port=b, db=db)
    if ca.dbsize() != cb.dbsize():
        bad.append(("dbsize", db, ca.dbsize(), cb.dbsize()))
    for k in ca.keys("*"):
        n += 1
        t = ca.type(k)
        if cb.type(k) != t:
            bad.append((db, k, "type")); continue
        t = t.decode()
        get = {"string": lambda c: c.get(k), "list": lambda c: c.lrange(k, 0, -1),
               "set": lambda c: sorted(c.smembers(k)), "zset": lambda c: c.zrange(k, 0, -1, withscores=True),
               "hash": lambda c: sorted(c.hgetall(k).items())}[t]
        if get(ca) != get(cb):
            bad.append((db, k, "value"))
        ta, tb = ca.pttl(k), cb.pttl(k)
        if (ta < 0) != (tb < 0) or abs(ta - tb) > 1000:
            bad.append((db, k, "ttl", ta, tb))
if bad:
    print("FAIL - the fresh server holds every key of the first (values, TTLs within a second)")
    print("       %s" % bad[:5])
    print("PYRESULT 0 1")
else:
    print("ok   - the fresh server holds all %d keys of the first (values, TTLs within a second)" % n)
    print("PYRESULT 1 0")
EOF
)
tally "$pyout"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
