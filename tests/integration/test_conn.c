/*
 * test_conn.c -- integration tests of the connection commands (server/cmd_conn.c):
 * PING ECHO HELLO AUTH SELECT QUIT RESET and CLIENT ID/SETNAME/GETNAME/LIST/
 * INFO/KILL/SETINFO/NO-EVICT/NO-TOUCH/HELP, against a real strata-server.
 *
 * Two servers: one with `--threads 2` and no password (most tests; clients
 * land on both workers by round robin, so CLIENT LIST / KILL cross workers),
 * one with `--requirepass` for the AUTH flows. hiredis (0.14, RESP2 only)
 * drives the RESP2 tests; raw sockets check RESP3 shapes byte for byte.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testkit.h"

#define PASS "s3cret-pass"

/* ---- helpers ------------------------------------------------------------- */

/* Sends argv (NULL-terminated) as a RESP array on a raw socket. */
static void raw_send_argv(int fd, const char *const *argv)
{
    char buf[4096];
    size_t n = 0;
    int argc = 0;

    while (argv[argc] != NULL)
        argc++;
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    assert_true(n < sizeof(buf));
    assert_int_equal(tk_raw_send(fd, buf, n), 0);
}

/* Sends argv and reads one reply into buf. */
static void raw_cmd(int fd, const char *const *argv, char *buf, size_t cap)
{
    raw_send_argv(fd, argv);
    long n = tk_raw_reply(fd, buf, cap, 5000);
    if (n <= 0)
        fail_msg("no reply to %s (%ld)", argv[0], n);
}

/* The client id of a raw connection (CLIENT ID in RESP2 or RESP3). */
static long long raw_client_id(int fd)
{
    char buf[64];
    tk_raw_send(fd, "CLIENT ID\r\n", 11);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 5000) > 0);
    assert_int_equal(buf[0], ':');
    return atoll(buf + 1);
}

/* The client id of a hiredis connection. */
static long long client_id(redisContext *c)
{
    redisReply *r = tk_cmd(c, "CLIENT ID");
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long id = r->integer;
    freeReplyObject(r);
    assert_true(id > 0);
    return id;
}

/* "127.0.0.1:port" of our end of fd (the server's view of the peer). */
static void sock_local_addr(int fd, char *out, size_t cap)
{
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    char ip[INET_ADDRSTRLEN];
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip));
    snprintf(out, cap, "%s:%d", ip, ntohs(sa.sin_port));
}

/* CLIENT LIST [args] over hiredis; returns the malloc'd text. */
static char *client_list(redisContext *c, const char *fmt)
{
    redisReply *r = tk_cmd(c, fmt);
    if (r->type != REDIS_REPLY_STRING)
        fail_msg("%s: expected a bulk string, got type %d (%s)", fmt, r->type,
                 r->type == REDIS_REPLY_ERROR ? r->str : "");
    char *s = strdup(r->str);
    freeReplyObject(r);
    return s;
}

/* The line of list (without "\n") whose id is id, malloc'd; NULL if absent. */
static char *list_line(const char *list, long long id)
{
    char key[40];
    int klen = snprintf(key, sizeof(key), "id=%lld ", id);
    for (const char *p = list; *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (strncmp(p, key, (size_t)klen) == 0)
            return strndup(p, len);
        p += len + (e != NULL);
    }
    return NULL;
}

/* The value of field in a CLIENT LIST line, malloc'd; NULL if absent. */
static char *line_field(const char *line, const char *field)
{
    size_t flen = strlen(field);
    for (const char *p = line; p != NULL && *p != '\0';) {
        if (strncmp(p, field, flen) == 0 && p[flen] == '=') {
            const char *v = p + flen + 1;
            return strndup(v, strcspn(v, " \n"));
        }
        p = strchr(p, ' ');
        if (p != NULL)
            p++;
    }
    return NULL;
}

