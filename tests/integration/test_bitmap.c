/*
 * test_bitmap.c -- the bitmap command family against a real strata-server,
 * through hiredis: every command and option of SETBIT GETBIT BITCOUNT BITPOS
 * BITOP BITFIELD BITFIELD_RO, their edge cases and Redis 7.0's exact error
 * texts, RESP2 and RESP3 reply shapes, the keyspace_hits / keyspace_misses
 * counters, and a differential run: thousands of random bitmap commands sent
 * to Strata and to a real redis-server side by side, every reply compared.
 *
 * Every expectation was checked by running this binary against redis-server
 * 7.0.15 (STRATA_SERVER pointing at a wrapper that adds --save ''). The
 * differential test needs a redis-server binary ($REDIS_SERVER, else
 * /usr/bin/redis-server); without one it is skipped and says so. One test
 * covers a deliberate departure (offsets past the 512 MB an entry holds, when
 * proto-max-bulk-len is raised above it) and runs against Strata only.
 *
 * One server (group setup) serves every test; each test uses its own keys.
 */
#include "testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int group_setup(void **state)
{
    static struct tk_server s;

    if (tk_server_start(&s, NULL) != 0)
        return -1;
    *state = &s;
    return 0;
}

static int group_teardown(void **state)
{
    struct tk_server *s = *state;

    if (!s)
        return -1;
    return tk_server_stop(s) == 0 ? 0 : -1;
}

/* Asserts a bulk reply of exactly len bytes equal to p; frees the reply. */
static void expect_bin(redisReply *r, const void *p, size_t len)
{
    if (r->type != REDIS_REPLY_STRING || r->len != len || memcmp(r->str, p, len) != 0) {
        int type = r->type;
        size_t got = r->len;

        freeReplyObject(r);
        fail_msg("expected a bulk of %zu bytes, got type %d with %zu bytes", len, type, got);
    }
    freeReplyObject(r);
}

/* Asserts an array of n integers (NIL_MARK for a nil element); frees it. */
#define NIL_MARK ((long long)0x7eadbeef12345678LL)
static void expect_ints(redisReply *r, size_t n, const long long *want)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
        int type = r->type;

        if (type == REDIS_REPLY_ERROR)
            fprintf(stderr, "error reply: %s\n", r->str);
        freeReplyObject(r);
        fail_msg("expected an array of %zu, got type %d", n, type);
    }
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = r->element[i];
        int ok = want[i] == NIL_MARK ? e->type == REDIS_REPLY_NIL
                                     : e->type == REDIS_REPLY_INTEGER && e->integer == want[i];

        if (!ok) {
            long long got = e->type == REDIS_REPLY_INTEGER ? e->integer : -999;
            int type = e->type;

            freeReplyObject(r);
            fail_msg("element %zu: expected %lld, got type %d value %lld", i, want[i], type, got);
        }
    }
    freeReplyObject(r);
}

#define INTS(...) ((const long long[]){ __VA_ARGS__ })
#define NINTS(...) (sizeof(INTS(__VA_ARGS__)) / sizeof(long long))
#define EXPECT_INTS(r, ...) expect_ints((r), NINTS(__VA_ARGS__), INTS(__VA_ARGS__))

#define RERR_OFFSET "ERR bit offset is not an integer or out of range"
#define RERR_BIT "ERR bit is not an integer or out of range"
#define RERR_TYPE "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
#define RERR_WRONGTYPE "WRONGTYPE Operation against a key holding the wrong kind of value"

/* ------------------------------------------------------------------------ */
/* SETBIT / GETBIT                                                          */
/* ------------------------------------------------------------------------ */

static void test_setbit_returns_old_bit_and_grows_string(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "SETBIT sb:k 7 1"), 0);
    tk_expect_int(tk_cmd(c, "SETBIT sb:k 7 1"), 1);
    expect_bin(tk_cmd(c, "GET sb:k"), "\x01", 1);
    tk_expect_int(tk_cmd(c, "SETBIT sb:k 0 1"), 0);
    expect_bin(tk_cmd(c, "GET sb:k"), "\x81", 1);
    tk_expect_int(tk_cmd(c, "SETBIT sb:k 7 0"), 1);
    expect_bin(tk_cmd(c, "GET sb:k"), "\x80", 1);
    /* growth is zero-filled up to the byte holding the bit */
    tk_expect_int(tk_cmd(c, "SETBIT sb:k 100 1"), 0);
    tk_expect_int(tk_cmd(c, "STRLEN sb:k"), 13);
    expect_bin(tk_cmd(c, "GET sb:k"), "\x80\0\0\0\0\0\0\0\0\0\0\0\x08", 13);
    /* clearing a bit past the end still grows the string */
    tk_expect_int(tk_cmd(c, "SETBIT sb:k 127 0"), 0);
    tk_expect_int(tk_cmd(c, "STRLEN sb:k"), 16);
    /* creating a key with a 0 bit */
    tk_expect_int(tk_cmd(c, "SETBIT sb:zero 15 0"), 0);
    expect_bin(tk_cmd(c, "GET sb:zero"), "\0\0", 2);
    redisFree(c);
}

