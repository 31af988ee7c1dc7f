/*
 * test_cmd_docs.c -- unit tests for the syntax-string parser of server/cmd_docs.c
 * (the argument trees COMMAND DOCS reports) and the ACL-category derivation.
 *
 * Trees are compared through cmd_docs_format's compact rendering:
 * `name:type[=TOKEN][?][*][+][(children)]`, ? optional, * multiple,
 * + multiple_token. The expected trees follow Redis 7.0's COMMAND DOCS where
 * the syntax string carries the information (names of oneof/blocks that Redis
 * invents, like SET's "condition", are not in a synopsis and are derived).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "server/cmd.h"
#include "server/cmd_docs.h"

/* Parses syntax and checks its rendering equals expect. */
static void expect_tree(const char *syntax, const char *expect)
{
    struct cmd_docs_arg *args = NULL;
    int n = -1;
    char buf[2048];

    int rc = cmd_docs_parse(syntax, &args, &n);
    if (rc != 0)
        fail_msg("parse of \"%s\" failed: %d", syntax, rc);
    size_t len = cmd_docs_format(args, n, buf, sizeof(buf));
    assert_true(len < sizeof(buf));
    if (strcmp(buf, expect) != 0)
        fail_msg("syntax \"%s\"\n  got    %s\n  expect %s", syntax, buf, expect);
    cmd_docs_free(&args, n);
    assert_null(args);
}

static void expect_invalid(const char *syntax)
{
    struct cmd_docs_arg *args = (struct cmd_docs_arg *)&args; /* must be reset */
    int n = -1;

    int rc = cmd_docs_parse(syntax, &args, &n);
    if (rc != ST_EINVAL)
        fail_msg("syntax \"%s\": expected ST_EINVAL, got %d", syntax, rc);
    assert_null(args);
    assert_int_equal(n, 0);
}

static void test_empty_and_null_have_no_arguments(void **state)
{
    (void)state;
    struct cmd_docs_arg *args = NULL;
    int n = -1;

    assert_int_equal(cmd_docs_parse(NULL, &args, &n), 0);
    assert_null(args);
    assert_int_equal(n, 0);
    assert_int_equal(cmd_docs_parse("", &args, &n), 0);
    assert_null(args);
    assert_int_equal(n, 0);
    assert_int_equal(cmd_docs_parse("   ", &args, &n), 0);
    assert_int_equal(n, 0);
}

static void test_types_are_inferred_from_names(void **state)
{
    (void)state;
    expect_tree("key", "key:key");
    expect_tree("destination source newkey", "destination:key source:key newkey:key");
    expect_tree("key seconds milliseconds count db index offset start end increment decrement cursor timeout",
                "key:key seconds:integer milliseconds:integer count:integer db:integer index:integer "
                "offset:integer start:integer end:integer increment:integer decrement:integer "
                "cursor:integer timeout:integer");
    expect_tree("pattern unix-time-seconds unix-time-milliseconds score value",
                "pattern:pattern unix-time-seconds:unix-time unix-time-milliseconds:unix-time "
                "score:double value:string");
    expect_tree("destination-db client-id message", "destination-db:integer client-id:integer message:string");
    /* numbered names take their base name's type */
    expect_tree("index1 index2 key2 arg1", "index1:integer index2:integer key2:key arg1:string");
}

static void test_uppercase_words_are_pure_tokens(void **state)
{
    (void)state;
    expect_tree("GET", "get:pure-token=GET");
    expect_tree("[WITHSCORES]", "withscores:pure-token=WITHSCORES?");
    expect_tree("<* | id>", "*-id:oneof(*:pure-token=* id:string)");
    expect_tree("[= | ~]", "=-~:oneof?(=:pure-token== ~:pure-token=~)");
    expect_tree("<key | \"\">", "key-\"\":oneof(key:key \"\":pure-token=)");
}