static void expect_field(const char *line, const char *field, const char *value)
{
    char *v = line_field(line, field);
    if (v == NULL)
        fail_msg("no field %s in \"%s\"", field, line);
    if (strcmp(v, value) != 0)
        fail_msg("field %s is \"%s\", expected \"%s\" in \"%s\"", field, v, value, line);
    free(v);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static const char *const list_fields[] = {
    "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
    "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events",
    "cmd", "user", "redir", "resp", "lib-name", "lib-ver", NULL,
};

/* Checks that line has exactly Redis 7.2's fields, in order. */
static void expect_field_order(const char *line)
{
    const char *p = line;
    for (int i = 0; list_fields[i] != NULL; i++) {
        size_t flen = strlen(list_fields[i]);
        if (strncmp(p, list_fields[i], flen) != 0 || p[flen] != '=')
            fail_msg("field %d should be %s in \"%s\"", i, list_fields[i], line);
        p = strchr(p, ' ');
        if (list_fields[i + 1] == NULL) {
            assert_null(p);
            break;
        }
        assert_non_null(p);
        p++;
    }
}

/* ---- the plain server (--threads 2) ------------------------------------- */

static int plain_setup(void **state)
{
    static struct tk_server s;
    static const char *const extra[] = { "--threads", "2", NULL };
    if (tk_server_start(&s, extra) != 0)
        return -1;
    *state = &s;
    return 0;
}

static int server_teardown(void **state)
{
    struct tk_server *s = *state;
    return tk_server_stop(s) == 0 ? 0 : -1;
}

static void test_ping_replies_pong_or_message(void **state)
{
    redisContext *c = tk_connect(*state);
    tk_expect_status(tk_cmd(c, "PING"), "PONG");
    tk_expect_str(tk_cmd(c, "PING %s", "hello world"), "hello world");
    tk_expect_error(tk_cmd(c, "PING a b"), "ERR wrong number of arguments for 'ping' command");
    redisFree(c);
}

static void test_echo_returns_argument(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r = tk_cmd(c, "ECHO %b", "a\0b", (size_t)3);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(r->len, 3);
    assert_memory_equal(r->str, "a\0b", 3);
    freeReplyObject(r);
    tk_expect_str(tk_cmd(c, "ECHO %s", ""), "");
    tk_expect_error(tk_cmd(c, "ECHO"), "ERR wrong number of arguments for 'echo' command");
    tk_expect_error(tk_cmd(c, "ECHO a b"), "ERR wrong number of arguments for 'echo' command");
    redisFree(c);
}

static void test_select_changes_db_and_checks_range(void **state)
{
    redisContext *c = tk_connect(*state);
    long long id = client_id(c);
    tk_expect_status(tk_cmd(c, "SELECT 15"), "OK");
    char *list = client_list(c, "CLIENT LIST");
    char *line = list_line(list, id);
    assert_non_null(line);
    expect_field(line, "db", "15");
    free(line);
    free(list);
    tk_expect_error(tk_cmd(c, "SELECT 16"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c, "SELECT -1"), "ERR DB index is out of range");
    tk_expect_error(tk_cmd(c, "SELECT abc"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SELECT 1.5"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SELECT 99999999999"),
                    "ERR value is out of range, value must between -2147483648 and 2147483647");
    tk_expect_error(tk_cmd(c, "SELECT 99999999999999999999"), "ERR value is not an integer or out of range");
    tk_expect_error(tk_cmd(c, "SELECT"), "ERR wrong number of arguments for 'select' command");
    tk_expect_status(tk_cmd(c, "SELECT 0"), "OK");
    redisFree(c);
}

static void test_quit_replies_ok_then_closes(void **state)
{
    int fd = tk_raw_connect(*state);
    tk_raw_expect(fd, "QUIT\r\n", "+OK\r\n");
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);

    /* Pipelined: nothing after QUIT is executed. */
    fd = tk_raw_connect(*state);
    static const char pipe[] = "PING\r\nQUIT\r\nPING\r\n";
    assert_int_equal(tk_raw_send(fd, pipe, sizeof(pipe) - 1), 0);
    char buf[64];
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_string_equal(buf, "+PONG\r\n");
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_string_equal(buf, "+OK\r\n");
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);
}

static void test_hello3_map_shape(void **state)
{
    int fd = tk_raw_connect(*state);
    long long id = raw_client_id(fd);
    char expect[512], buf[16384];
    snprintf(expect, sizeof(expect),
             "%%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
             "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:%lld\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
             "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
             id);
    tk_raw_expect(fd, "HELLO 3\r\n", expect);

    /* RESP3 shapes of the other commands. */
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    tk_raw_expect(fd, "PING hi\r\n", "$2\r\nhi\r\n");
    tk_raw_expect(fd, "ECHO x\r\n", "$1\r\nx\r\n");
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "_\r\n");
    tk_raw_expect(fd, "CLIENT SETNAME r3\r\n", "+OK\r\n");
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$2\r\nr3\r\n");
    snprintf(expect, sizeof(expect), ":%lld\r\n", id);
    tk_raw_expect(fd, "CLIENT ID\r\n", expect);

    /* CLIENT LIST and CLIENT INFO are verbatim strings in RESP3. */
    tk_raw_send(fd, "CLIENT INFO\r\n", 13);
    long n = tk_raw_reply(fd, buf, sizeof(buf), 3000);
    assert_true(n > 0);
    assert_int_equal(buf[0], '=');
    char *crlf = strstr(buf, "\r\n");
    assert_non_null(crlf);
    long vlen = atol(buf + 1);
    assert_memory_equal(crlf + 2, "txt:", 4);
    assert_int_equal((long)(n - (crlf + 2 - buf) - 2), vlen);
    assert_memory_equal(buf + n - 3, "\n\r\n", 3);
    char *line = strndup(crlf + 6, (size_t)(vlen - 4 - 1));
    expect_field_order(line);
    expect_field(line, "resp", "3");
    expect_field(line, "name", "r3");
    expect_field(line, "cmd", "client|info");
    free(line);

    tk_raw_send(fd, "CLIENT LIST\r\n", 13);
    n = tk_raw_reply(fd, buf, sizeof(buf), 3000);
    assert_true(n > 0);
    assert_memory_equal(buf, "=", 1);
    assert_non_null(strstr(buf, "\r\ntxt:id="));

    /* HELLO with no version keeps the protocol; HELLO 2 goes back. */
    snprintf(expect, sizeof(expect),
             "%%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
             "$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:%lld\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
             "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
             id);
    tk_raw_expect(fd, "HELLO\r\n", expect);
    snprintf(expect, sizeof(expect),
             "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
             "$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:%lld\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
             "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
             id);
    tk_raw_expect(fd, "HELLO 2\r\n", expect);
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$2\r\nr3\r\n");
    tk_raw_expect(fd, "CLIENT SETNAME \"\"\r\n", "+OK\r\n");
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$-1\r\n");
    close(fd);
}