static void test_getbit_reads_bits_and_zero_past_end(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET gb:k %b", "\x80\x01", (size_t)2), "OK");
    tk_expect_int(tk_cmd(c, "GETBIT gb:k 0"), 1);
    tk_expect_int(tk_cmd(c, "GETBIT gb:k 1"), 0);
    tk_expect_int(tk_cmd(c, "GETBIT gb:k 15"), 1);
    tk_expect_int(tk_cmd(c, "GETBIT gb:k 16"), 0);
    tk_expect_int(tk_cmd(c, "GETBIT gb:k 4294967295"), 0);
    tk_expect_int(tk_cmd(c, "GETBIT gb:none 5"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS gb:none"), 0);
    redisFree(c);
}

static void test_setbit_getbit_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "SETBIT e:k -1 1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "SETBIT e:k abc 1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 4294967296 1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 1.0 1"), RERR_OFFSET);
    /* the offset is checked before the value */
    tk_expect_error(tk_cmd(c, "SETBIT e:k -1 2"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 1 2"), RERR_BIT);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 1 -1"), RERR_BIT);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 1 01"), RERR_BIT);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 1 on"), RERR_BIT);
    tk_expect_int(tk_cmd(c, "EXISTS e:k"), 0);
    tk_expect_error(tk_cmd(c, "GETBIT e:k -1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "GETBIT e:k x"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "GETBIT e:k 4294967296"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "SETBIT e:k 1"), "ERR wrong number of arguments for 'setbit' command");
    tk_expect_error(tk_cmd(c, "GETBIT e:k"), "ERR wrong number of arguments for 'getbit' command");
    redisFree(c);
}

static void test_setbit_offset_limit_follows_proto_max_bulk_len(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "CONFIG SET proto-max-bulk-len 1mb"), "OK");
    tk_expect_error(tk_cmd(c, "SETBIT lim:k 8388608 1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "GETBIT lim:k 8388608"), RERR_OFFSET);
    tk_expect_int(tk_cmd(c, "SETBIT lim:k 8388607 1"), 0);
    tk_expect_int(tk_cmd(c, "STRLEN lim:k"), 1048576);
    tk_expect_int(tk_cmd(c, "BITCOUNT lim:k"), 1);
    tk_expect_error(tk_cmd(c, "BITFIELD lim:k SET u8 8388608 1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "BITFIELD lim:k GET u8 #1048576"), RERR_OFFSET);
    tk_expect_status(tk_cmd(c, "CONFIG SET proto-max-bulk-len 512mb"), "OK");
    tk_expect_int(tk_cmd(c, "DEL lim:k"), 1);
    redisFree(c);
}

/* A deliberate departure: an entry holds at most 512 MB (ENTRY_MAX_VLEN), so
 * with proto-max-bulk-len raised above that, an offset Redis would accept
 * (and allocate for) is refused with the size error. Strata only: against
 * Redis this would allocate 640 MB. */
static void test_offset_past_the_entry_ceiling_is_too_big(void **state)
{
    redisContext *c = tk_connect(*state);
    char *v = tk_info_field(c, "strata_version");

    if (!v) {
        redisFree(c);
        print_message("skipped: Strata-only behaviour (Redis would allocate 640 MB here)\n");
        skip();
    }
    free(v);
    tk_expect_status(tk_cmd(c, "CONFIG SET proto-max-bulk-len 1gb"), "OK");
    tk_expect_error(tk_cmd(c, "SETBIT big2:k 5368709120 1"),
                    "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    tk_expect_error(tk_cmd(c, "BITFIELD big2:k SET u8 5368709120 1"),
                    "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
    /* reads are fine: past the end is zeros */
    tk_expect_int(tk_cmd(c, "GETBIT big2:k 5368709120"), 0);
    tk_expect_status(tk_cmd(c, "CONFIG SET proto-max-bulk-len 512mb"), "OK");
    tk_expect_int(tk_cmd(c, "EXISTS big2:k"), 0);
    redisFree(c);
}

static void test_setbit_on_integer_string_uses_its_text(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET int:k 12345"), "OK");
    tk_expect_int(tk_cmd(c, "GETBIT int:k 2"), 1); /* '1' = 0x31 */
    tk_expect_int(tk_cmd(c, "GETBIT int:k 3"), 1);
    tk_expect_int(tk_cmd(c, "GETBIT int:k 4"), 0);
    tk_expect_int(tk_cmd(c, "SETBIT int:k 0 1"), 0);
    expect_bin(tk_cmd(c, "GET int:k"), "\xb1" "2345", 5);
    tk_expect_status(tk_cmd(c, "SET int:j 7"), "OK");
    tk_expect_int(tk_cmd(c, "SETBIT int:j 7 0"), 1); /* '7' = 0x37 -> 0x36 '6' */
    tk_expect_str(tk_cmd(c, "GET int:j"), "6");
    tk_expect_int(tk_cmd(c, "INCR int:j"), 7);
    redisFree(c);
}

static void test_setbit_keeps_ttl(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    tk_expect_status(tk_cmd(c, "SET ttl:k a EX 1000"), "OK");
    tk_expect_int(tk_cmd(c, "SETBIT ttl:k 100 1"), 0);
    r = tk_cmd(c, "TTL ttl:k");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer > 990 && r->integer <= 1000);
    freeReplyObject(r);
    redisFree(c);
}

static void test_bit_commands_on_other_types_are_wrongtype(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_int(tk_cmd(c, "SADD wt:set a"), 1);
    tk_expect_error(tk_cmd(c, "SETBIT wt:set 1 1"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "GETBIT wt:set 1"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "BITCOUNT wt:set"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "BITCOUNT wt:set x y"), RERR_WRONGTYPE); /* type before range */
    tk_expect_error(tk_cmd(c, "BITPOS wt:set 1"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "BITOP AND wt:dest wt:set"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD wt:set GET u8 0"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD wt:set SET u8 0 1"), RERR_WRONGTYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD_RO wt:set GET u8 0"), RERR_WRONGTYPE);
    tk_expect_int(tk_cmd(c, "EXISTS wt:dest"), 0);
    tk_expect_int(tk_cmd(c, "SCARD wt:set"), 1);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* BITCOUNT                                                                 */
/* ------------------------------------------------------------------------ */

static void test_bitcount_whole_and_byte_ranges(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bc:k foobar"), "OK");
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k"), 26);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 0 0"), 4);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 1 1"), 6);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 1 1 BYTE"), 6);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 1 1 byte"), 6);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 0 -1"), 26);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k -2 -1"), 7);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 0 100"), 26);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k -100 0"), 4);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 100 200"), 0);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k 3 2"), 0);
    /* both negative with start > end: 0 before any clamping */
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k -1 -5"), 0);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:k -100 -200"), 0);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:none"), 0);
    tk_expect_status(tk_cmd(c, "SET bc:empty %s", ""), "OK");
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:empty"), 0);
    tk_expect_int(tk_cmd(c, "BITCOUNT bc:empty 0 -1"), 0);
    redisFree(c);
}

