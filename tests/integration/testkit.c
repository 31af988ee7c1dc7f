/*
 * testkit.c -- helpers for integration tests (contract in testkit.h).
 *
 * What it owns: the life of one strata-server child per struct tk_server
 * (fork/exec of $STRATA_SERVER, a private mkdtemp directory that is the
 * child's working directory and holds its log), and thin client helpers:
 * hiredis wrappers that turn failures into cmocka failures, and a raw-socket
 * client with a complete RESP2/RESP3 reply reader.
 *
 * Invariants:
 *  1. A started server listens on 127.0.0.1 only; the port is found by
 *     binding 127.0.0.1:0, reading the port and closing the socket. The small
 *     race (someone else takes the port before the server binds it) is handled
 *     by retrying with a new port when the child exits before answering, or
 *     when the server that answers reports another process_id in INFO.
 *  2. The child gets PR_SET_PDEATHSIG(SIGKILL): a test that aborts never
 *     leaves a server behind.
 *  3. tk_raw_reply never reads past the end of the reply it returns: lines are
 *     read byte by byte and bulk payloads with their exact length, so the next
 *     pipelined reply stays in the socket for the next call and no per-fd
 *     buffer is needed.
 *  4. tk_server_alive never reaps the child (it reads /proc/<pid>/stat), so
 *     tk_server_stop can still collect the exit status.
 *
 * Threads: every function is called from the test's thread; no global state.
 */
#include "testkit.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TK_START_TIMEOUT_MS 10000
#define TK_STOP_TIMEOUT_MS 10000
#define TK_IO_TIMEOUT_S 10
#define TK_START_ATTEMPTS 6
#define TK_MAX_DEPTH 256

/* ---- small utilities ---------------------------------------------------- */

static long long tk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tk_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* Prints the server's log to stderr (at most the last 64 KiB). */
static void tk_print_log(const struct tk_server *s)
{
    FILE *f = fopen(s->log, "r");
    if (!f) {
        fprintf(stderr, "testkit: cannot open server log %s: %s\n", s->log, strerror(errno));
        return;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    if (size > 65536)
        fseek(f, size - 65536, SEEK_SET);
    else
        fseek(f, 0, SEEK_SET);
    fprintf(stderr, "---- server log %s ----\n", s->log);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        fwrite(buf, 1, n, stderr);
    fprintf(stderr, "---- end of server log ----\n");
    fclose(f);
}

/* Writes buf as a C-escaped string (for failure messages). Returns out. */
static char *tk_escape(const char *buf, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 8 < cap; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\r') {
            out[o++] = '\\';
            out[o++] = 'r';
        } else if (ch == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (ch == '\\' || ch == '"') {
            out[o++] = '\\';
            out[o++] = (char)ch;
        } else if (isprint(ch)) {
            out[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", ch);
        }
    }
    if (o + 8 >= cap && len > 0 && o < cap - 4) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}

static int tk_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int tk_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t sl = sizeof(sa);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

/* Connects to 127.0.0.1:port; returns the fd or -1. timeouts in seconds. */
static int tk_connect_port(int port, int timeout_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* /proc/<pid>/stat state letter, or 0 when the process does not exist. */
static char tk_proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')'); /* comm may contain spaces */
    if (!rp || rp[1] != ' ')
        return 0;
    return rp[2];
}

/* ---- RESP reply reader --------------------------------------------------- */

struct tk_rd {
    int fd;
    char *buf;
    size_t cap;   /* including the NUL */
    size_t len;
    long long deadline_ms;
    int eof;      /* peer closed */
    int fail;     /* timeout, overflow, bad syntax */
};

/* Reads exactly n bytes into the buffer. 0 or -1 (eof/fail set). */
static int tk_rd_bytes(struct tk_rd *r, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        fprintf(stderr, "testkit: reply longer than buffer (%zu bytes)\n", r->cap);
        r->fail = 1;
        return -1;
    }
    while (n > 0) {
        long long left = r->deadline_ms - tk_now_ms();
        if (left <= 0) {
            r->fail = 1;
            return -1;
        }
        struct pollfd pfd = {r->fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            r->fail = 1;
            return -1;
        }
        ssize_t got = recv(r->fd, r->buf + r->len, n, MSG_DONTWAIT);
        if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE))) {
            r->eof = 1;
            return -1;
        }
        if (got < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            r->fail = 1;
            return -1;
        }
        r->len += (size_t)got;
        n -= (size_t)got;
    }
    return 0;
}