static void test_hello_errors_and_options(void **state)
{
    int fd = tk_raw_connect(*state);
    long long id = raw_client_id(fd);
    char buf[1024];

    tk_raw_expect(fd, "HELLO 4\r\n", "-NOPROTO unsupported protocol version\r\n");
    tk_raw_expect(fd, "HELLO 1\r\n", "-NOPROTO unsupported protocol version\r\n");
    tk_raw_expect(fd, "HELLO abc\r\n", "-ERR Protocol version is not an integer or out of range\r\n");
    tk_raw_expect(fd, "HELLO 3 FOO\r\n", "-ERR Syntax error in HELLO option 'FOO'\r\n");
    tk_raw_expect(fd, "HELLO 3 AUTH default\r\n", "-ERR Syntax error in HELLO option 'AUTH'\r\n");
    tk_raw_expect(fd, "HELLO 3 SETNAME\r\n", "-ERR Syntax error in HELLO option 'SETNAME'\r\n");
    tk_raw_expect(fd, "HELLO 3 AUTH bob pw\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "HELLO 3 SETNAME \"a b\"\r\n",
                  "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    /* None of the failed calls switched the protocol. */
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$-1\r\n");

    /* No requirepass: the default user takes any password. */
    static const char *const hello[] = { "HELLO", "3", "AUTH", "default", "whatever", "SETNAME", "via-hello",
                                         NULL };
    raw_cmd(fd, hello, buf, sizeof(buf));
    assert_memory_equal(buf, "%7\r\n", 4);
    char idfield[64];
    snprintf(idfield, sizeof(idfield), "$2\r\nid\r\n:%lld\r\n", id);
    assert_non_null(strstr(buf, idfield));
    assert_non_null(strstr(buf, "$5\r\nproto\r\n:3\r\n"));
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$9\r\nvia-hello\r\n");
    close(fd);

    /* HELLO 2 over hiredis: a flat array of 14. */
    redisContext *c = tk_connect(*state);
    redisReply *r = tk_cmd(c, "HELLO 2");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 14);
    static const char *const keys[] = { "server", "version", "proto", "id", "mode", "role", "modules" };
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r->element[2 * i]->type, REDIS_REPLY_STRING);
        assert_string_equal(r->element[2 * i]->str, keys[i]);
    }
    assert_int_equal(r->element[5]->integer, 2);
    assert_int_equal(r->element[7]->integer, client_id(c));
    assert_int_equal(r->element[13]->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->element[13]->elements, 0);
    freeReplyObject(r);
    redisFree(c);
}

static void test_auth_without_requirepass(void **state)
{
    redisContext *c = tk_connect(*state);
    tk_expect_error(tk_cmd(c, "AUTH foo"),
                    "ERR AUTH <password> called without any password configured for the default user. "
                    "Are you sure your configuration is correct?");
    tk_expect_status(tk_cmd(c, "AUTH default foo"), "OK");
    tk_expect_error(tk_cmd(c, "AUTH bob foo"), "WRONGPASS invalid username-password pair or user is disabled.");
    tk_expect_error(tk_cmd(c, "AUTH Default foo"), "WRONGPASS");
    tk_expect_error(tk_cmd(c, "AUTH a b c"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "AUTH"), "ERR wrong number of arguments for 'auth' command");
    tk_expect_status(tk_cmd(c, "PING"), "PONG");
    redisFree(c);
}