static void test_bitcount_bit_ranges(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bcb:k foobar"), "OK");
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k 5 30 BIT"), 17);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k 5 30 bit"), 17);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k -3 -1 BIT"), 1);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k 1 1 BIT"), 1);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k 0 0 BIT"), 0);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k 0 47 BIT"), 26);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k -1000 1000 BIT"), 26);
    tk_expect_int(tk_cmd(c, "BITCOUNT bcb:k 9 14 BIT"), 5);
    redisFree(c);
}

static void test_bitcount_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bce:k foobar"), "OK");
    tk_expect_error(tk_cmd(c, "BITCOUNT bce:k 0"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITCOUNT bce:k a b"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "BITCOUNT bce:k 0 b"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "BITCOUNT bce:k 0 -1 bits"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITCOUNT bce:k 0 1 bit extra"), "ERR syntax error");
    /* Redis 7.0 answers 0 for a missing key before it parses the range
     * (7.2 reports the syntax error instead) */
    tk_expect_int(tk_cmd(c, "BITCOUNT bce:none 0"), 0);
    tk_expect_int(tk_cmd(c, "BITCOUNT bce:none a b"), 0);
    tk_expect_error(tk_cmd(c, "BITCOUNT"), "ERR wrong number of arguments for 'bitcount' command");
    redisFree(c);
}

static void test_bitcount_large_string(void **state)
{
    redisContext *c = tk_connect(*state);
    size_t n = 3 * 1024 * 1024 + 5;
    char *v = malloc(n);
    long long ones = 0, part = 0;

    assert_non_null(v);
    for (size_t i = 0; i < n; i++) {
        v[i] = (char)(i * 2654435761u >> 13);
        ones += __builtin_popcount((unsigned char)v[i]);
        if (i >= 1000 && i <= n - 1000)
            part += __builtin_popcount((unsigned char)v[i]);
    }
    tk_expect_status(tk_cmd(c, "SET big:k %b", v, n), "OK");
    tk_expect_int(tk_cmd(c, "BITCOUNT big:k"), ones);
    tk_expect_int(tk_cmd(c, "BITCOUNT big:k 1000 -1000"), part);
    tk_expect_int(tk_cmd(c, "DEL big:k"), 1);
    free(v);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* BITPOS                                                                   */
/* ------------------------------------------------------------------------ */

static void test_bitpos_byte_ranges(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bp:k %b", "\xff\xf0\x01", (size_t)3), "OK");
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0"), 12);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1"), 0);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0 1"), 12);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0 2"), 16);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0 2 2"), 16);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0 0 0"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1 2"), 23);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1 2 -1"), 23);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1 1 1 BYTE"), 8);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1 1 1 BIT"), 1);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1 5"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0 5"), -1);
    /* BITPOS has no both-negative shortcut: -5 -10 clamps to byte 0 */
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 0 -5 -10"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bp:k 1 -5 -10"), 0);
    redisFree(c);
}

static void test_bitpos_zero_past_the_end_only_without_explicit_end(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bpz:k %b", "\xff\xff", (size_t)2), "OK");
    tk_expect_int(tk_cmd(c, "BITPOS bpz:k 0"), 16);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:k 0 0"), 16);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:k 0 1"), 16);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:k 0 0 -1"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:k 0 0 1 BYTE"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:k 1 100"), -1);
    tk_expect_status(tk_cmd(c, "SET bpz:empty %s", ""), "OK");
    tk_expect_int(tk_cmd(c, "BITPOS bpz:empty 0"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:empty 1"), -1);
    /* a missing key is endless zeros */
    tk_expect_int(tk_cmd(c, "BITPOS bpz:none 0"), 0);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:none 1"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpz:none 0 5 10 BIT"), 0);
    redisFree(c);
}

static void test_bitpos_bit_ranges(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bpb:k %b", "\xff\xf0\x01", (size_t)3), "OK");
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 7 15 BIT"), 12);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 0 7 BIT"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 1 12 23 BIT"), 23);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 1 16 22 BIT"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 1 16 23 bit"), 23);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 5 4 BIT"), -1);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 -5 -10 BIT"), -1); /* 19 > 14 */
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 -24 -10 BIT"), 12);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 1 -1 -1 BIT"), 23);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 12 12 BIT"), 12);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 0 11 12 BIT"), 12);
    tk_expect_int(tk_cmd(c, "BITPOS bpb:k 1 3 5 BIT"), 3);
    redisFree(c);
}

