/*
 * test_ssd.c -- indexed tiers (keys with no DRAM stub) against a real
 * strata-server: the SSD tier, and the indexed heap tier with delayed reads
 * where what is tested is the waiting itself.
 *
 *  - cold keys of every type read back exactly; OBJECT TIER, DBSIZE, KEYS,
 *    SCAN and RANDOMKEY see them; INFO tiers counts them;
 *  - a client waiting for a read holds back its own later replies, in order,
 *    while other clients of the same worker are served;
 *  - the cascade: PMem past its watermark sends its coldest keys to SSD, and
 *    everything still reads back;
 *  - space comes back after DEL and overwrites (compaction), keys with a TTL
 *    expire on SSD without being read;
 *  - damaged and torn segment files: the restarted server rejects exactly
 *    the damaged records and serves the rest;
 *  - concurrency: clients reading cold keys while others overwrite, delete
 *    and expire them, with compaction running: every value read is one that
 *    was written for that key, and a client always reads its own writes.
 *
 * These tests configure their tiers themselves, so they clear
 * STRATA_SERVER_ARGS before starting servers.
 */
#include "testkit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec d = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&d, NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* A private directory for segment files that outlives one server. */
static char *ssd_dir_new(void)
{
    char *d = strdup("/tmp/strata-ssd-test.XXXXXX");
    assert_non_null(d);
    assert_non_null(mkdtemp(d));
    return d;
}