static void test_reset_restores_session_defaults(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[2048];
    long long id = raw_client_id(fd);

    tk_raw_expect(fd, "SELECT 3\r\n", "+OK\r\n");
    tk_raw_expect(fd, "CLIENT SETNAME before-reset\r\n", "+OK\r\n");
    tk_raw_expect(fd, "CLIENT SETINFO LIB-NAME mylib\r\n", "+OK\r\n");
    tk_raw_expect(fd, "CLIENT NO-EVICT on\r\n", "+OK\r\n");
    tk_raw_expect(fd, "CLIENT NO-TOUCH on\r\n", "+OK\r\n");
    tk_raw_send(fd, "HELLO 3\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "%7", 2);

    tk_raw_expect(fd, "RESET\r\n", "+RESET\r\n");
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$-1\r\n"); /* RESP2 null again */

    tk_raw_send(fd, "CLIENT INFO\r\n", 13);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_int_equal(buf[0], '$');
    char *line = strstr(buf, "\r\n") + 2;
    char idv[32];
    snprintf(idv, sizeof(idv), "%lld", id);
    expect_field(line, "id", idv);
    expect_field(line, "db", "0");
    expect_field(line, "resp", "2");
    expect_field(line, "name", "");
    expect_field(line, "flags", "N");
    expect_field(line, "lib-name", "mylib"); /* kept, as Redis */
    tk_raw_expect(fd, "RESET extra\r\n", "-ERR wrong number of arguments for 'reset' command\r\n");
    close(fd);
}

static void test_client_id_is_unique(void **state)
{
    redisContext *a = tk_connect(*state), *b = tk_connect(*state);
    long long ia = client_id(a), ib = client_id(b);
    assert_true(ia != ib);
    assert_int_equal(client_id(a), ia);
    tk_expect_error(tk_cmd(a, "CLIENT ID x"), "ERR wrong number of arguments for 'client|id' command");
    redisFree(a);
    redisFree(b);
}

static void test_client_setname_rules(void **state)
{
    redisContext *c = tk_connect(*state);
    tk_expect_nil(tk_cmd(c, "CLIENT GETNAME"));
    tk_expect_status(tk_cmd(c, "CLIENT SETNAME %s", "my-conn_1"), "OK");
    tk_expect_str(tk_cmd(c, "CLIENT GETNAME"), "my-conn_1");
    const char *bad[] = { "a b", "a\nb", "a\tb", "caf\xc3\xa9", "x\r" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        tk_expect_error(tk_cmd(c, "CLIENT SETNAME %s", bad[i]),
                        "ERR Client names cannot contain spaces, newlines or special characters.");
    tk_expect_str(tk_cmd(c, "CLIENT GETNAME"), "my-conn_1");
    tk_expect_status(tk_cmd(c, "CLIENT SETNAME %s", ""), "OK");
    tk_expect_nil(tk_cmd(c, "CLIENT GETNAME"));
    tk_expect_error(tk_cmd(c, "CLIENT SETNAME"), "ERR wrong number of arguments for 'client|setname' command");
    tk_expect_error(tk_cmd(c, "CLIENT SETNAME a b"), "ERR wrong number of arguments for 'client|setname' command");
    redisFree(c);
}

/* Several connections spread over both workers; every connection's CLIENT
 * LIST shows all of them with their names and correct fields. */
static void test_client_list_spans_workers(void **state)
{
    enum { N = 6 };
    redisContext *c[N];
    long long id[N];
    char name[N][32], addr[N][64];

    for (int i = 0; i < N; i++) {
        c[i] = tk_connect(*state);
        id[i] = client_id(c[i]);
        snprintf(name[i], sizeof(name[i]), "conn-%d", i);
        tk_expect_status(tk_cmd(c[i], "CLIENT SETNAME %s", name[i]), "OK");
        sock_local_addr(c[i]->fd, addr[i], sizeof(addr[i]));
    }
    tk_expect_status(tk_cmd(c[1], "SELECT 5"), "OK");

    for (int me = 0; me < N; me++) {
        char *list = client_list(c[me], "CLIENT LIST");
        assert_true(count_lines(list) >= N);
        assert_int_equal(list[strlen(list) - 1], '\n');
        for (int i = 0; i < N; i++) {
            char *line = list_line(list, id[i]);
            if (line == NULL)
                fail_msg("client %lld missing from CLIENT LIST of %lld:\n%s", id[i], id[me], list);
            expect_field_order(line);
            expect_field(line, "name", name[i]);
            expect_field(line, "addr", addr[i]);
            char laddr[64];
            snprintf(laddr, sizeof(laddr), "127.0.0.1:%d", ((struct tk_server *)*state)->port);
            expect_field(line, "laddr", laddr);
            expect_field(line, "db", i == 1 ? "5" : "0");
            expect_field(line, "resp", "2");
            expect_field(line, "user", "default");
            expect_field(line, "flags", "N");
            expect_field(line, "multi", "-1");
            expect_field(line, "redir", "-1");
            char *age = line_field(line, "age");
            assert_true(atoi(age) >= 0 && atoi(age) < 30);
            free(age);
            if (i <= me) /* the caller, and those that listed before it */
                expect_field(line, "cmd", "client|list");
            else
                expect_field(line, "cmd", i == 1 ? "select" : "client|setname");
            if (i == me)
                expect_field(line, "idle", "0");
            char *fdv = line_field(line, "fd");
            assert_true(atoi(fdv) > 2);
            free(fdv);
            free(line);
        }
        free(list);
    }

    /* TYPE and ID filters. */
    char *list = client_list(c[0], "CLIENT LIST TYPE normal");
    for (int i = 0; i < N; i++) {
        char *line = list_line(list, id[i]);
        assert_non_null(line);
        free(line);
    }
    free(list);
    list = client_list(c[0], "CLIENT LIST TYPE master");
    assert_string_equal(list, "");
    free(list);
    list = client_list(c[0], "CLIENT LIST type PUBSUB");
    assert_string_equal(list, "");
    free(list);
    list = client_list(c[0], "CLIENT LIST TYPE replica");
    assert_string_equal(list, "");
    free(list);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "CLIENT LIST ID %lld %lld 999999", id[2], id[5]);
    list = client_list(c[0], cmd);
    assert_int_equal(count_lines(list), 2);
    char *l2 = list_line(list, id[2]), *l5 = list_line(list, id[5]);
    assert_non_null(l2);
    assert_non_null(l5);
    free(l2);
    free(l5);
    free(list);

    tk_expect_error(tk_cmd(c[0], "CLIENT LIST TYPE bogus"), "ERR Unknown client type 'bogus'");
    tk_expect_error(tk_cmd(c[0], "CLIENT LIST ID 1 abc"), "ERR Invalid client ID");
    tk_expect_error(tk_cmd(c[0], "CLIENT LIST foo"), "ERR syntax error");
    tk_expect_error(tk_cmd(c[0], "CLIENT LIST TYPE"), "ERR syntax error");

    /* A name set now on one connection is seen at once by every other. */
    tk_expect_status(tk_cmd(c[3], "CLIENT SETNAME %s", "renamed"), "OK");
    for (int me = 0; me < N; me++) {
        list = client_list(c[me], "CLIENT LIST");
        char *line = list_line(list, id[3]);
        assert_non_null(line);
        expect_field(line, "name", "renamed");
        free(line);
        free(list);
    }

    for (int i = 0; i < N; i++)
        redisFree(c[i]);
}

static void test_client_info_describes_caller(void **state)
{
    redisContext *c = tk_connect(*state);
    long long id = client_id(c);
    redisReply *r = tk_cmd(c, "CLIENT INFO");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_int_equal(count_lines(r->str), 1);
    char *line = strndup(r->str, strlen(r->str) - 1);
    freeReplyObject(r);
    expect_field_order(line);
    char idv[32];
    snprintf(idv, sizeof(idv), "%lld", id);
    expect_field(line, "id", idv);
    expect_field(line, "cmd", "client|info");
    expect_field(line, "events", "r");
    free(line);
    tk_expect_error(tk_cmd(c, "CLIENT INFO x"), "ERR wrong number of arguments for 'client|info' command");
    redisFree(c);
}

static void test_client_setinfo_and_flags(void **state)
{
    redisContext *c = tk_connect(*state);
    long long id = client_id(c);
    tk_expect_status(tk_cmd(c, "CLIENT SETINFO lib-name redis-py"), "OK");
    tk_expect_status(tk_cmd(c, "CLIENT SETINFO LIB-VER 5.0.1"), "OK");
    tk_expect_error(tk_cmd(c, "CLIENT SETINFO lib-name %s", "a b"),
                    "ERR lib-name cannot contain spaces, newlines or special characters.");
    tk_expect_error(tk_cmd(c, "CLIENT SETINFO LIB-VER %s", "1\n2"),
                    "ERR LIB-VER cannot contain spaces, newlines or special characters.");
    tk_expect_error(tk_cmd(c, "CLIENT SETINFO foo bar"), "ERR Unrecognized option 'foo'");
    tk_expect_error(tk_cmd(c, "CLIENT SETINFO lib-name"),
                    "ERR wrong number of arguments for 'client|setinfo' command");

    tk_expect_status(tk_cmd(c, "CLIENT NO-EVICT on"), "OK");
    tk_expect_status(tk_cmd(c, "CLIENT NO-TOUCH ON"), "OK");
    tk_expect_error(tk_cmd(c, "CLIENT NO-EVICT maybe"), "ERR syntax error");
    tk_expect_error(tk_cmd(c, "CLIENT NO-TOUCH maybe"), "ERR syntax error");

    redisContext *o = tk_connect(*state);
    char *list = client_list(o, "CLIENT LIST");
    char *line = list_line(list, id);
    assert_non_null(line);
    expect_field(line, "lib-name", "redis-py");
    expect_field(line, "lib-ver", "5.0.1");
    expect_field(line, "flags", "eT");
    free(line);
    free(list);

    tk_expect_status(tk_cmd(c, "CLIENT NO-EVICT off"), "OK");
    tk_expect_status(tk_cmd(c, "CLIENT NO-TOUCH off"), "OK");
    list = client_list(o, "CLIENT LIST");
    line = list_line(list, id);
    expect_field(line, "flags", "N");
    free(line);
    free(list);
    redisFree(o);
    redisFree(c);
}

static void test_client_help_and_unknown_subcommand(void **state)
{
    redisContext *c = tk_connect(*state);
    redisReply *r = tk_cmd(c, "CLIENT HELP");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_true(r->elements > 10);
    assert_int_equal(r->element[0]->type, REDIS_REPLY_STATUS);
    assert_string_equal(r->element[0]->str, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert_string_equal(r->element[r->elements - 2]->str, "HELP");
    int saw_kill = 0;
    for (size_t i = 0; i < r->elements; i++)
        saw_kill |= strncmp(r->element[i]->str, "KILL", 4) == 0;
    assert_true(saw_kill);
    freeReplyObject(r);
    tk_expect_error(tk_cmd(c, "CLIENT FOO"), "ERR unknown subcommand");
    tk_expect_error(tk_cmd(c, "CLIENT"), "ERR wrong number of arguments for 'client' command");
    redisFree(c);
}

/* CLIENT KILL ID of clients on both workers closes them (they read EOF). */
static void test_client_kill_by_id_across_workers(void **state)
{
    enum { N = 4 };
    redisContext *k = tk_connect(*state);
    int fd[N];
    long long id[N];
    char cmd[128];

    /* Round robin puts the killer and N targets on both workers. */
    for (int i = 0; i < N; i++) {
        fd[i] = tk_raw_connect(*state);
        id[i] = raw_client_id(fd[i]);
    }
    for (int i = 0; i < N; i++) {
        snprintf(cmd, sizeof(cmd), "CLIENT KILL ID %lld", id[i]);
        tk_expect_int(tk_cmd(k, cmd), 1);
        if (!tk_raw_closed(fd[i], 3000))
            fail_msg("client %lld was not closed by CLIENT KILL", id[i]);
        close(fd[i]);
        /* Gone at once from CLIENT LIST, and not killed twice. */
        char *list = client_list(k, "CLIENT LIST");
        char *line = list_line(list, id[i]);
        assert_null(line);
        free(list);
        tk_expect_int(tk_cmd(k, cmd), 0);
    }
    tk_expect_status(tk_cmd(k, "PING"), "PONG");
    redisFree(k);
}

static void test_client_kill_filters(void **state)
{
    const struct tk_server *s = *state;
    redisContext *k = tk_connect(*state);
    long long kid = client_id(k);
    char cmd[256], addr[64];

    /* Old form: CLIENT KILL addr -> +OK, or an error when nobody matches. */
    int fd = tk_raw_connect(s);
    raw_client_id(fd);
    sock_local_addr(fd, addr, sizeof(addr));
    snprintf(cmd, sizeof(cmd), "CLIENT KILL %s", addr);
    tk_expect_status(tk_cmd(k, cmd), "OK");
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);
    tk_expect_error(tk_cmd(k, cmd), "ERR No such client");
    tk_expect_error(tk_cmd(k, "CLIENT KILL 1.2.3.4:5"), "ERR No such client");

    /* ADDR with TYPE and USER. */
    fd = tk_raw_connect(s);
    raw_client_id(fd);
    sock_local_addr(fd, addr, sizeof(addr));
    snprintf(cmd, sizeof(cmd), "CLIENT KILL ADDR %s TYPE pubsub", addr);
    tk_expect_int(tk_cmd(k, cmd), 0);
    snprintf(cmd, sizeof(cmd), "CLIENT KILL ADDR %s TYPE normal USER default", addr);
    tk_expect_int(tk_cmd(k, cmd), 1);
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);

    /* LADDR (ours) with SKIPME yes kills every other client but not us. */
    int f1 = tk_raw_connect(s), f2 = tk_raw_connect(s);
    raw_client_id(f1);
    raw_client_id(f2);
    snprintf(cmd, sizeof(cmd), "CLIENT KILL LADDR 127.0.0.1:%d SKIPME yes", s->port);
    redisReply *r = tk_cmd(k, cmd);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    assert_true(r->integer >= 2);
    freeReplyObject(r);
    assert_true(tk_raw_closed(f1, 3000));
    assert_true(tk_raw_closed(f2, 3000));
    close(f1);
    close(f2);
    snprintf(cmd, sizeof(cmd), "CLIENT KILL LADDR 127.0.0.1:%d", s->port + 1);
    tk_expect_int(tk_cmd(k, cmd), 0);

    /* SKIPME defaults to yes: killing one's own id is a no-op. */
    snprintf(cmd, sizeof(cmd), "CLIENT KILL ID %lld", kid);
    tk_expect_int(tk_cmd(k, cmd), 0);

    /* Argument errors. */
    tk_expect_error(tk_cmd(k, "CLIENT KILL ID 0"), "ERR client-id should be greater than 0");
    tk_expect_error(tk_cmd(k, "CLIENT KILL ID -3"), "ERR client-id should be greater than 0");
    tk_expect_error(tk_cmd(k, "CLIENT KILL ID abc"), "ERR client-id should be greater than 0");
    tk_expect_error(tk_cmd(k, "CLIENT KILL TYPE bogus"), "ERR Unknown client type 'bogus'");
    tk_expect_error(tk_cmd(k, "CLIENT KILL USER bob"), "ERR No such user 'bob'");
    tk_expect_error(tk_cmd(k, "CLIENT KILL SKIPME maybe"), "ERR syntax error");
    tk_expect_error(tk_cmd(k, "CLIENT KILL FOO bar"), "ERR syntax error");
    tk_expect_error(tk_cmd(k, "CLIENT KILL ID 1 TYPE"), "ERR syntax error");
    tk_expect_error(tk_cmd(k, "CLIENT KILL MAXAGE 1"), "ERR syntax error"); /* 7.4's filter */
    tk_expect_error(tk_cmd(k, "CLIENT KILL"), "ERR wrong number of arguments for 'client|kill' command");
    tk_expect_status(tk_cmd(k, "PING"), "PONG");
    redisFree(k);
}