/* Reads one CRLF-terminated line; *start is where it begins in buf. */
static int tk_rd_line(struct tk_rd *r, size_t *start)
{
    *start = r->len;
    for (;;) {
        if (tk_rd_bytes(r, 1) < 0)
            return -1;
        if (r->len - *start >= 2 && r->buf[r->len - 1] == '\n' && r->buf[r->len - 2] == '\r')
            return 0;
    }
}

/* Parses the integer after the type byte of the line at start. */
static int tk_rd_num(struct tk_rd *r, size_t start, long long *v)
{
    char tmp[64];
    size_t n = r->len - start - 3; /* minus type byte and CRLF */
    if (n == 0 || n >= sizeof(tmp)) {
        r->fail = 1;
        return -1;
    }
    memcpy(tmp, r->buf + start + 1, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    *v = strtoll(tmp, &end, 10);
    if (errno || *end) {
        r->fail = 1;
        return -1;
    }
    return 0;
}

static int tk_rd_value(struct tk_rd *r, int depth);

/* Reads n elements. */
static int tk_rd_elems(struct tk_rd *r, long long n, int depth)
{
    for (long long i = 0; i < n; i++)
        if (tk_rd_value(r, depth + 1) < 0)
            return -1;
    return 0;
}

/* Reads one complete value (an attribute is followed by the value it
 * annotates, which is read too). */
static int tk_rd_value(struct tk_rd *r, int depth)
{
    if (depth > TK_MAX_DEPTH) {
        fprintf(stderr, "testkit: reply nested deeper than %d\n", TK_MAX_DEPTH);
        r->fail = 1;
        return -1;
    }
    size_t start;
    if (tk_rd_line(r, &start) < 0)
        return -1;
    char type = r->buf[start];
    long long n;
    switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        return 0;
    case '$': case '=': case '!':
        if (type == '$' && r->len - start == 4 && r->buf[start + 1] == '?') {
            /* RESP3 streamed string: ";len\r\n<bytes>\r\n"... ";0\r\n" */
            for (;;) {
                size_t cs;
                if (tk_rd_line(r, &cs) < 0)
                    return -1;
                if (r->buf[cs] != ';' || tk_rd_num(r, cs, &n) < 0 || n < 0) {
                    r->fail = 1;
                    return -1;
                }
                if (n == 0)
                    return 0;
                if (tk_rd_bytes(r, (size_t)n + 2) < 0)
                    return -1;
            }
        }
        if (tk_rd_num(r, start, &n) < 0)
            return -1;
        if (n == -1)
            return 0;
        if (n < 0) {
            r->fail = 1;
            return -1;
        }
        if (tk_rd_bytes(r, (size_t)n + 2) < 0)
            return -1;
        if (r->buf[r->len - 2] != '\r' || r->buf[r->len - 1] != '\n') {
            r->fail = 1;
            return -1;
        }
        return 0;
    case '*': case '~': case '>': case '%': case '|':
        if (r->len - start == 4 && r->buf[start + 1] == '?') {
            /* RESP3 streamed aggregate, ended by ".\r\n" */
            for (;;) {
                size_t before = r->len;
                if (tk_rd_value(r, depth + 1) < 0)
                    return -1;
                if (r->len - before == 3 && r->buf[before] == '.')
                    return 0;
            }
        }
        if (tk_rd_num(r, start, &n) < 0)
            return -1;
        if (n == -1 && type == '*')
            return 0;
        if (n < 0) {
            r->fail = 1;
            return -1;
        }
        if (type == '%' || type == '|')
            n *= 2;
        if (tk_rd_elems(r, n, depth) < 0)
            return -1;
        if (type == '|')
            return tk_rd_value(r, depth); /* the annotated value */
        return 0;
    case '.':
        return 0; /* end of a streamed aggregate; the caller checks */
    default: {
        char esc[256];
        fprintf(stderr, "testkit: unknown RESP type in reply line \"%s\"\n",
                tk_escape(r->buf + start, r->len - start, esc, sizeof(esc)));
        r->fail = 1;
        return -1;
    }
    }
}

/* ---- server life --------------------------------------------------------- */