/* The SET synopsis: the shape of Redis 7.0's COMMAND DOCS SET. */
static void test_set_synopsis(void **state)
{
    (void)state;
    expect_tree("key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | "
                "PXAT unix-time-milliseconds | KEEPTTL]",
                "key:key value:string nx-xx:oneof?(nx:pure-token=NX xx:pure-token=XX) get:pure-token=GET? "
                "seconds-milliseconds-unix-time-seconds-unix-time-milliseconds-keepttl:oneof?("
                "seconds:integer=EX milliseconds:integer=PX unix-time-seconds:unix-time=EXAT "
                "unix-time-milliseconds:unix-time=PXAT keepttl:pure-token=KEEPTTL)");
}

static void test_repetition(void **state)
{
    (void)state;
    expect_tree("key [key ...]", "key:key*");
    expect_tree("key...", "key:key*");
    expect_tree("key ...", "key:key*");
    expect_tree("[section [section ...]]", "section:string?*");
    /* a repeated pair becomes a multiple block */
    expect_tree("key field value [field value ...]", "key:key field:block*(field:string value:string)");
    /* the token is repeated: multiple_token */
    expect_tree("[GET pattern [GET pattern ...]]", "pattern:pattern=GET?*+");
    /* the token is given once: multiple only */
    expect_tree("[KEYS key [key ...]]", "key:key=KEYS?*");
    expect_tree("numkeys key [key ...] [WEIGHTS weight [weight ...]]",
                "numkeys:integer key:key* weight:string=WEIGHTS?*");
    /* a repetition group that does not repeat what precedes it */
    expect_tree("[arg ...]", "arg:string?*");
}

static void test_token_groups_merge_or_block(void **state)
{
    (void)state;
    expect_tree("[EX seconds]", "seconds:integer=EX?");
    expect_tree("[LIMIT offset count]", "limit:block=LIMIT?(offset:integer count:integer)");
    expect_tree("[COUNT count [ANY]]", "count:block=COUNT?(count:integer any:pure-token=ANY?)");
    expect_tree("[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
                "module-name-category-pattern:oneof=FILTERBY?(module-name:string=MODULE "
                "category:string=ACLCAT pattern:pattern=PATTERN)");
    /* top level: a token folds into the argument after it */
    expect_tree("[COUNT count] STREAMS key [key ...] id [id ...]",
                "count:integer=COUNT? key:key=STREAMS* id:string*");
    expect_tree("[AUTH password | AUTH2 username password]",
                "password-auth2:oneof?(password:string=AUTH auth2:block=AUTH2(username:string "
                "password:string))");
}

static void test_nested_groups(void **state)
{
    (void)state;
    expect_tree("key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value "
                "[field value ...]",
                "key:key nomkstream:pure-token=NOMKSTREAM? maxlen-minid:block?(maxlen-minid:oneof("
                "maxlen:pure-token=MAXLEN minid:pure-token=MINID) =-~:oneof?(=:pure-token== "
                "~:pure-token=~) threshold:string count:integer=LIMIT?) *-id:oneof(*:pure-token=* "
                "id:string) field:block*(field:string value:string)");
    expect_tree("[protover [AUTH username password] [SETNAME clientname]]",
                "protover:block?(protover:string auth:block=AUTH?(username:string password:string) "
                "clientname:string=SETNAME?)");
    expect_tree("(a | b)", "a-b:oneof(a:string b:string)");
}

static void test_malformed_syntax_is_rejected(void **state)
{
    (void)state;
    expect_invalid("[");
    expect_invalid("key ]");
    expect_invalid("[key>");
    expect_invalid("<key");
    expect_invalid("|");
    expect_invalid("a |");
    expect_invalid("[a |]");
    expect_invalid("[| a]");
    expect_invalid("[]");
    expect_invalid("...");
    expect_invalid("[...]");
    expect_invalid("\"unterminated");
    /* nesting is bounded (no stack exhaustion on a hostile string) */
    char deep[200];
    memset(deep, '[', 60);
    deep[60] = 'a';
    memset(deep + 61, ']', 60);
    deep[121] = '\0';
    expect_invalid(deep);
}