/* A client may kill itself: the reply arrives, then the connection closes. */
static void test_client_kill_self(void **state)
{
    int fd = tk_raw_connect(*state);
    long long id = raw_client_id(fd);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "CLIENT KILL ID %lld SKIPME no\r\n", id);
    tk_raw_expect(fd, cmd, ":1\r\n");
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);

    fd = tk_raw_connect(*state);
    raw_client_id(fd);
    char addr[64];
    sock_local_addr(fd, addr, sizeof(addr));
    snprintf(cmd, sizeof(cmd), "CLIENT KILL %s\r\n", addr);
    tk_raw_expect(fd, cmd, "+OK\r\n");
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);
}

/* A client suspended in a command (DEBUG SLEEP) is listed with flag b and
 * that command, and CLIENT KILL closes it at once, without its reply. */
static void test_client_kill_suspended_client(void **state)
{
    redisContext *k = tk_connect(*state);
    int fd[2];
    long long id[2];
    char cmd[128], buf[256];

    /* Two sleepers: by round robin at least one is on the other worker. */
    for (int i = 0; i < 2; i++) {
        fd[i] = tk_raw_connect(*state);
        id[i] = raw_client_id(fd[i]);
        assert_int_equal(tk_raw_send(fd[i], "DEBUG SLEEP 5\r\n", 15), 0);
    }
    for (int i = 0; i < 2; i++) {
        char *line = NULL;
        for (int tries = 0; tries < 100; tries++) { /* until the worker has read it */
            char *list = client_list(k, "CLIENT LIST");
            line = list_line(list, id[i]);
            free(list);
            assert_non_null(line);
            char *flags = line_field(line, "flags");
            int blocked = strcmp(flags, "b") == 0;
            free(flags);
            if (blocked)
                break;
            free(line);
            line = NULL;
            usleep(10000);
        }
        if (line == NULL)
            fail_msg("client %lld never showed flags=b while in DEBUG SLEEP", id[i]);
        expect_field(line, "cmd", "debug");
        free(line);
    }
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof(cmd), "CLIENT KILL ID %lld", id[i]);
        tk_expect_int(tk_cmd(k, cmd), 1);
        long n = tk_raw_reply(fd[i], buf, sizeof(buf), 3000); /* well before the 5 s sleep ends */
        if (n != 0)
            fail_msg("killed sleeper %lld: expected EOF, got %ld \"%s\"", id[i], n, n > 0 ? buf : "");
        close(fd[i]);
    }
    redisFree(k);
}