static void test_bitpos_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bpe:k abc"), "OK");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k 2"), "ERR The bit argument must be 1 or 0.");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k -1"), "ERR The bit argument must be 1 or 0.");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k a"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:none 3"), "ERR The bit argument must be 1 or 0.");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k 0 a"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k 0 0 a"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k 0 0 1 foo"), "ERR syntax error");
    /* Redis 7.0 reads the unit before end */
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k 0 0 a foo"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k 0 0 1 bit extra"), "ERR syntax error");
    /* a missing key answers before the range is parsed (7.0) */
    tk_expect_int(tk_cmd(c, "BITPOS bpe:none 1 a b c d e"), -1);
    tk_expect_error(tk_cmd(c, "BITPOS bpe:k"), "ERR wrong number of arguments for 'bitpos' command");
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* BITOP                                                                    */
/* ------------------------------------------------------------------------ */

static void test_bitop_and_or_xor_not(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bo:a %b", "\x0f\xf0" "abc", (size_t)5), "OK");
    tk_expect_status(tk_cmd(c, "SET bo:b %b", "\xff", (size_t)1), "OK");
    tk_expect_int(tk_cmd(c, "BITOP AND bo:d bo:a bo:b"), 5);
    expect_bin(tk_cmd(c, "GET bo:d"), "\x0f\0\0\0\0", 5);
    tk_expect_int(tk_cmd(c, "BITOP OR bo:d bo:a bo:b"), 5);
    expect_bin(tk_cmd(c, "GET bo:d"), "\xff\xf0" "abc", 5);
    tk_expect_int(tk_cmd(c, "BITOP XOR bo:d bo:a bo:b"), 5);
    expect_bin(tk_cmd(c, "GET bo:d"), "\xf0\xf0" "abc", 5);
    tk_expect_int(tk_cmd(c, "BITOP NOT bo:d bo:a"), 5);
    expect_bin(tk_cmd(c, "GET bo:d"), "\xf0\x0f\x9e\x9d\x9c", 5);
    /* operation names in any case */
    tk_expect_int(tk_cmd(c, "BITOP xor bo:d bo:a bo:a"), 5);
    expect_bin(tk_cmd(c, "GET bo:d"), "\0\0\0\0\0", 5);
    tk_expect_int(tk_cmd(c, "BITOP Or bo:d bo:b"), 1);
    expect_bin(tk_cmd(c, "GET bo:d"), "\xff", 1);
    /* many sources */
    tk_expect_int(tk_cmd(c, "BITOP AND bo:d bo:a bo:a bo:a bo:a bo:a bo:a bo:a bo:a bo:a bo:a bo:a bo:a bo:a "
                            "bo:a bo:a bo:a bo:a bo:a bo:a"),
                  5);
    expect_bin(tk_cmd(c, "GET bo:d"), "\x0f\xf0" "abc", 5);
    redisFree(c);
}

static void test_bitop_long_strings_match_bytewise(void **state)
{
    redisContext *c = tk_connect(*state);
    size_t na = 1000, nb = 777;
    unsigned char a[1000], b[777], want[1000];

    for (size_t i = 0; i < na; i++)
        a[i] = (unsigned char)(i * 37 + 11);
    for (size_t i = 0; i < nb; i++)
        b[i] = (unsigned char)(i * 101 + 3);
    tk_expect_status(tk_cmd(c, "SET bol:a %b", a, na), "OK");
    tk_expect_status(tk_cmd(c, "SET bol:b %b", b, nb), "OK");
    for (size_t i = 0; i < na; i++)
        want[i] = (unsigned char)(a[i] & (i < nb ? b[i] : 0));
    tk_expect_int(tk_cmd(c, "BITOP AND bol:d bol:a bol:b"), (long long)na);
    expect_bin(tk_cmd(c, "GET bol:d"), want, na);
    for (size_t i = 0; i < na; i++)
        want[i] = (unsigned char)(a[i] ^ (i < nb ? b[i] : 0));
    tk_expect_int(tk_cmd(c, "BITOP XOR bol:d bol:b bol:a"), (long long)na);
    expect_bin(tk_cmd(c, "GET bol:d"), want, na);
    redisFree(c);
}