/* One attempt on one port: 0 ready, 1 retry with another port, -1 fail. */
static int tk_try_start(struct tk_server *s, const char *bin, const char *const *extra)
{
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", s->port);
    size_t nextra = 0;
    while (extra && extra[nextra])
        nextra++;
    /* STRATA_SERVER_ARGS: blank-separated arguments every server of the run
     * gets after the test's own (the all-cold and mixed-tier suite runs) */
    char *env_args = getenv("STRATA_SERVER_ARGS") ? strdup(getenv("STRATA_SERVER_ARGS")) : NULL;
    size_t nenv = 0;
    for (const char *p = env_args; p && *p; p++)
        if (*p != ' ' && (p == env_args || p[-1] == ' '))
            nenv++;
    const char **argv = calloc(nextra + nenv + 6, sizeof(*argv));
    if (!argv) {
        free(env_args);
        return -1;
    }
    size_t a = 0;
    argv[a++] = bin;
    argv[a++] = "--port";
    argv[a++] = portstr;
    argv[a++] = "--bind";
    argv[a++] = "127.0.0.1";
    for (size_t i = 0; i < nextra; i++)
        argv[a++] = extra[i];
    char *save = NULL;
    for (char *tok = env_args ? strtok_r(env_args, " ", &save) : NULL; tok; tok = strtok_r(NULL, " ", &save))
        argv[a++] = tok;
    argv[a] = NULL;

    int logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "testkit: cannot create %s: %s\n", s->log, strerror(errno));
        free(argv);
        free(env_args);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "testkit: fork: %s\n", strerror(errno));
        close(logfd);
        free(argv);
        free(env_args);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (chdir(s->dir) < 0)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execv(bin, (char *const *)argv);
        fprintf(stderr, "testkit: exec %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    free(argv);
    free(env_args);
    s->pid = pid;

    long long deadline = tk_now_ms() + TK_START_TIMEOUT_MS;
    while (tk_now_ms() < deadline) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            s->pid = 0;
            /* Exited before answering: most likely the port was taken
             * between our probe and its bind; the caller retries. */
            fprintf(stderr, "testkit: server exited early (status 0x%x) on port %d\n", st, s->port);
            return 1;
        }
        int fd = tk_connect_port(s->port, 1);
        if (fd >= 0) {
            static const char ping[] = "*1\r\n$4\r\nPING\r\n";
            char buf[512];
            long n = -1;
            if (tk_raw_send(fd, ping, sizeof(ping) - 1) == 0)
                n = tk_raw_reply(fd, buf, sizeof(buf), 1000);
            int ready = n > 0 && (strcmp(buf, "+PONG\r\n") == 0 || strncmp(buf, "-NOAUTH", 7) == 0);
            int ours = 1;
            if (ready && buf[0] == '+') {
                /* Make sure the server that answered is ours (see invariant 1). */
                static const char info[] = "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n";
                char ib[65536];
                if (tk_raw_send(fd, info, sizeof(info) - 1) == 0 &&
                    tk_raw_reply(fd, ib, sizeof(ib), 2000) > 0) {
                    char *p = strstr(ib, "process_id:");
                    if (p && atol(p + 11) != (long)pid)
                        ours = 0;
                }
            }
            close(fd);
            if (ready && !ours) {
                fprintf(stderr, "testkit: port %d answered by another server; retrying\n", s->port);
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                s->pid = 0;
                return 1;
            }
            if (ready)
                return 0;
        }
        tk_sleep_ms(20);
    }
    fprintf(stderr, "testkit: server did not answer PING within %d ms on port %d\n", TK_START_TIMEOUT_MS,
            s->port);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    return -1;
}

int tk_server_start(struct tk_server *s, const char *const *extra)
{
    memset(s, 0, sizeof(*s));
    const char *bin = getenv("STRATA_SERVER");
    if (!bin || !*bin) {
        fprintf(stderr, "testkit: STRATA_SERVER is not set (path of strata-server)\n");
        return -1;
    }
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "testkit: STRATA_SERVER=%s is not executable: %s\n", bin, strerror(errno));
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof(s->dir), "%s/strata-tk-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        fprintf(stderr, "testkit: mkdtemp %s: %s\n", s->dir, strerror(errno));
        return -1;
    }
    snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);

    int rc = -1;
    for (int attempt = 0; attempt < TK_START_ATTEMPTS; attempt++) {
        s->port = tk_free_port();
        if (s->port <= 0) {
            fprintf(stderr, "testkit: no free port: %s\n", strerror(errno));
            break;
        }
        rc = tk_try_start(s, bin, extra);
        if (rc != 1)
            break;
        if (attempt + 1 < TK_START_ATTEMPTS)
            tk_print_log(s);
    }
    if (rc != 0) {
        tk_print_log(s);
        nftw(s->dir, tk_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return -1;
    }
    return 0;
}