/* ---- the server with --requirepass -------------------------------------- */

static int auth_setup(void **state)
{
    static struct tk_server s;
    static const char *const extra[] = { "--threads", "2", "--requirepass", PASS, NULL };
    if (tk_server_start(&s, extra) != 0)
        return -1;
    *state = &s;
    return 0;
}

static void test_auth_password_flow(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[256];

    tk_raw_send(fd, "PING\r\n", 6);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "-NOAUTH", 7);
    tk_raw_expect(fd, "AUTH wrong\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "AUTH default wrong\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "AUTH bob " PASS "\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "AUTH " PASS "x\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_send(fd, "PING\r\n", 6);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "-NOAUTH", 7);

    tk_raw_expect(fd, "AUTH " PASS "\r\n", "+OK\r\n");
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    /* A failed AUTH leaves an authenticated client authenticated (Redis). */
    tk_raw_expect(fd, "AUTH nope\r\n", "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");
    close(fd);

    fd = tk_raw_connect(*state);
    tk_raw_expect(fd, "AUTH default " PASS "\r\n", "+OK\r\n");
    tk_raw_expect(fd, "ECHO ok\r\n", "$2\r\nok\r\n");

    /* RESET makes the client unauthenticated again. */
    tk_raw_expect(fd, "RESET\r\n", "+RESET\r\n");
    tk_raw_send(fd, "PING\r\n", 6);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "-NOAUTH", 7);

    /* QUIT works unauthenticated. */
    tk_raw_expect(fd, "QUIT\r\n", "+OK\r\n");
    assert_true(tk_raw_closed(fd, 3000));
    close(fd);
}

