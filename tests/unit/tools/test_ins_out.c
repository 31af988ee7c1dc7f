/*
 * test_ins_out.c -- unit tests for tools/ins_out.c: strata-inspect's output
 * encoders (terminal quoting and its inverse, JSON strings and numbers,
 * base64, RESP, human sizes and times) and the sink's broken-pipe rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/util.h"
#include "tools/ins.h"

/* The bytes an encoder writes for s[0..n), NUL-terminated in buf. */
static const char *quoted(char *buf, size_t cap, const void *s, size_t n, int always)
{
    struct out o;
    out_init_mem(&o);
    out_quoted(&o, s, n, always);
    assert_true(o.mlen < cap);
    memcpy(buf, o.mem, o.mlen);
    buf[o.mlen] = 0;
    out_fini(&o);
    return buf;
}

static const char *json(char *buf, size_t cap, const void *s, size_t n)
{
    struct out o;
    out_init_mem(&o);
    out_json_bytes(&o, s, n);
    assert_true(o.mlen < cap);
    memcpy(buf, o.mem, o.mlen);
    buf[o.mlen] = 0;
    out_fini(&o);
    return buf;
}

static void quoting_leaves_plain_keys_alone(void **state)
{
    char b[256];
    (void)state;
    assert_string_equal(quoted(b, sizeof(b), "user:1000", 9, 0), "user:1000");
    assert_string_equal(quoted(b, sizeof(b), "a-b_c.d/e{f}[g]", 15, 0), "a-b_c.d/e{f}[g]");
    assert_string_equal(quoted(b, sizeof(b), "user:1000", 9, 1), "\"user:1000\"");
}

static void quoting_quotes_what_a_terminal_would_misread(void **state)
{
    char b[256];
    (void)state;
    assert_string_equal(quoted(b, sizeof(b), "", 0, 0), "\"\"");
    assert_string_equal(quoted(b, sizeof(b), "a b", 3, 0), "\"a b\"");
    assert_string_equal(quoted(b, sizeof(b), "say \"hi\"", 8, 0), "\"say \\\"hi\\\"\"");
    assert_string_equal(quoted(b, sizeof(b), "it's", 4, 0), "\"it's\"");
    assert_string_equal(quoted(b, sizeof(b), "a\\b", 3, 0), "\"a\\\\b\"");
    assert_string_equal(quoted(b, sizeof(b), "\n\r\t\a\b", 5, 0), "\"\\n\\r\\t\\a\\b\"");
    assert_string_equal(quoted(b, sizeof(b), "\x00\x1b[2J\x7f\xff", 7, 0), "\"\\x00\\x1b[2J\\x7f\\xff\"");
    assert_string_equal(quoted(b, sizeof(b), "h\xc3\xa9", 3, 0), "\"h\\xc3\\xa9\"");
}

static void unquote_inverts_quoting_for_every_byte(void **state)
{
    char b[64], back[64];
    struct util_rng r;
    (void)state;
    for (int c = 0; c < 256; c++) {
        unsigned char s[3] = {'x', (unsigned char)c, 'y'};
        quoted(b, sizeof(b), s, 3, c & 1);
        long n = ins_unquote(b, strlen(b), back);
        assert_int_equal(n, 3);
        assert_memory_equal(back, s, 3);
    }
    util_rng_seed(&r, 7);
    for (int i = 0; i < 2000; i++) {
        unsigned char s[12];
        size_t n = util_rng_next(&r) % sizeof(s);
        char q[64];
        for (size_t j = 0; j < n; j++)
            s[j] = (unsigned char)util_rng_next(&r);
        quoted(q, sizeof(q), s, n, 0);
        long m = ins_unquote(q, strlen(q), back);
        assert_int_equal(m, (long)n);
        assert_memory_equal(back, s, n);
    }
}

static void unquote_refuses_malformed_input(void **state)
{
    char back[64];
    (void)state;
    assert_int_equal(ins_unquote("\"a\\\"", 4, back), -1);  /* escape at the end */
    assert_int_equal(ins_unquote("\"\\x4\"", 5, back), -1); /* one hex digit */
    assert_int_equal(ins_unquote("\"\\q\"", 4, back), -1);  /* unknown escape */
    assert_int_equal(ins_unquote("\"a\"b\"", 5, back), -1); /* bare quote inside */
    assert_int_equal(ins_unquote("plain", 5, back), 5);     /* not quoted: as it is */
    assert_memory_equal(back, "plain", 5);
}