int tk_server_stop(struct tk_server *s)
{
    if (s->pid <= 0)
        return -1;
    int status = -1, st = 0;
    pid_t w = 0;
    if (kill(s->pid, SIGTERM) == 0 || errno == ESRCH) {
        long long deadline = tk_now_ms() + TK_STOP_TIMEOUT_MS;
        while ((w = waitpid(s->pid, &st, WNOHANG)) == 0 && tk_now_ms() < deadline)
            tk_sleep_ms(10);
    }
    if (w == s->pid) {
        if (WIFEXITED(st)) {
            status = WEXITSTATUS(st);
            if (status != 0)
                fprintf(stderr, "testkit: server exited with status %d\n", status);
        } else {
            status = 128 + WTERMSIG(st);
            fprintf(stderr, "testkit: server killed by signal %d%s\n", WTERMSIG(st),
                    WCOREDUMP(st) ? " (core dumped)" : "");
        }
    } else {
        fprintf(stderr, "testkit: server did not exit within %d ms after SIGTERM; SIGKILL\n",
                TK_STOP_TIMEOUT_MS);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        status = -1;
    }
    if (status != 0)
        tk_print_log(s);
    s->pid = 0;
    nftw(s->dir, tk_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return status;
}

int tk_server_alive(const struct tk_server *s)
{
    if (s->pid <= 0)
        return 0;
    char st = tk_proc_state(s->pid);
    return st != 0 && st != 'Z' && st != 'X';
}

long tk_server_rss_kb(const struct tk_server *s)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)s->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
            break;
        }
    }
    fclose(f);
    return kb;
}

/* ---- hiredis helpers ----------------------------------------------------- */

redisContext *tk_connect(const struct tk_server *s)
{
    struct timeval tv = {TK_IO_TIMEOUT_S, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (!c || c->err) {
        fail_msg("testkit: cannot connect to 127.0.0.1:%d: %s", s->port, c ? c->errstr : "out of memory");
    }
    redisSetTimeout(c, tv);
    return c;
}

redisReply *tk_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r)
        fail_msg("testkit: command \"%s\" got no reply: %s", fmt, c->errstr);
    return r;
}

redisReply *tk_cmdv(redisContext *c, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (!r)
        fail_msg("testkit: command \"%s\" got no reply: %s", argc > 0 ? argv[0] : "", c->errstr);
    return r;
}

static const char *tk_type_name(int type)
{
    switch (type) {
    case REDIS_REPLY_STRING: return "bulk string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "unknown";
    }
}

/* Formats a reply for a failure message. */
static const char *tk_describe(const redisReply *r, char *out, size_t cap)
{
    char esc[512];
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        snprintf(out, cap, "integer %lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        snprintf(out, cap, "nil");
        break;
    case REDIS_REPLY_ARRAY:
        snprintf(out, cap, "array of %zu", r->elements);
        break;
    default:
        snprintf(out, cap, "%s \"%s\"", tk_type_name(r->type), tk_escape(r->str, r->len, esc, sizeof(esc)));
    }
    return out;
}

void tk_expect_status(redisReply *r, const char *status)
{
    char d[640];
    if (r->type != REDIS_REPLY_STATUS || strcmp(r->str, status) != 0) {
        tk_describe(r, d, sizeof(d));
        freeReplyObject(r);
        fail_msg("expected status +%s, got %s", status, d);
    }
    freeReplyObject(r);
}

void tk_expect_int(redisReply *r, long long v)
{
    char d[640];
    if (r->type != REDIS_REPLY_INTEGER || r->integer != v) {
        tk_describe(r, d, sizeof(d));
        freeReplyObject(r);
        fail_msg("expected integer %lld, got %s", v, d);
    }
    freeReplyObject(r);
}

void tk_expect_str(redisReply *r, const char *s)
{
    char d[640], e[512];
    size_t n = strlen(s);
    if (r->type != REDIS_REPLY_STRING || r->len != n || memcmp(r->str, s, n) != 0) {
        tk_describe(r, d, sizeof(d));
        freeReplyObject(r);
        fail_msg("expected bulk \"%s\", got %s", tk_escape(s, n, e, sizeof(e)), d);
    }
    freeReplyObject(r);
}

void tk_expect_nil(redisReply *r)
{
    char d[640];
    if (r->type != REDIS_REPLY_NIL) {
        tk_describe(r, d, sizeof(d));
        freeReplyObject(r);
        fail_msg("expected nil, got %s", d);
    }
    freeReplyObject(r);
}

void tk_expect_error(redisReply *r, const char *prefix)
{
    char d[640];
    if (r->type != REDIS_REPLY_ERROR || strncmp(r->str, prefix, strlen(prefix)) != 0) {
        tk_describe(r, d, sizeof(d));
        freeReplyObject(r);
        fail_msg("expected error \"%s...\", got %s", prefix, d);
    }
    freeReplyObject(r);
}