static void test_hello_auth_flow(void **state)
{
    int fd = tk_raw_connect(*state);
    char buf[1024];

    tk_raw_expect(fd, "HELLO 3\r\n",
                  "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                  "HELLO AUTH <user> <pass> option can be used to authenticate the client and "
                  "select the RESP protocol version at the same time\r\n");
    tk_raw_send(fd, "HELLO\r\n", 7);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "-NOAUTH HELLO", 13);
    tk_raw_expect(fd, "HELLO 3 AUTH default wrong\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
    tk_raw_expect(fd, "HELLO 3 AUTH admin " PASS "\r\n",
                  "-WRONGPASS invalid username-password pair or user is disabled.\r\n");

    tk_raw_send(fd, "HELLO 3 AUTH default " PASS " SETNAME authed\r\n",
                sizeof("HELLO 3 AUTH default " PASS " SETNAME authed\r\n") - 1);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "%7\r\n", 4);
    assert_non_null(strstr(buf, "$5\r\nproto\r\n:3\r\n"));
    tk_raw_expect(fd, "CLIENT GETNAME\r\n", "$6\r\nauthed\r\n");
    tk_raw_expect(fd, "PING\r\n", "+PONG\r\n");

    /* Authenticated: HELLO alone now answers. */
    tk_raw_send(fd, "HELLO 2\r\n", 9);
    assert_true(tk_raw_reply(fd, buf, sizeof(buf), 3000) > 0);
    assert_memory_equal(buf, "*14\r\n", 5);
    close(fd);

    /* hiredis: the usual AUTH then commands. */
    redisContext *c = tk_connect(*state);
    tk_expect_error(tk_cmd(c, "CLIENT ID"), "NOAUTH");
    tk_expect_status(tk_cmd(c, "AUTH %s", PASS), "OK");
    tk_expect_status(tk_cmd(c, "CLIENT SETNAME %s", "hiredis"), "OK");
    char *list = client_list(c, "CLIENT LIST");
    assert_non_null(strstr(list, "name=hiredis "));
    free(list);
    redisFree(c);
}