static void test_bitop_missing_sources_and_empty_result(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r;

    /* all sources missing or empty: the destination is deleted */
    tk_expect_status(tk_cmd(c, "SET boe:d x"), "OK");
    tk_expect_int(tk_cmd(c, "BITOP AND boe:d boe:none1 boe:none2"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS boe:d"), 0);
    tk_expect_status(tk_cmd(c, "SET boe:empty %s", ""), "OK");
    tk_expect_status(tk_cmd(c, "SET boe:d x"), "OK");
    tk_expect_int(tk_cmd(c, "BITOP OR boe:d boe:empty"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS boe:d"), 0);
    tk_expect_int(tk_cmd(c, "BITOP NOT boe:d boe:none1"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS boe:d"), 0);
    /* a missing source reads as zeros */
    tk_expect_status(tk_cmd(c, "SET boe:a %b", "\xff\x0f", (size_t)2), "OK");
    tk_expect_int(tk_cmd(c, "BITOP OR boe:d boe:none1 boe:a"), 2);
    expect_bin(tk_cmd(c, "GET boe:d"), "\xff\x0f", 2);
    tk_expect_int(tk_cmd(c, "BITOP AND boe:d boe:none1 boe:a"), 2);
    expect_bin(tk_cmd(c, "GET boe:d"), "\0\0", 2);
    /* the destination loses its TTL and may have been another type */
    tk_expect_status(tk_cmd(c, "SET boe:t x EX 1000"), "OK");
    tk_expect_int(tk_cmd(c, "BITOP OR boe:t boe:a"), 2);
    tk_expect_int(tk_cmd(c, "TTL boe:t"), -1);
    tk_expect_int(tk_cmd(c, "SADD boe:set m"), 1);
    tk_expect_int(tk_cmd(c, "BITOP OR boe:set boe:a"), 2);
    r = tk_cmd(c, "TYPE boe:set");
    assert_string_equal(r->str, "string");
    freeReplyObject(r);
    /* the destination may be a source */
    tk_expect_int(tk_cmd(c, "BITOP NOT boe:a boe:a"), 2);
    expect_bin(tk_cmd(c, "GET boe:a"), "\x00\xf0", 2);
    /* integers are operands by their text */
    tk_expect_status(tk_cmd(c, "SET boe:n 123"), "OK");
    tk_expect_int(tk_cmd(c, "BITOP OR boe:d boe:n"), 3);
    tk_expect_str(tk_cmd(c, "GET boe:d"), "123");
    redisFree(c);
}

static void test_bitop_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET boerr:a x"), "OK");
    tk_expect_error(tk_cmd(c, "BITOP NOT boerr:d boerr:a boerr:a"),
                    "ERR BITOP NOT must be called with a single source key.");
    tk_expect_error(tk_cmd(c, "BITOP FOO boerr:d boerr:a"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITOP ANDX boerr:d boerr:a"), "ERR syntax error");
    /* the operation is checked before NOT's arity */
    tk_expect_error(tk_cmd(c, "BITOP NOTX boerr:d boerr:a boerr:a"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITOP AND boerr:d"), "ERR wrong number of arguments for 'bitop' command");
    tk_expect_int(tk_cmd(c, "EXISTS boerr:d"), 0);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* BITFIELD                                                                 */
/* ------------------------------------------------------------------------ */

static void test_bitfield_set_get_incrby_unsigned(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u SET u8 0 255 GET u8 0"), 0, 255);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u INCRBY u8 0 1"), 0);                 /* wraps */
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW SAT INCRBY u8 0 1000"), 255);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW FAIL INCRBY u8 0 1"), NIL_MARK);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW FAIL INCRBY u8 0 -1"), 254);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW WRAP INCRBY u8 0 -300"), 210);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW SAT INCRBY u8 0 -300"), 0);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u overflow sat set u8 0 -1 get u8 0"), 0, 255);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW WRAP SET u8 0 -5 GET u8 0"), 255, 251);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW FAIL SET u8 0 256 SET u8 0 -1 GET u8 0"), NIL_MARK, NIL_MARK,
                251);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u SET u63 1 9223372036854775807 GET u63 1 GET i64 0"),
                8863084066665136128LL /* 0xfb: bits 1..7 = 123, << 56 */, 9223372036854775807LL,
                -1 /* bit 0 was already set */);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u OVERFLOW SAT INCRBY u63 1 1 OVERFLOW WRAP INCRBY u63 1 1"),
                9223372036854775807LL, 0);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:u SET u1 0 1 GET u1 0 GET u2 0 GET u3 0"), 1, 1, 2, 4);
    redisFree(c);
}

static void test_bitfield_signed_and_overflow(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i SET i8 0 -128 INCRBY i8 0 -1"), 0, 127);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i OVERFLOW SAT SET i8 0 -1000 GET i8 0"), 127, -128);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i OVERFLOW SAT SET i8 0 1000 GET i8 0"), -128, 127);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i OVERFLOW WRAP SET i8 0 200 GET i8 0"), 127, -56);
    /* Redis's quirk: a value near INT64_MIN saturates to the maximum */
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i OVERFLOW SAT SET i8 0 -9223372036854775808 GET i8 0"), -56, 127);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i SET i64 0 -9223372036854775808 GET i64 0 INCRBY i64 0 -1"), 9151314442816847872LL /* 0x7f << 56 */,
                (long long)(-9223372036854775807LL - 1), 9223372036854775807LL);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i OVERFLOW SAT INCRBY i64 0 1"), 9223372036854775807LL);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i OVERFLOW FAIL INCRBY i64 0 1 GET i64 0"), NIL_MARK, 9223372036854775807LL);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i SET i5 #2 15 GET i5 #2 INCRBY i5 #2 1 GET u4 10"), -1, 15, -16, 8);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bf:i SET i1 100 1 GET i1 100 GET u1 100"), 0, -1, 1);
    redisFree(c);
}

static void test_bitfield_grows_to_highest_write_and_hash_offsets(void **state)
{
    redisContext *c = tk_connect(*state);

    EXPECT_INTS(tk_cmd(c, "BITFIELD bfg:k SET u8 #1000 1"), 0);
    tk_expect_int(tk_cmd(c, "STRLEN bfg:k"), 1001);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bfg:k GET u8 #1000 GET u8 8000 GET u16 #600"), 1, 1, 0);
    /* a write that fails still creates / grows the key, as in Redis */
    EXPECT_INTS(tk_cmd(c, "BITFIELD bfg:new OVERFLOW FAIL INCRBY u8 16 300"), NIL_MARK);
    expect_bin(tk_cmd(c, "GET bfg:new"), "\0\0\0", 3);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bfg:new2 SET u4 0 0"), 0);
    expect_bin(tk_cmd(c, "GET bfg:new2"), "\0", 1);
    /* GETs past the end read zeros and create nothing */
    EXPECT_INTS(tk_cmd(c, "BITFIELD bfg:none GET i64 1000 GET u63 3"), 0, 0);
    tk_expect_int(tk_cmd(c, "EXISTS bfg:none"), 0);
    /* no operations at all: an empty array */
    expect_ints(tk_cmd(c, "BITFIELD bfg:none"), 0, NULL);
    /* integers are fields of their text */
    tk_expect_status(tk_cmd(c, "SET bfg:int 123"), "OK");
    EXPECT_INTS(tk_cmd(c, "BITFIELD bfg:int GET u8 0 SET u8 0 65"), 49, 49);
    tk_expect_str(tk_cmd(c, "GET bfg:int"), "A23");
    redisFree(c);
}