static void test_format_reports_needed_length(void **state)
{
    (void)state;
    struct cmd_docs_arg *args = NULL;
    int n = 0;
    char small[8];

    assert_int_equal(cmd_docs_parse("key value", &args, &n), 0);
    size_t need = cmd_docs_format(args, n, small, sizeof(small));
    assert_int_equal(need, strlen("key:key value:string"));
    assert_int_equal(strlen(small), sizeof(small) - 1); /* truncated, still terminated */
    cmd_docs_free(&args, n);
}

/* Every syntax string of every registered command parses: COMMAND DOCS would
 * otherwise omit that command's arguments. */
static void check_table(const struct cmd_def *defs, const char *parent)
{
    for (const struct cmd_def *d = defs; d->name; d++) {
        struct cmd_docs_arg *args = NULL;
        int n = 0;
        int rc = cmd_docs_parse(d->syntax, &args, &n);
        if (rc != 0)
            fail_msg("%s%s%s: syntax \"%s\" does not parse (%d)", parent ? parent : "", parent ? "|" : "",
                     d->name, d->syntax, rc);
        cmd_docs_free(&args, n);
        if (d->subcmds)
            check_table(d->subcmds, d->name);
    }
}

static void test_every_registered_syntax_parses(void **state)
{
    (void)state;
    check_table(cmds_conn, NULL);
    check_table(cmds_server, NULL);
    check_table(cmds_string, NULL);
    check_table(cmds_keys, NULL);
}

static void test_categories_follow_flags_and_group(void **state)
{
    (void)state;
    struct cmd_def get = {"get", NULL, 2, CMD_READONLY | CMD_FAST, 1, 1, 1, "string", NULL, NULL, NULL, NULL, NULL};
    struct cmd_def cfg = {"get", NULL, -3, CMD_ADMIN | CMD_NOSCRIPT, 0, 0, 0, "server", NULL, NULL, NULL, NULL, NULL};
    struct cmd_def del = {"del", NULL, -2, CMD_WRITE, 1, -1, 1, "generic", NULL, NULL, NULL, NULL, NULL};
    struct cmd_entry e;
    char buf[256];

    memset(&e, 0, sizeof(e));
    e.def = &get;
    uint32_t cats = cmd_docs_categories(&e);
    buf[0] = '\0';
    for (int i = 0; cmd_docs_category_name(i); i++)
        if ((cats >> i) & 1) {
            strcat(buf, "@");
            strcat(buf, cmd_docs_category_name(i));
            strcat(buf, " ");
        }
    assert_string_equal(buf, "@read @string @fast "); /* Redis's COMMAND INFO GET */

    e.def = &cfg;
    cats = cmd_docs_categories(&e);
    buf[0] = '\0';
    for (int i = 0; cmd_docs_category_name(i); i++)
        if ((cats >> i) & 1) {
            strcat(buf, "@");
            strcat(buf, cmd_docs_category_name(i));
            strcat(buf, " ");
        }
    assert_string_equal(buf, "@admin @slow @dangerous "); /* Redis's COMMAND INFO CONFIG|GET */

    e.def = &del;
    cats = cmd_docs_categories(&e);
    assert_true((cats >> cmd_docs_category_find("keyspace", 8)) & 1);
    assert_true((cats >> cmd_docs_category_find("@WRITE", 6)) & 1);
    assert_true((cats >> cmd_docs_category_find("slow", 4)) & 1);
    assert_int_equal(cmd_docs_category_find("nosuch", 6), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_null_have_no_arguments),
        cmocka_unit_test(test_types_are_inferred_from_names),
        cmocka_unit_test(test_uppercase_words_are_pure_tokens),
        cmocka_unit_test(test_set_synopsis),
        cmocka_unit_test(test_repetition),
        cmocka_unit_test(test_token_groups_merge_or_block),
        cmocka_unit_test(test_nested_groups),
        cmocka_unit_test(test_malformed_syntax_is_rejected),
        cmocka_unit_test(test_format_reports_needed_length),
        cmocka_unit_test(test_every_registered_syntax_parses),
        cmocka_unit_test(test_categories_follow_flags_and_group),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