int main(void)
{
    const struct CMUnitTest plain[] = {
        cmocka_unit_test(test_ping_replies_pong_or_message),
        cmocka_unit_test(test_echo_returns_argument),
        cmocka_unit_test(test_select_changes_db_and_checks_range),
        cmocka_unit_test(test_quit_replies_ok_then_closes),
        cmocka_unit_test(test_hello3_map_shape),
        cmocka_unit_test(test_hello_errors_and_options),
        cmocka_unit_test(test_auth_without_requirepass),
        cmocka_unit_test(test_reset_restores_session_defaults),
        cmocka_unit_test(test_client_id_is_unique),
        cmocka_unit_test(test_client_setname_rules),
        cmocka_unit_test(test_client_list_spans_workers),
        cmocka_unit_test(test_client_info_describes_caller),
        cmocka_unit_test(test_client_setinfo_and_flags),
        cmocka_unit_test(test_client_help_and_unknown_subcommand),
        cmocka_unit_test(test_client_kill_by_id_across_workers),
        cmocka_unit_test(test_client_kill_filters),
        cmocka_unit_test(test_client_kill_self),
        cmocka_unit_test(test_client_kill_suspended_client),
    };
    const struct CMUnitTest auth[] = {
        cmocka_unit_test(test_auth_password_flow),
        cmocka_unit_test(test_hello_auth_flow),
    };
    int failed = cmocka_run_group_tests_name("conn", plain, plain_setup, server_teardown);
    failed += cmocka_run_group_tests_name("conn_auth", auth, auth_setup, server_teardown);
    return failed;
}