static void json_strings_escape_and_keep_utf8(void **state)
{
    char b[256];
    (void)state;
    assert_string_equal(json(b, sizeof(b), "hello", 5), "\"hello\"");
    assert_string_equal(json(b, sizeof(b), "a\"b\\c\n\t\x01\x7f", 9), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\"");
    assert_string_equal(json(b, sizeof(b), "caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80", 14),
                        "\"caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80\"");
    assert_string_equal(json(b, sizeof(b), "", 0), "\"\"");
}

static void json_bytes_that_are_not_utf8_are_base64(void **state)
{
    char b[256];
    (void)state;
    assert_string_equal(json(b, sizeof(b), "\xff", 1), "{\"base64\":\"/w==\"}");
    assert_string_equal(json(b, sizeof(b), "\x00\xff\x10", 3), "{\"base64\":\"AP8Q\"}");
    assert_string_equal(json(b, sizeof(b), "ab\xc3", 3), "{\"base64\":\"YWLD\"}");          /* cut sequence */
    assert_string_equal(json(b, sizeof(b), "\xc0\xaf", 2), "{\"base64\":\"wK8=\"}");        /* overlong */
    assert_string_equal(json(b, sizeof(b), "\xed\xa0\x80", 3), "{\"base64\":\"7aCA\"}");    /* a surrogate */
    assert_string_equal(json(b, sizeof(b), "\xf4\x90\x80\x80", 4), "{\"base64\":\"9JCAgA==\"}"); /* > U+10FFFF */
    assert_true(ins_utf8_valid((const unsigned char *)"\xf4\x8f\xbf\xbf", 4));
}

static void json_doubles_round_trip(void **state)
{
    struct out o;
    (void)state;
    out_init_mem(&o);
    out_json_double(&o, 1.5);
    out_write(&o, " ", 1);
    out_json_double(&o, 0.1);
    out_write(&o, " ", 1);
    out_json_double(&o, -0.0);
    out_write(&o, " ", 1);
    out_json_double(&o, INFINITY);
    out_write(&o, " ", 1);
    out_json_double(&o, -INFINITY);
    out_write(&o, "", 1);
    assert_string_equal((char *)o.mem, "1.5 0.10000000000000001 0 \"inf\" \"-inf\"");
    out_fini(&o);
}

static void resp_commands_are_length_prefixed(void **state)
{
    struct out o;
    (void)state;
    out_init_mem(&o);
    out_resp_array(&o, 3);
    out_resp_bulk_str(&o, "SET");
    out_resp_bulk(&o, "k\r\n", 3);
    out_resp_bulk_ll(&o, -42);
    out_write(&o, "", 1);
    assert_string_equal((char *)o.mem, "*3\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$3\r\n-42\r\n");
    out_fini(&o);
}

static void human_sizes_times_and_durations(void **state)
{
    char b[64];
    (void)state;
    ins_fmt_bytes(b, sizeof(b), 512);
    assert_string_equal(b, "512 B");
    ins_fmt_bytes(b, sizeof(b), 1536);
    assert_string_equal(b, "1.50 KiB");
    ins_fmt_bytes(b, sizeof(b), 5ull << 30);
    assert_string_equal(b, "5.00 GiB");
    ins_fmt_time(b, sizeof(b), 1700000000123ll);
    assert_string_equal(b, "2023-11-14 22:13:20.123 UTC");
    ins_fmt_dur(b, sizeof(b), 90061000);
    assert_string_equal(b, "1d 1h");
    ins_fmt_dur(b, sizeof(b), -1500);
    assert_string_equal(b, "-1.5 s");
}

static void a_broken_sink_writes_nothing_more(void **state)
{
    FILE *f = tmpfile();
    struct out o;
    (void)state;
    assert_non_null(f);
    out_init_file(&o, f);
    out_str(&o, "abc");
    assert_true(out_ok(&o));
    o.broken = EPIPE; /* what a failed fwrite to a closed pipe leaves */
    out_str(&o, "def");
    out_printf(&o, "%d", 42);
    out_flush(&o);
    assert_false(out_ok(&o));
    fflush(f);
    assert_int_equal(ftell(f), 3);
    fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoting_leaves_plain_keys_alone),
        cmocka_unit_test(quoting_quotes_what_a_terminal_would_misread),
        cmocka_unit_test(unquote_inverts_quoting_for_every_byte),
        cmocka_unit_test(unquote_refuses_malformed_input),
        cmocka_unit_test(json_strings_escape_and_keep_utf8),
        cmocka_unit_test(json_bytes_that_are_not_utf8_are_base64),
        cmocka_unit_test(json_doubles_round_trip),
        cmocka_unit_test(resp_commands_are_length_prefixed),
        cmocka_unit_test(human_sizes_times_and_durations),
        cmocka_unit_test(a_broken_sink_writes_nothing_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