static void test_bitfield_errors(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET u64 0"), RERR_TYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i65 0"), RERR_TYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET I8 0"), RERR_TYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i0 0"), RERR_TYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET x8 0"), RERR_TYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i8 -1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i8 #-1"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i8 4294967296"), RERR_OFFSET);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i8 #536870912"), RERR_OFFSET);
    EXPECT_INTS(tk_cmd(c, "BITFIELD bfe:k GET i8 4294967295 GET i8 #536870911"), 0, 0);
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k GET i8"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k SET i8 0"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k INCRBY i8 0"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k OVERFLOW"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k FOO"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k OVERFLOW FOO GET i8 0"), "ERR Invalid OVERFLOW type specified");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k SET i8 0 abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k SET i8 0 1.5"), "ERR value is not an integer or out of range");
    /* every operation is parsed before any runs: nothing is written */
    tk_expect_error(tk_cmd(c, "BITFIELD bfe:k SET i8 0 1 SET i8 0 abc"),
                    "ERR value is not an integer or out of range");
    tk_expect_int(tk_cmd(c, "EXISTS bfe:k"), 0);
    tk_expect_error(tk_cmd(c, "BITFIELD"), "ERR wrong number of arguments for 'bitfield' command");
    redisFree(c);
}

static void test_bitfield_ro(void **state)
{
    redisContext *c = tk_connect(*state);

    tk_expect_status(tk_cmd(c, "SET bfro:k %b", "\x81\x02\x03", (size_t)3), "OK");
    EXPECT_INTS(tk_cmd(c, "BITFIELD_RO bfro:k GET i8 0 GET u16 3"), -127, 2064);
    EXPECT_INTS(tk_cmd(c, "BITFIELD_RO bfro:k OVERFLOW SAT GET u8 0"), 129);
    expect_ints(tk_cmd(c, "BITFIELD_RO bfro:k"), 0, NULL);
    EXPECT_INTS(tk_cmd(c, "BITFIELD_RO bfro:none GET u8 0"), 0);
    tk_expect_int(tk_cmd(c, "EXISTS bfro:none"), 0);
    tk_expect_error(tk_cmd(c, "BITFIELD_RO bfro:k SET i8 0 1"), "ERR BITFIELD_RO only supports the GET subcommand");
    tk_expect_error(tk_cmd(c, "BITFIELD_RO bfro:k INCRBY i8 0 1"),
                    "ERR BITFIELD_RO only supports the GET subcommand");
    /* parse errors come first */
    tk_expect_error(tk_cmd(c, "BITFIELD_RO bfro:k SET u64 0 1"), RERR_TYPE);
    tk_expect_error(tk_cmd(c, "BITFIELD_RO bfro:k GET u64 0"), RERR_TYPE);
    expect_bin(tk_cmd(c, "GET bfro:k"), "\x81\x02\x03", 3);
    redisFree(c);
}

/* ------------------------------------------------------------------------ */
/* Encoding, counters, RESP3                                                */
/* ------------------------------------------------------------------------ */

static void test_object_encoding_is_raw(void **state)
{
    redisContext *c = tk_connect(*state);

    /* Redis: strings changed in place, and BITOP's result, are raw */
    tk_expect_int(tk_cmd(c, "SETBIT oe:a 7 1"), 0);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING oe:a"), "raw");
    tk_expect_status(tk_cmd(c, "SET oe:b hello"), "OK");
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING oe:b"), "embstr");
    tk_expect_int(tk_cmd(c, "SETBIT oe:b 0 0"), 0);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING oe:b"), "raw");
    tk_expect_int(tk_cmd(c, "BITOP OR oe:c oe:b"), 5);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING oe:c"), "raw");
    EXPECT_INTS(tk_cmd(c, "BITFIELD oe:d SET u8 0 1"), 0);
    tk_expect_str(tk_cmd(c, "OBJECT ENCODING oe:d"), "raw");
    redisReply *r = tk_cmd(c, "TYPE oe:d");
    assert_string_equal(r->str, "string");
    freeReplyObject(r);
    redisFree(c);
}

static void test_reads_count_hits_and_misses(void **state)
{
    redisContext *c = tk_connect(*state);
    long long h0, m0;

    tk_expect_status(tk_cmd(c, "SET hm:k abc"), "OK");
    h0 = tk_info_ll(c, "keyspace_hits");
    m0 = tk_info_ll(c, "keyspace_misses");
    tk_expect_int(tk_cmd(c, "GETBIT hm:k 1"), 1);              /* hit */
    tk_expect_int(tk_cmd(c, "GETBIT hm:none 1"), 0);           /* miss */
    tk_expect_int(tk_cmd(c, "BITCOUNT hm:k"), 10);             /* hit */
    tk_expect_int(tk_cmd(c, "BITPOS hm:none 1"), -1);          /* miss */
    tk_expect_int(tk_cmd(c, "BITOP OR hm:d hm:k hm:none"), 3); /* hit + miss; the destination counts nothing */
    EXPECT_INTS(tk_cmd(c, "BITFIELD hm:k GET u8 0"), 97);      /* hit */
    EXPECT_INTS(tk_cmd(c, "BITFIELD_RO hm:none GET u8 0"), 0); /* miss */
    EXPECT_INTS(tk_cmd(c, "BITFIELD hm:k SET u8 0 1"), 97);    /* a write: nothing */
    tk_expect_int(tk_cmd(c, "SETBIT hm:none2 1 1"), 0);        /* a write: nothing */
    assert_int_equal(tk_info_ll(c, "keyspace_hits") - h0, 4);
    assert_int_equal(tk_info_ll(c, "keyspace_misses") - m0, 4);
    redisFree(c);
}