static void ssd_dir_free(char *d)
{
    nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

static struct tk_server *start(const char *const *extra)
{
    struct tk_server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    if (tk_server_start(s, extra) != 0)
        fail_msg("cannot start strata-server");
    return s;
}

static void stop(struct tk_server *s)
{
    assert_int_equal(tk_server_stop(s), 0);
    free(s);
}

/* kill -9: what a crash leaves behind */
static void crash(struct tk_server *s)
{
    kill(s->pid, SIGKILL);
    tk_server_stop(s); /* reaps it and removes its private dir */
    free(s);
}

static long long ll_reply(redisReply *r)
{
    if (r->type != REDIS_REPLY_INTEGER) {
        int t = r->type;
        if (t == REDIS_REPLY_ERROR)
            fprintf(stderr, "error: %s\n", r->str);
        freeReplyObject(r);
        fail_msg("expected an integer, got type %d", t);
    }
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* a field of an INFO tiers "tier_<name>:a=1,b=2" line */
static long long tier_field(redisContext *c, const char *tier, const char *field)
{
    char name[64];
    snprintf(name, sizeof(name), "tier_%s", tier);
    char *line = tk_info_field(c, name);
    if (!line)
        fail_msg("INFO has no %s line", name);
    char pat[64];
    snprintf(pat, sizeof(pat), ",%s=", field);
    char *p = strstr(line, pat);
    if (!p && strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == '=')
        p = line - 1;
    if (!p)
        fail_msg("%s has no field %s", name, field);
    long long v = atoll(p + strlen(pat));
    free(line);
    return v;
}

/* A value for key i at version v: checkable by anyone who reads it. */
static int value_of(char *buf, size_t cap, const char *prefix, int i, int v, size_t len)
{
    int n = snprintf(buf, cap, "{\"key\":\"%s%d\",\"v\":%d,\"pad\":\"", prefix, i, v);
    while ((size_t)n < len - 2 && (size_t)n < cap - 3) {
        buf[n] = (char)('a' + (i * 7 + v + n) % 13);
        n++;
    }
    buf[n++] = '"';
    buf[n++] = '}';
    buf[n] = '\0';
    return n;
}

static void fill(redisContext *c, const char *prefix, int n, size_t vlen)
{
    char v[4096];
    for (int i = 0; i < n; i++) {
        value_of(v, sizeof(v), prefix, i, 0, vlen);
        redisAppendCommand(c, "SET %s%d %s", prefix, i, v);
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
}

static void expect_val(redisContext *c, const char *prefix, int i, int v, size_t vlen)
{
    char want[4096];
    value_of(want, sizeof(want), prefix, i, v, vlen);
    redisReply *r = tk_cmd(c, "GET %s%d", prefix, i);
    if (r->type != REDIS_REPLY_STRING || strcmp(r->str, want) != 0)
        fail_msg("GET %s%d: got %s", prefix, i, r->type == REDIS_REPLY_STRING ? r->str : "(not a string)");
    freeReplyObject(r);
}

/* Values that do not compress (random bytes after a readable prefix), so a
 * record is stored raw and a test can find a key's value in a file. */
#define RVAL_LEN 500
static void rval(char *v, const char *prefix, int i)
{
    int len = snprintf(v, RVAL_LEN, "VAL-%s%d-", prefix, i);
    unsigned x = 2463534242u ^ (unsigned)i * 2654435761u;
    while (len < RVAL_LEN) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v[len++] = (char)(x >> 24);
    }
}

static void fill_random(redisContext *c, const char *prefix, int n)
{
    char v[RVAL_LEN];
    char key[64];
    for (int i = 0; i < n; i++) {
        rval(v, prefix, i);
        snprintf(key, sizeof(key), "%s%d", prefix, i);
        redisAppendCommand(c, "SET %s %b", key, v, (size_t)RVAL_LEN);
    }
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
}

static int present(redisContext *c, const char *prefix, int i)
{
    redisReply *r = tk_cmd(c, "GET %s%d", prefix, i);
    int ok = r->type == REDIS_REPLY_STRING;
    if (ok) {
        char want[RVAL_LEN];
        rval(want, prefix, i);
        if (r->len != RVAL_LEN || memcmp(r->str, want, RVAL_LEN) != 0)
            fail_msg("GET %s%d returned a wrong value", prefix, i);
    }
    freeReplyObject(r);
    return ok;
}

/* TIER DEMOTE of prefix0 .. prefix<n-1>, pipelined; returns how many moved. */
static long long demote_all(redisContext *c, int n, const char *prefix)
{
    long long moved = 0;
    for (int i = 0; i < n; i++)
        redisAppendCommand(c, "TIER DEMOTE %s%d", prefix, i);
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        moved += r->integer;
        freeReplyObject(r);
    }
    return moved;
}

/* --ssd-path dir with small segments and buffers, then extra (NULL-terminated). */
static struct tk_server *start_ssd(const char *dir, const char *const *extra)
{
    const char *args[40] = { "--ssd-path", dir, "--ssd-size", "64mb", "--ssd-segment-size", "1mb",
                             "--ssd-write-buffer", "64kb" };
    int n = 8;
    for (int i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    return start(args);
}

static void test_cold_keys_of_every_type_live_on_ssd_with_no_stub(void **state)
{
    (void)state;
    char *dir = ssd_dir_new();
    struct tk_server *s = start_ssd(dir, NULL);
    redisContext *c = tk_connect(s);
    fill(c, "str:", 200, 300);
    tk_expect_int(tk_cmd(c, "RPUSH list a b c d"), 4);
    tk_expect_int(tk_cmd(c, "SADD set x y z"), 3);
    tk_expect_int(tk_cmd(c, "ZADD zset 1 one 2 two"), 2);
    tk_expect_int(tk_cmd(c, "HSET hash f1 v1 f2 v2"), 2);
    tk_expect_int(tk_cmd(c, "PFADD hll a b c"), 1);
    tk_expect_status(tk_cmd(c, "SET ttl v EX 1000"), "OK");
    assert_int_equal(demote_all(c, 200, "str:"), 200);
    tk_expect_int(tk_cmd(c, "TIER DEMOTE list set zset hash hll ttl"), 6);
    tk_expect_str(tk_cmd(c, "OBJECT TIER str:7"), "ssd");
    tk_expect_str(tk_cmd(c, "OBJECT TIER hash"), "ssd");
    assert_int_equal(tk_info_ll(c, "cold_stubs"), 0); /* nothing of them in DRAM */
    assert_int_equal(tk_info_ll(c, "cold_keys"), 206);
    assert_int_equal(ll_reply(tk_cmd(c, "DBSIZE")), 206);
    for (int i = 0; i < 200; i += 13)
        expect_val(c, "str:", i, 0, 300);
    redisReply *r = tk_cmd(c, "LRANGE list 0 -1");
    assert_int_equal(r->elements, 4);
    assert_string_equal(r->element[3]->str, "d");
    freeReplyObject(r);
    tk_expect_int(tk_cmd(c, "SISMEMBER set y"), 1);
    tk_expect_str(tk_cmd(c, "ZSCORE zset two"), "2");
    tk_expect_str(tk_cmd(c, "HGET hash f2"), "v2");
    tk_expect_int(tk_cmd(c, "PFCOUNT hll"), 3);
    tk_expect_status(tk_cmd(c, "TYPE zset"), "zset");
    long long ttl = ll_reply(tk_cmd(c, "TTL ttl"));
    assert_true(ttl > 990 && ttl <= 1000);
    /* KEYS and a full SCAN see every key once */
    r = tk_cmd(c, "KEYS *");
    assert_int_equal(r->elements, 206);
    freeReplyObject(r);
    char cursor[32] = "0";
    long long seen = 0;
    do {
        r = tk_cmd(c, "SCAN %s COUNT 50", cursor);
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        seen += (long long)r->element[1]->elements;
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    assert_true(seen >= 206);
    r = tk_cmd(c, "RANDOMKEY");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
    assert_true(tier_field(c, "ssd", "keys") >= 200);
    assert_true(tier_field(c, "ssd", "reads") > 0);
    assert_int_equal(tier_field(c, "ssd", "errors"), 0);
    /* a write brings the key back to DRAM and drops the record */
    tk_expect_int(tk_cmd(c, "APPEND str:5 !"), 301);
    tk_expect_str(tk_cmd(c, "OBJECT TIER str:5"), "dram");
    tk_expect_int(tk_cmd(c, "DEL str:6"), 1);
    tk_expect_nil(tk_cmd(c, "GET str:6"));
    assert_int_equal(ll_reply(tk_cmd(c, "DBSIZE")), 205);
    redisFree(c);
    stop(s);
    ssd_dir_free(dir);
}

/* A client whose command waits for a tier read holds back its own later
 * replies (in order), and the worker serves another client meanwhile. */
static void test_waiting_client_keeps_order_and_others_go_on(void **state)
{
    (void)state;
    const char *args[] = { "--threads", "1", "--mem-tier-size", "64mb", "--mem-tier-indexed", "yes",
                           "--mem-tier-read-delay-us", "300000", NULL };
    struct tk_server *s = start(args);
    redisContext *a = tk_connect(s), *b = tk_connect(s);
    tk_expect_status(tk_cmd(a, "SET cold v1"), "OK");
    tk_expect_int(tk_cmd(a, "TIER DEMOTE cold"), 1);
    tk_expect_status(tk_cmd(a, "SET hot h"), "OK");
    /* a pipeline: a cold read, then hot commands behind it */
    redisAppendCommand(a, "GET cold");
    redisAppendCommand(a, "INCR n");
    redisAppendCommand(a, "GET hot");
    redisAppendCommand(a, "GET cold");
    long long t0 = mono_ms();
    /* b is served while a waits: PING and a hot GET come back at once */
    tk_expect_status(tk_cmd(b, "PING"), "PONG");
    tk_expect_str(tk_cmd(b, "GET hot"), "h");
    long long tb = mono_ms() - t0;
    redisReply *r = NULL;
    assert_int_equal(redisGetReply(a, (void **)&r), REDIS_OK);
    long long ta = mono_ms() - t0;
    assert_string_equal(r->str, "v1");
    freeReplyObject(r);
    assert_int_equal(redisGetReply(a, (void **)&r), REDIS_OK);
    assert_int_equal(r->integer, 1);
    freeReplyObject(r);
    assert_int_equal(redisGetReply(a, (void **)&r), REDIS_OK);
    assert_string_equal(r->str, "h");
    freeReplyObject(r);
    assert_int_equal(redisGetReply(a, (void **)&r), REDIS_OK);
    assert_string_equal(r->str, "v1");
    freeReplyObject(r);
    if (!(tb < ta && ta >= 250))
        fail_msg("the other client took %lld ms, the waiting one %lld ms", tb, ta);
    assert_true(tk_info_ll(a, "cold_fetch_suspended") >= 1);
    /* a client that disconnects while waiting is cleaned up */
    redisContext *gone = tk_connect(s);
    redisAppendCommand(gone, "GET cold");
    redisBufferWrite(gone, &(int){ 0 });
    redisFree(gone);
    sleep_ms(400);
    tk_expect_status(tk_cmd(b, "PING"), "PONG");
    tk_expect_str(tk_cmd(b, "GET cold"), "v1");
    redisFree(a);
    redisFree(b);
    stop(s);
}

/* PMem past its watermark moves its coldest keys on to SSD, record bytes
 * unchanged; every value still reads back. */
static void test_cascade_pmem_to_ssd(void **state)
{
    (void)state;
    char *dir = ssd_dir_new();
    char pool[300];
    snprintf(pool, sizeof(pool), "%s/pool", dir);
    char ssd[300];
    snprintf(ssd, sizeof(ssd), "%s/ssd", dir);
    const char *extra[] = { "--pmem-path", pool, "--pmem-size", "8mb", "--pmem-cascade-watermark", "25", NULL };
    struct tk_server *s = start_ssd(ssd, extra);
    redisContext *c = tk_connect(s);
    enum { N = 6000 };
    fill_random(c, "k:", N);
    assert_int_equal(demote_all(c, N, "k:"), N);
    long long deadline = mono_ms() + 10000;
    while (tk_info_ll(c, "cascade_moves") == 0 && mono_ms() < deadline)
        sleep_ms(50);
    assert_true(tk_info_ll(c, "cascade_moves") > 0);
    assert_true(tier_field(c, "ssd", "keys") > 0);
    assert_true(tier_field(c, "ssd", "moved_in") > 0);
    int on_ssd = 0, on_pmem = 0;
    for (int i = 0; i < N; i += 7) {
        redisReply *r = tk_cmd(c, "OBJECT TIER k:%d", i);
        on_ssd += strcmp(r->str, "ssd") == 0;
        on_pmem += strcmp(r->str, "pmem") == 0;
        freeReplyObject(r);
        assert_true(present(c, "k:", i));
    }
    assert_true(on_ssd > 0);
    assert_true(on_pmem > 0);
    /* TIER DEMOTE on a PMem key moves it one tier colder */
    for (int i = 0; i < N; i++) {
        redisReply *r = tk_cmd(c, "OBJECT TIER k:%d", i);
        int pm = strcmp(r->str, "pmem") == 0;
        freeReplyObject(r);
        if (pm) {
            tk_expect_int(tk_cmd(c, "TIER DEMOTE k:%d", i), 1);
            tk_expect_str(tk_cmd(c, "OBJECT TIER k:%d", i), "ssd");
            assert_true(present(c, "k:", i));
            break;
        }
    }
    /* DBSIZE adds the SSD index's count to the keyspace's without a lock
     * over both: a key the cascade moves between the two reads is missed
     * once (noted in docs/architecture.md). A lost key never comes back, so
     * the count must reach N once the moves settle. */
    long long dbsize = 0;
    deadline = mono_ms() + 5000;
    while ((dbsize = ll_reply(tk_cmd(c, "DBSIZE"))) != N && mono_ms() < deadline)
        sleep_ms(20);
    assert_int_equal(dbsize, N);
    redisFree(c);
    stop(s);
    ssd_dir_free(dir);
}

/* Space freed by DEL and overwrites comes back (compaction); keys with a TTL
 * leave DBSIZE when they expire, unread. */
static void test_space_comes_back_and_ttls_expire_on_ssd(void **state)
{
    (void)state;
    char *dir = ssd_dir_new();
    const char *extra[] = { "--ssd-compact-live-ratio", "60", NULL };
    struct tk_server *s = start_ssd(dir, extra);
    redisContext *c = tk_connect(s);
    enum { N = 6000 };
    fill_random(c, "d:", N); /* 6000 x ~560 B on the device: incompressible */
    assert_int_equal(demote_all(c, N, "d:"), N);
    long long used0 = 0, deadline = mono_ms() + 5000;
    do {
        used0 = tier_field(c, "ssd", "used_bytes");
        sleep_ms(100);
    } while (used0 < 2000000 && mono_ms() < deadline);
    assert_true(used0 > 2000000);
    for (int i = 0; i < N; i++)
        if (i % 10)
            redisAppendCommand(c, "DEL d:%d", i);
    for (int i = 0; i < N; i++)
        if (i % 10) {
            redisReply *r = NULL;
            assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
            assert_int_equal(r->integer, 1);
            freeReplyObject(r);
        }
    long long used1 = used0;
    deadline = mono_ms() + 20000;
    while ((used1 = tier_field(c, "ssd", "used_bytes")) > used0 / 2 && mono_ms() < deadline)
        sleep_ms(100);
    if (used1 > used0 / 2)
        fail_msg("ssd used_bytes %lld after deleting 90%% of %lld", used1, used0);
    assert_int_equal(ll_reply(tk_cmd(c, "DBSIZE")), N / 10);
    for (int i = 0; i < N; i += 10)
        assert_true(present(c, "d:", i));
    /* TTLs: demoted keys expire without being read */
    for (int i = 0; i < 500; i++)
        redisAppendCommand(c, "SET t:%d value PX 300", i);
    for (int i = 0; i < 500; i++) {
        redisReply *r = NULL;
        assert_int_equal(redisGetReply(c, (void **)&r), REDIS_OK);
        freeReplyObject(r);
    }
    assert_int_equal(demote_all(c, 500, "t:"), 500);
    deadline = mono_ms() + 10000;
    long long n;
    while ((n = ll_reply(tk_cmd(c, "DBSIZE"))) != N / 10 && mono_ms() < deadline)
        sleep_ms(100);
    assert_int_equal(n, N / 10);
    assert_true(tk_info_ll(c, "expired_keys") >= 500);
    redisFree(c);
    stop(s);
    ssd_dir_free(dir);
}

/* ---- damaged and torn files ------------------------------------------- */

struct segs {
    char path[64][512];
    int n;
};

static int by_name(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void list_segments(const char *dir, struct segs *out)
{
    out->n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL && out->n < 64)
        if (strncmp(de->d_name, "seg-", 4) == 0)
            snprintf(out->path[out->n++], sizeof(out->path[0]), "%s/%s", dir, de->d_name);
    closedir(d);
    qsort(out->path, (size_t)out->n, sizeof(out->path[0]), by_name);
}

/* The file offset of the first occurrence of needle in path, or -1. */
static long find_in_file(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    long at = -1;
    size_t nl = strlen(needle);
    for (long i = 0; i + (long)nl <= len; i++)
        if (memcmp(buf + i, needle, nl) == 0) {
            at = i;
            break;
        }
    free(buf);
    return at;
}

static void flip_byte(const char *path, long off)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    unsigned char b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void test_damaged_and_torn_segments_lose_exactly_their_records(void **state)
{
    (void)state;
    char *dir = ssd_dir_new();
    struct tk_server *s = start_ssd(dir, NULL);
    redisContext *c = tk_connect(s);
    enum { N = 3000 }; /* ~1.7 MB of records: two 1 MB segments at least */
    fill_random(c, "r:", N);
    assert_int_equal(demote_all(c, N, "r:"), N);
    redisFree(c);
    stop(s); /* a clean shutdown writes every buffer */

    struct segs sg;
    list_segments(dir, &sg);
    assert_true(sg.n >= 2);
    /* 1. a flipped byte inside the value of r:100 */
    char needle[64];
    snprintf(needle, sizeof(needle), "VAL-r:100-");
    long at = -1;
    int in = -1;
    for (int i = 0; i < sg.n && at < 0; i++)
        if ((at = find_in_file(sg.path[i], needle)) >= 0)
            in = i;
    assert_true(at >= 0);
    flip_byte(sg.path[in], at + 20);
    /* 2. the last segment cut in the middle of a record: find r:N-1's value
     * and cut there */
    snprintf(needle, sizeof(needle), "VAL-r:%d-", N - 1);
    long cut = -1;
    int cut_in = -1;
    for (int i = 0; i < sg.n && cut < 0; i++)
        if ((cut = find_in_file(sg.path[i], needle)) >= 0)
            cut_in = i;
    assert_true(cut > 0);
    assert_int_equal(truncate(sg.path[cut_in], cut + 100), 0);

    s = start_ssd(dir, NULL);
    c = tk_connect(s);
    int missing = 0;
    for (int i = 0; i < N; i++)
        if (!present(c, "r:", i)) {
            missing++;
            if (i != 100 && i != N - 1)
                fail_msg("r:%d lost, though only r:100 and r:%d were damaged", i, N - 1);
        }
    assert_int_equal(missing, 2);
    assert_int_equal(ll_reply(tk_cmd(c, "DBSIZE")), N - 2);
    redisFree(c);
    stop(s);
    ssd_dir_free(dir);
}

/* A crash before the last buffer reached the device loses exactly the keys
 * in that buffer; everything written before is served after the restart. */
static void test_crash_drops_only_the_unwritten_buffer(void **state)
{
    (void)state;
    char *dir = ssd_dir_new();
    const char *extra[] = { "--ssd-flush-ms", "60000", NULL };
    struct tk_server *s = start_ssd(dir, extra);
    redisContext *c = tk_connect(s);
    fill_random(c, "a:", 600); /* 600 x ~560 B: several 64 KB buffers written */
    assert_int_equal(demote_all(c, 600, "a:"), 600);
    assert_int_equal(tier_field(c, "ssd", "keys"), 600);
    sleep_ms(500); /* full buffers reach the device; the last, partial one waits */
    redisFree(c);
    crash(s);
    s = start_ssd(dir, extra);
    c = tk_connect(s);
    int have = 0, last_have = -1;
    for (int i = 0; i < 600; i++)
        if (present(c, "a:", i)) {
            have++;
            last_have = i;
        }
    /* whole buffers survive, in order: a prefix of the keys */
    assert_true(have > 0 && have < 600);
    assert_int_equal(last_have, have - 1);
    assert_true(600 - have <= 64 * 1024 / RVAL_LEN + 1);
    redisFree(c);
    stop(s);
    ssd_dir_free(dir);
}

/* ---- concurrency ------------------------------------------------------- */

struct worker_arg {
    int port;
    int id;
    int writers;
    _Atomic int *stop;
    _Atomic long long *reads, *bad;
};

enum { CKEYS = 400 };

/* Writers own keys i % writers == id: they overwrite, delete and give TTLs
 * to them, and after each write read the key back (their own write must be
 * what they see). */
static void *writer_main(void *arg)
{
    struct worker_arg *w = arg;
    redisContext *c = redisConnect("127.0.0.1", w->port);
    if (!c || c->err)
        return NULL;
    char v[2048];
    int version[CKEYS] = { 0 };
    enum { UNKNOWN, PRESENT, ABSENT, VOLATILE } st[CKEYS] = { UNKNOWN };
    unsigned x = 99991u * (unsigned)(w->id + 1);
    while (!atomic_load(w->stop)) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int i = (int)(x % CKEYS);
        if (i % w->writers != w->id)
            continue;
        int op = (int)((x >> 8) % 10);
        redisReply *r;
        if (op < 6) {
            value_of(v, sizeof(v), "c:", i, ++version[i], 700);
            r = redisCommand(c, "SET c:%d %s", i, v);
            st[i] = PRESENT;
        } else if (op < 8) {
            r = redisCommand(c, "DEL c:%d", i);
            st[i] = ABSENT;
        } else {
            value_of(v, sizeof(v), "c:", i, ++version[i], 700);
            r = redisCommand(c, "SET c:%d %s PX 200", i, v);
            st[i] = VOLATILE; /* may expire any moment */
        }
        if (!r)
            break;
        freeReplyObject(r);
        r = redisCommand(c, "TIER DEMOTE c:%d", i);
        if (r)
            freeReplyObject(r);
        r = redisCommand(c, "GET c:%d", i);
        if (!r)
            break;
        if (st[i] == ABSENT && r->type != REDIS_REPLY_NIL) {
            if (atomic_fetch_add(w->bad, 1) < 5)
                fprintf(stderr, "c:%d deleted, but GET returned type %d %.40s\n", i, r->type,
                        r->type == REDIS_REPLY_STRING ? r->str : "");
        }
        if (st[i] == PRESENT) {
            value_of(v, sizeof(v), "c:", i, version[i], 700);
            if (r->type != REDIS_REPLY_STRING || strcmp(r->str, v) != 0) {
                if (atomic_fetch_add(w->bad, 1) < 5)
                    fprintf(stderr, "c:%d at version %d, but GET returned type %d %.40s\n", i, version[i], r->type,
                            r->type == REDIS_REPLY_STRING ? r->str : (r->type == REDIS_REPLY_ERROR ? r->str : ""));
            }
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* Readers check that whatever they read is a value written for that key. */
static void *reader_main(void *arg)
{
    struct worker_arg *w = arg;
    redisContext *c = redisConnect("127.0.0.1", w->port);
    if (!c || c->err)
        return NULL;
    unsigned x = 12345u * (unsigned)(w->id + 7);
    while (!atomic_load(w->stop)) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int i = (int)(x % CKEYS);
        redisReply *r = redisCommand(c, "GET c:%d", i);
        if (!r)
            break;
        if (r->type == REDIS_REPLY_STRING) {
            char head[64];
            int hl = snprintf(head, sizeof(head), "{\"key\":\"c:%d\",\"v\":", i);
            if (strncmp(r->str, head, (size_t)hl) != 0 || r->len != 700) {
                if (atomic_fetch_add(w->bad, 1) < 5)
                    fprintf(stderr, "reader: c:%d has %zu bytes %.40s\n", i, r->len, r->str);
            }
        } else if (r->type != REDIS_REPLY_NIL) {
            if (atomic_fetch_add(w->bad, 1) < 5)
                fprintf(stderr, "reader: c:%d reply type %d %s\n", i, r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
        }
        atomic_fetch_add(w->reads, 1);
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

static void test_concurrent_reads_writes_deletes_expiry_with_compaction(void **state)
{
    (void)state;
    char *dir = ssd_dir_new();
    /* tiny segments, compaction at 90% live: it runs all the time */
    const char *extra[] = { "--ssd-segment-size", "1mb", "--ssd-compact-live-ratio", "90", "--threads", "2",
                            NULL };
    struct tk_server *s = start_ssd(dir, extra);
    redisContext *c = tk_connect(s);
    fill(c, "c:", CKEYS, 700);
    assert_int_equal(demote_all(c, CKEYS, "c:"), CKEYS);
    _Atomic int stop_flag = 0;
    _Atomic long long reads = 0, bad = 0;
    enum { WRITERS = 3, READERS = 3 };
    pthread_t th[WRITERS + READERS];
    struct worker_arg wa[WRITERS + READERS];
    for (int i = 0; i < WRITERS + READERS; i++) {
        wa[i] = (struct worker_arg){ .port = s->port, .id = i < WRITERS ? i : i - WRITERS, .writers = WRITERS,
                                     .stop = &stop_flag, .reads = &reads, .bad = &bad };
        pthread_create(&th[i], NULL, i < WRITERS ? writer_main : reader_main, &wa[i]);
    }
    /* at least 6 s, and until compaction has run under the load (slower
     * builds take longer to make enough dead records) */
    long long t_end = mono_ms() + 6000, t_max = mono_ms() + 60000;
    for (;;) {
        sleep_ms(500);
        char *compacted = tk_info_field(c, "ssd_segments_compacted");
        long long n = compacted ? atoll(compacted) : 0;
        free(compacted);
        if ((mono_ms() >= t_end && n > 0) || mono_ms() >= t_max)
            break;
    }
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < WRITERS + READERS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&bad), 0);
    assert_true(atomic_load(&reads) > 1000);
    assert_true(tier_field(c, "ssd", "errors") == 0);
    char *compacted = tk_info_field(c, "ssd_segments_compacted");
    assert_non_null(compacted);
    if (atoll(compacted) == 0)
        fail_msg("compaction never ran during the test");
    free(compacted);
    redisFree(c);
    stop(s);
    ssd_dir_free(dir);
}

int main(void)
{
    unsetenv("STRATA_SERVER_ARGS");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cold_keys_of_every_type_live_on_ssd_with_no_stub),
        cmocka_unit_test(test_waiting_client_keeps_order_and_others_go_on),
        cmocka_unit_test(test_cascade_pmem_to_ssd),
        cmocka_unit_test(test_space_comes_back_and_ttls_expire_on_ssd),
        cmocka_unit_test(test_damaged_and_torn_segments_lose_exactly_their_records),
        cmocka_unit_test(test_crash_drops_only_the_unwritten_buffer),
        cmocka_unit_test(test_concurrent_reads_writes_deletes_expiry_with_compaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