/* Finds "field:value" at the start of a line of an INFO text; malloc'd value. */
static char *tk_info_find(const char *text, const char *field)
{
    size_t fl = strlen(field);
    const char *p = text;
    while (p && *p) {
        if (strncmp(p, field, fl) == 0 && p[fl] == ':') {
            const char *v = p + fl + 1;
            size_t n = strcspn(v, "\r\n");
            char *out = malloc(n + 1);
            if (!out)
                return NULL;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return NULL;
}

char *tk_info_field(redisContext *c, const char *field)
{
    /* Plain INFO first; sections outside the default set (commandstats,
     * latencystats, ...) only appear with "INFO everything". */
    static const char *const variants[] = {"INFO", "INFO everything"};
    for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
        redisReply *r = tk_cmd(c, variants[i]);
        char *v = NULL;
        if (r->type == REDIS_REPLY_STRING)
            v = tk_info_find(r->str, field);
        freeReplyObject(r);
        if (v)
            return v;
    }
    return NULL;
}

long long tk_info_ll(redisContext *c, const char *field)
{
    char *v = tk_info_field(c, field);
    if (!v)
        fail_msg("INFO has no field \"%s\"", field);
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v) {
        print_error("INFO field %s = \"%s\" is not a number\n", field, v);
        free(v);
        fail_msg("INFO field \"%s\" is not a number", field);
    }
    free(v);
    return n;
}

/* ---- raw sockets ----------------------------------------------------------- */

int tk_raw_connect(const struct tk_server *s)
{
    int fd = tk_connect_port(s->port, TK_IO_TIMEOUT_S);
    if (fd < 0)
        fail_msg("testkit: raw connect to 127.0.0.1:%d: %s", s->port, strerror(errno));
    return fd;
}

int tk_raw_send(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

long tk_raw_reply(int fd, char *buf, size_t cap, int timeout_ms)
{
    struct tk_rd r = {fd, buf, cap, 0, tk_now_ms() + timeout_ms, 0, 0};
    if (cap == 0)
        return -1;
    buf[0] = '\0';
    int rc = tk_rd_value(&r, 0);
    buf[r.len < cap ? r.len : cap - 1] = '\0';
    if (rc == 0)
        return (long)r.len;
    if (r.eof) {
        if (r.len > 0) {
            char esc[512];
            fprintf(stderr, "testkit: connection closed inside a reply after \"%s\"\n",
                    tk_escape(buf, r.len, esc, sizeof(esc)));
        }
        return 0;
    }
    return -1;
}

void tk_raw_expect(int fd, const char *cmd, const char *expect)
{
    char got[65536], e1[1024], e2[1024], e3[1024];
    if (tk_raw_send(fd, cmd, strlen(cmd)) < 0)
        fail_msg("send \"%s\" failed: %s", tk_escape(cmd, strlen(cmd), e1, sizeof(e1)), strerror(errno));
    long n = tk_raw_reply(fd, got, sizeof(got), TK_IO_TIMEOUT_S * 1000);
    if (n <= 0)
        fail_msg("command \"%s\": %s (expected \"%s\")", tk_escape(cmd, strlen(cmd), e1, sizeof(e1)),
                 n == 0 ? "connection closed" : "no complete reply", tk_escape(expect, strlen(expect), e2, sizeof(e2)));
    if ((size_t)n != strlen(expect) || memcmp(got, expect, (size_t)n) != 0)
        fail_msg("command \"%s\": expected \"%s\", got \"%s\"", tk_escape(cmd, strlen(cmd), e1, sizeof(e1)),
                 tk_escape(expect, strlen(expect), e2, sizeof(e2)), tk_escape(got, (size_t)n, e3, sizeof(e3)));
}

int tk_raw_closed(int fd, int timeout_ms)
{
    long long deadline = tk_now_ms() + timeout_ms;
    char buf[65536];
    for (;;) {
        long long left = deadline - tk_now_ms();
        if (left < 0)
            left = 0;
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return 0;
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n == 0)
            return 1;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                continue;
            return 1; /* ECONNRESET and friends: closed */
        }
        /* pending output before the close is discarded */
        if (tk_now_ms() >= deadline)
            return 0;
    }
}

char *tk_run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        if (status)
            *status = -1;
        return strdup("");
    }
    size_t len = 0, cap = 4096;
    char *out = malloc(cap);
    if (!out) {
        pclose(p);
        if (status)
            *status = -1;
        return NULL;
    }
    size_t n;
    while ((n = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            char *bigger = realloc(out, cap * 2);
            if (!bigger)
                break;
            out = bigger;
            cap *= 2;
        }
    }
    out[len] = '\0';
    int st = pclose(p);
    if (status)
        *status = (st >= 0 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
    return out;
}