static void test_resp2_and_resp3_reply_shapes(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[4096];

    tk_raw_expect(fd, "BITFIELD r:k SET u8 0 255 OVERFLOW FAIL INCRBY u8 0 1\r\n", "*2\r\n:0\r\n$-1\r\n");
    tk_raw_expect(fd, "BITFIELD r:k\r\n", "*0\r\n");
    tk_raw_expect(fd, "BITPOS r:k 0\r\n", ":8\r\n");
    tk_raw_send(fd, "HELLO 3\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 10000) > 0);
    tk_raw_expect(fd, "BITFIELD r:k OVERFLOW FAIL INCRBY u8 0 1 GET i8 0\r\n", "*2\r\n_\r\n:-1\r\n");
    tk_raw_expect(fd, "BITFIELD_RO r:k GET u4 0\r\n", "*1\r\n:15\r\n");
    tk_raw_expect(fd, "SETBIT r:k 0 0\r\n", ":1\r\n");
    tk_raw_expect(fd, "GETBIT r:k 0\r\n", ":0\r\n");
    tk_raw_expect(fd, "BITCOUNT r:k\r\n", ":7\r\n");
    tk_raw_expect(fd, "BITOP NOT r:d r:k\r\n", ":1\r\n");
    tk_raw_expect(fd, "GET r:d\r\n", "$1\r\n\x80\r\n");
    close(fd);
}

/* ------------------------------------------------------------------------ */
/* Differential run against a real redis-server                             */
/* ------------------------------------------------------------------------ */

/* Starts a real redis-server through testkit (which starts whatever
 * STRATA_SERVER names). Returns 0, or -1 when there is none. */
static int start_redis_peer(struct tk_server *r)
{
    static const char *const extra[] = { "--save", "", "--appendonly", "no", NULL };
    const char *bin = getenv("REDIS_SERVER");
    char *saved;
    int rc;

    if (!bin || !*bin)
        bin = "/usr/bin/redis-server";
    if (access(bin, X_OK) != 0)
        return -1;
    saved = getenv("STRATA_SERVER") ? strdup(getenv("STRATA_SERVER")) : NULL;
    setenv("STRATA_SERVER", bin, 1);
    rc = tk_server_start(r, extra);
    if (saved) {
        setenv("STRATA_SERVER", saved, 1);
        free(saved);
    }
    return rc;
}

/* 1 when two replies are identical in type and content. */
static int same_reply(const redisReply *a, const redisReply *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case REDIS_REPLY_INTEGER:
        return a->integer == b->integer;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
    case REDIS_REPLY_ARRAY:
        if (a->elements != b->elements)
            return 0;
        for (size_t i = 0; i < a->elements; i++)
            if (!same_reply(a->element[i], b->element[i]))
                return 0;
        return 1;
    default:
        return 1;
    }
}

/* Writes a random bitmap command into argv (strings in buf; at most 20). */
static int random_bit_command(unsigned *seed, char buf[][32], const char **argv)
{
    static const char *keys[] = { "df:a", "df:b", "df:c", "df:int" };
    static const char *units[] = { "BYTE", "BIT", "byte" };
    static const char *ows[] = { "WRAP", "SAT", "FAIL" };
    int n = 0, op = rand_r(seed) % 12;
#define ARG(...) (snprintf(buf[n], 32, __VA_ARGS__), argv[n] = buf[n], n++)
#define KEY() ARG("%s", keys[rand_r(seed) % 4])
#define SMALLOFF() ARG("%d", rand_r(seed) % 200)
#define IDX() ARG("%d", rand_r(seed) % 60 - 30)
    switch (op) {
    case 0:
    case 1:
        ARG("SETBIT"), KEY(), SMALLOFF(), ARG("%d", rand_r(seed) % 2);
        break;
    case 2:
        ARG("GETBIT"), KEY(), SMALLOFF();
        break;
    case 3:
        ARG("BITCOUNT"), KEY();
        if (rand_r(seed) % 3) {
            IDX(), IDX();
            if (rand_r(seed) % 2)
                ARG("%s", units[rand_r(seed) % 3]);
        }
        break;
    case 4:
    case 5:
        ARG("BITPOS"), KEY(), ARG("%d", rand_r(seed) % 2);
        if (rand_r(seed) % 4) {
            IDX();
            if (rand_r(seed) % 2) {
                IDX();
                if (rand_r(seed) % 2)
                    ARG("%s", units[rand_r(seed) % 3]);
            }
        }
        break;
    case 6: {
        static const char *ops[] = { "AND", "OR", "XOR", "NOT" };
        int o = rand_r(seed) % 4;

        ARG("BITOP"), ARG("%s", ops[o]), KEY(), KEY();
        if (o != 3)
            for (int i = rand_r(seed) % 3; i > 0; i--)
                KEY();
        break;
    }
    case 7:
        ARG("SET"), ARG("df:int"), ARG("%d", rand_r(seed) % 100000);
        break;
    default: {
        ARG(rand_r(seed) % 5 ? "BITFIELD" : "BITFIELD_RO"), KEY();
        for (int i = 1 + rand_r(seed) % 3; i > 0 && n < 14; i--) {
            int bits, sign = rand_r(seed) % 2, f = rand_r(seed) % 4;

            bits = sign ? 1 + rand_r(seed) % 64 : 1 + rand_r(seed) % 63;
            if (f == 0)
                ARG("OVERFLOW"), ARG("%s", ows[rand_r(seed) % 3]);
            f = rand_r(seed) % 3;
            ARG(f == 0 ? "GET" : f == 1 ? "SET" : "INCRBY");
            ARG("%c%d", sign ? 'i' : 'u', bits);
            if (rand_r(seed) % 4 == 0)
                ARG("#%d", rand_r(seed) % 20);
            else
                SMALLOFF();
            if (f != 0) {
                long long v = (long long)(((unsigned long long)rand_r(seed) << 33) ^
                                         ((unsigned long long)rand_r(seed) << 2) ^ (unsigned long long)rand_r(seed));

                if (rand_r(seed) % 2)
                    v %= 300;
                ARG("%lld", rand_r(seed) % 2 ? v : -v);
            }
        }
        break;
    }
    }
#undef ARG
#undef KEY
#undef SMALLOFF
#undef IDX
    return n;
}

static void test_random_commands_answer_as_redis(void **state)
{
    struct tk_server peer;
    redisContext *s, *r;
    unsigned seed = 20261121;
    char buf[24][32];
    const char *argv[24];

    if (start_redis_peer(&peer) != 0) {
        print_message("skipped: no redis-server to compare with ($REDIS_SERVER or /usr/bin/redis-server)\n");
        skip();
    }
    s = tk_connect(*state);
    r = tk_connect(&peer);
    tk_expect_int(tk_cmd(s, "DEL df:a df:b df:c df:int"), 0);
    for (int i = 0; i < 20000; i++) {
        int n = random_bit_command(&seed, buf, argv);
        redisReply *a = tk_cmdv(s, n, argv, NULL), *b = tk_cmdv(r, n, argv, NULL);

        if (!same_reply(a, b)) {
            char line[600] = "";

            for (int j = 0; j < n; j++) {
                strncat(line, argv[j], sizeof(line) - strlen(line) - 2);
                strcat(line, " ");
            }
            fprintf(stderr, "command %d: %s\n  strata: type %d int %lld str %.*s\n  redis:  type %d int %lld str %.*s\n",
                    i, line, a->type, a->integer, a->str ? (int)a->len : 0, a->str ? a->str : "", b->type,
                    b->integer, b->str ? (int)b->len : 0, b->str ? b->str : "");
            freeReplyObject(a);
            freeReplyObject(b);
            fail_msg("reply differs from redis-server's");
        }
        freeReplyObject(a);
        freeReplyObject(b);
    }
    /* the final values are byte-identical */
    for (int k = 0; k < 4; k++) {
        static const char *keys[] = { "df:a", "df:b", "df:c", "df:int" };
        redisReply *a = tk_cmd(s, "GET %s", keys[k]), *b = tk_cmd(r, "GET %s", keys[k]);

        assert_true(same_reply(a, b));
        freeReplyObject(a);
        freeReplyObject(b);
    }
    redisFree(s);
    redisFree(r);
    assert_int_equal(tk_server_stop(&peer), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_setbit_returns_old_bit_and_grows_string),
        cmocka_unit_test(test_getbit_reads_bits_and_zero_past_end),
        cmocka_unit_test(test_setbit_getbit_errors),
        cmocka_unit_test(test_setbit_offset_limit_follows_proto_max_bulk_len),
        cmocka_unit_test(test_offset_past_the_entry_ceiling_is_too_big),
        cmocka_unit_test(test_setbit_on_integer_string_uses_its_text),
        cmocka_unit_test(test_setbit_keeps_ttl),
        cmocka_unit_test(test_bit_commands_on_other_types_are_wrongtype),
        cmocka_unit_test(test_bitcount_whole_and_byte_ranges),
        cmocka_unit_test(test_bitcount_bit_ranges),
        cmocka_unit_test(test_bitcount_errors),
        cmocka_unit_test(test_bitcount_large_string),
        cmocka_unit_test(test_bitpos_byte_ranges),
        cmocka_unit_test(test_bitpos_zero_past_the_end_only_without_explicit_end),
        cmocka_unit_test(test_bitpos_bit_ranges),
        cmocka_unit_test(test_bitpos_errors),
        cmocka_unit_test(test_bitop_and_or_xor_not),
        cmocka_unit_test(test_bitop_long_strings_match_bytewise),
        cmocka_unit_test(test_bitop_missing_sources_and_empty_result),
        cmocka_unit_test(test_bitop_errors),
        cmocka_unit_test(test_bitfield_set_get_incrby_unsigned),
        cmocka_unit_test(test_bitfield_signed_and_overflow),
        cmocka_unit_test(test_bitfield_grows_to_highest_write_and_hash_offsets),
        cmocka_unit_test(test_bitfield_errors),
        cmocka_unit_test(test_bitfield_ro),
        cmocka_unit_test(test_object_encoding_is_raw),
        cmocka_unit_test(test_reads_count_hits_and_misses),
        cmocka_unit_test(test_resp2_and_resp3_reply_shapes),
        cmocka_unit_test(test_random_commands_answer_as_redis),
    };

    return cmocka_run_group_tests_name("bitmap", tests, group_setup, group_teardown) ? 1 : 0;
}
