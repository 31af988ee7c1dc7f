/*
 * strata-inspect.c -- the offline inspection tool for Strata's durable
 * files: snapshots, PMem pool files and SSD tier directories. Verify them,
 * summarise them, list, read and dump their keys, diff two snapshots, and
 * render an HTML report -- without a running server, never writing to what
 * it reads.
 *
 * Owns: the subcommand table, argument parsing (one table of options, each
 * subcommand naming the ones it takes, every one with --help) and the exit
 * statuses; main() sets up the context (stdout sink, "now", limits) and
 * ignores SIGPIPE so a closed pipe is an EPIPE the walks notice (ins_out.c
 * invariant 2). The subcommands live in ins_cmd.c, ins_diff.c and
 * ins_report.c; tools/ins.h lists the parts.
 *
 * Exit statuses (every subcommand): 0 done / valid / no differences;
 * 1 damaged input (verify: damaged; others: the input is damaged and the
 * output stops at the damage), differences (diff), no such key (get);
 * 2 cannot read the input or bad usage; 141 the output pipe closed.
 *
 * It links the engine's readers (strata_engine, whole archive: the type
 * modules are reached through weak references) and tiers/ssd_fmt.c alone
 * (strata_ssd_fmt), never the server, never libpmemobj.
 *
 * The one piece of process state is SIGPIPE's disposition, set in main.
 */
#include "tools/ins.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/util.h"

#ifndef STRATA_VERSION
#define STRATA_VERSION "0"
#endif

/* ---- options ------------------------------------------------------------------ */

enum {
    O_AS = 1, O_NOW, O_MAXVAL, O_MATCH, O_TYPE, O_DB, O_TIER, O_LONG, O_RAW, O_JSON, O_ESCAPED, O_VALUE_ONLY,
    O_FORMAT, O_CHUNK, O_NO_DEL, O_INCL_EXPIRED, O_MEM, O_HTML, O_SEP, O_TOP, O_MAX_DAMAGE, O_PEAK_RSS, O_HELP,
};

struct opt {
    const char *name;
    char shrt;
    int id;
    const char *arg; /* NULL: a flag */
    const char *help;
};

static const struct opt opts[] = {
    {"as", 0, O_AS, "snapshot|pool|ssd", "read the input as this kind (default: detected)"},
    {"now", 0, O_NOW, "MS", "unix ms taken as now for expiry (default: the clock)"},
    {"max-value", 0, O_MAXVAL, "BYTES", "largest serialised value decoded (default 1gb)"},
    {"match", 0, O_MATCH, "GLOB", "keys matching GLOB (KEYS/SCAN MATCH syntax: * ? [a-z] \\x)"},
    {"type", 0, O_TYPE, "T", "keys of type string|list|set|zset|hash"},
    {"db", 0, O_DB, "N", "keys of database N"},
    {"tier", 0, O_TIER, "T", "keys on tier dram|pmem|ssd|other"},
    {"long", 'l', O_LONG, NULL, "db, type, tier, expire_ms (or -), raw bytes, key: tab-separated"},
    {"raw", 0, O_RAW, NULL, "print keys as their bytes, unquoted (unsafe for terminals)"},
    {"json", 0, O_JSON, NULL, "JSON output"},
    {"escaped", 'e', O_ESCAPED, NULL, "KEY is in the quoted form keys prints (\"a\\x00b\")"},
    {"value-only", 0, O_VALUE_ONLY, NULL, "no '# db ...' header line"},
    {"format", 0, O_FORMAT, "json|resp", "dump format"},
    {"chunk", 0, O_CHUNK, "N", "elements per RPUSH/SADD/ZADD/HSET (1..1000, default 1000)"},
    {"no-del", 0, O_NO_DEL, NULL, "no DEL before a collection's first command"},
    {"include-expired", 0, O_INCL_EXPIRED, NULL, "JSON: also keys whose expiry has passed"},
    {"mem", 0, O_MEM, "BYTES", "memory for key tables (verify 32mb, diff 256mb); more keys take more passes"},
    {"html", 0, O_HTML, "OUT.html", "write the report here"},
    {"sep", 0, O_SEP, "C", "key-prefix separator (default ':')"},
    {"top", 0, O_TOP, "N", "biggest keys and prefixes listed (default 20, at most 1000)"},
    {"max-damage", 0, O_MAX_DAMAGE, "N", "damaged objects listed one by one (default 20)"},
    {"peak-rss", 0, O_PEAK_RSS, NULL, "at the end, print the peak resident memory (VmHWM) to stderr"},
    {"help", 'h', O_HELP, NULL, "this help"},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

struct subcmd {
    const char *name;
    const char *usage;
    int npos;
    int (*run)(struct ins_ctx *cx, const struct iargs *a);
    const int *ids; /* options it takes (besides as, now, max-value, help) */
    const char *help;
};

static const int ids_verify[] = {O_MEM, O_MAX_DAMAGE, 0};
static const int ids_info[] = {O_JSON, 0};
static const int ids_keys[] = {O_MATCH, O_TYPE, O_DB, O_TIER, O_LONG, O_RAW, 0};
static const int ids_get[] = {O_DB, O_JSON, O_ESCAPED, O_VALUE_ONLY, 0};
static const int ids_dump[] = {O_FORMAT, O_MATCH, O_TYPE, O_DB, O_TIER, O_CHUNK, O_NO_DEL, O_INCL_EXPIRED, 0};
static const int ids_diff[] = {O_MEM, O_DB, O_MATCH, 0};
static const int ids_report[] = {O_HTML, O_SEP, O_TOP, 0};

static const struct subcmd cmds[] = {
    {"verify", "verify FILE|DIR", 1, cmd_verify, ids_verify,
     "Checks every checksum and structural rule of a snapshot (header, blocks, items,\n"
     "cold records against their index, footer counts, chained CRCs), decodes every\n"
     "value as a loader would, and checks that no key appears twice. A PMem pool or\n"
     "SSD directory: every record, entry and dictionary, and every current value.\n"
     "Prints OK, or DAMAGED with the first damaged offset, what is wrong there and\n"
     "how many keys are still readable.\n"
     "Exit status: 0 valid, 1 damaged, 2 cannot read (missing, not a Strata file, I/O).\n"},
    {"info", "info FILE|DIR", 1, cmd_info, ids_info,
     "Summarises the input: format version, creation time, the append-log offset and\n"
     "lineage a snapshot stands at, aux fields, keys per database, per type and per\n"
     "tier, raw (serialised) and stored (as kept: cold values compressed) bytes and\n"
     "their ratio, a TTL distribution (remaining TTL at the snapshot's creation, and\n"
     "how many have expired by now), and the dictionary ids held and used.\n"},
    {"keys", "keys FILE|DIR [--match GLOB] [--type T] [--db N] [--tier T] [-l]", 1, cmd_keys, ids_keys,
     "Lists the current keys, one a line, in the order the input stores them.\n"
     "Quoting (as redis-cli's): a key of printable ASCII bytes 0x21..0x7e other than\n"
     "\" ' and \\ is printed as it is; any other key is printed in double quotes, with\n"
     "\\\" \\\\ \\n \\r \\t \\a \\b, and \\xNN (two hex digits) for every other byte outside\n"
     "0x20..0x7e. So every line is one key, terminals see no control bytes, and get -e\n"
     "takes the quoted form back. --raw prints the bytes unquoted.\n"
     "A PMem pool records no databases: its keys show db '?' and --db does not filter.\n"},
    {"get", "get FILE|DIR KEY [--db N] [--json] [-e]", 2, cmd_get, ids_get,
     "Prints the decoded value of KEY (in database --db, default 0) as redis-cli\n"
     "prints GET, LRANGE 0 -1, SMEMBERS, ZRANGE 0 -1 WITHSCORES or HGETALL, after a\n"
     "'# db, type (encoding), size, tier, expiry' line; --json prints the JSON line\n"
     "dump would. Exit status 1 and '(nil)' when the key is not there.\n"},
    {"dump", "dump FILE|DIR --format json|resp [--match GLOB] [--type T] [--db N] [--tier T]", 1, cmd_dump,
     ids_dump,
     "Writes every current key. Keys whose expiry has passed are skipped.\n"
     "--format json: one JSON object a line:\n"
     "  {\"db\":0,\"key\":K,\"type\":\"hash\",\"encoding\":\"listpack\",\"tier\":\"dram\",\n"
     "   \"expire_ms\":null|unix-ms,\"value\":V}\n"
     "  K and every string in V are JSON strings when the bytes are valid UTF-8, else\n"
     "  {\"base64\":\"...\"} (RFC 4648): nothing is lost. V is a string (string, HLL),\n"
     "  an array of strings (list in order, set), an array of [member, score] pairs\n"
     "  in score order (zset; score a number, or \"inf\"/\"-inf\"), or an array of\n"
     "  [field, value] pairs (hash).\n"
     "--format resp: RESP commands for redis-cli --pipe, into Strata or Redis:\n"
     "  SELECT when the database changes; SET (strings and HyperLogLogs); DEL then\n"
     "  RPUSH / SADD / ZADD / HSET with at most --chunk elements each; PEXPIREAT\n"
     "  for keys with an expiry.\n"
     "  strata-inspect dump dump.sts --format resp | redis-cli --pipe\n"},
    {"diff", "diff A B [--db N] [--match GLOB]", 2, cmd_diff, ids_diff,
     "Keys added (+, only in B), removed (-, only in A) and changed (~: type, value or\n"
     "expiry differ) between two inputs, one a line ('+ db KEY'), then a summary.\n"
     "Values are compared decoded, not as bytes: a cold record and a hot value of the\n"
     "same content are equal, whatever their encodings or set/hash order.\n"
     "Memory: 128 bytes per key at worst, within --mem; more keys than that take\n"
     "more passes over both inputs (nothing is written to disk).\n"
     "Exit status: 0 no differences, 1 differences, 2 trouble.\n"},
    {"report", "report FILE|DIR --html OUT.html [--sep C] [--top N]", 1, cmd_report, ids_report,
     "Writes a self-contained HTML page (inline SVG and CSS, no scripts, nothing\n"
     "fetched): totals, value-size and TTL histograms, the type and tier breakdown,\n"
     "the biggest keys, and memory by key prefix (up to the first --sep).\n"},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const struct opt *find_opt(const char *name, char shrt)
{
    for (size_t i = 0; i < NOPTS; i++)
        if ((name && strcmp(opts[i].name, name) == 0) || (shrt && opts[i].shrt == shrt))
            return &opts[i];
    return NULL;
}

static int takes(const struct subcmd *c, int id)
{
    if (id == O_AS || id == O_NOW || id == O_MAXVAL || id == O_PEAK_RSS || id == O_HELP)
        return 1;
    for (const int *p = c->ids; *p; p++)
        if (*p == id)
            return 1;
    return 0;
}

static void opt_line(FILE *f, const struct opt *o)
{
    char lhs[64];
    snprintf(lhs, sizeof(lhs), "%s%c%s--%s%s%s", o->shrt ? "-" : "", o->shrt ? o->shrt : ' ', o->shrt ? "," : " ",
             o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    fprintf(f, "  %-30s %s\n", o->shrt ? lhs : lhs + 2, o->help);
}

static void cmd_usage(FILE *f, const struct subcmd *c)
{
    fprintf(f, "usage: strata-inspect %s\n\n%s\noptions:\n", c->usage, c->help);
    for (size_t i = 0; i < NOPTS; i++)
        if (takes(c, opts[i].id))
            opt_line(f, &opts[i]);
    fprintf(f, "\nExit status: 0 done, 1 damaged input / differences / no such key, 2 cannot read\n"
               "or bad usage, 141 the output pipe closed (quietly).\n");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: strata-inspect SUBCOMMAND INPUT... [OPTIONS]\n"
               "Offline inspection of Strata snapshots (*.sts), PMem pool files and SSD tier\n"
               "directories. Inputs are opened read-only and never changed.\n\nsubcommands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  %s\n", cmds[i].usage);
    fprintf(f, "\nstrata-inspect SUBCOMMAND --help for its options and output; --version.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    unsigned long long v;
    if (util_str2ull(s, strlen(s), &v) != ST_OK)
        return -1;
    *out = v;
    return 0;
}

static int bad(const char *cmd, const char *opt, const char *val, const char *why)
{
    fprintf(stderr, "strata-inspect %s: %s%s%s%s: %s (see strata-inspect %s --help)\n", cmd, opt, val ? " '" : "",
            val ? val : "", val ? "'" : "", why, cmd);
    return INS_EXIT_CANNOT;
}

/* Parses argv[0..argc) of subcommand c into a and cx. Returns -1 to go on,
 * else the exit status (--help: 0). */
static int parse(const struct subcmd *c, int argc, char **argv, struct iargs *a, struct ins_ctx *cx)
{
    int only_pos = 0;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        const struct opt *o = NULL;
        char name[64];

        if (only_pos || arg[0] != '-' || arg[1] == 0) {
            if (a->npos >= c->npos)
                return bad(c->name, "argument", arg, "one argument too many");
            a->pos[a->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (arg[1] == '-') {
            const char *eq = strchr(arg + 2, '=');
            size_t n = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            if (n >= sizeof(name))
                return bad(c->name, arg, NULL, "unknown option");
            memcpy(name, arg + 2, n);
            name[n] = 0;
            o = find_opt(name, 0);
            if (eq)
                val = eq + 1;
        } else if (arg[2] == 0) {
            o = find_opt(NULL, arg[1]);
        }
        if (!o || !takes(c, o->id))
            return bad(c->name, arg, NULL, "unknown option here");
        if (o->arg && !val) {
            if (i + 1 >= argc)
                return bad(c->name, arg, NULL, "needs a value");
            val = argv[++i];
        } else if (!o->arg && val) {
            return bad(c->name, arg, NULL, "takes no value");
        }
        uint64_t u;
        long long ll;
        switch (o->id) {
        case O_HELP:
            cmd_usage(stdout, c);
            return INS_EXIT_OK;
        case O_AS:
            if (strcmp(val, "snapshot") == 0)
                a->force_kind = SRC_SNAP;
            else if (strcmp(val, "pool") == 0)
                a->force_kind = SRC_POOL;
            else if (strcmp(val, "ssd") == 0)
                a->force_kind = SRC_SSD;
            else
                return bad(c->name, "--as", val, "snapshot, pool or ssd");
            break;
        case O_NOW:
            if (util_str2ll(val, strlen(val), &ll) != ST_OK || ll < 0)
                return bad(c->name, "--now", val, "unix time in ms");
            cx->now_ms = ll;
            break;
        case O_MAXVAL:
        case O_MEM:
            if (util_parse_memsize(val, &ll) != ST_OK || ll <= 0)
                return bad(c->name, arg, val, "a size: 100000, 64mb, 2gb");
            if (o->id == O_MAXVAL)
                cx->max_value = (uint64_t)ll;
            else
                a->mem = (uint64_t)ll;
            break;
        case O_MATCH: a->match = val; break;
        case O_TYPE:
            if ((a->type = ins_type_parse(val)) < 0)
                return bad(c->name, "--type", val, "string, list, set, zset or hash");
            break;
        case O_TIER:
            if ((a->tier = ins_tier_parse(val)) < 0)
                return bad(c->name, "--tier", val, "dram, pmem, ssd or other");
            break;
        case O_DB:
            if (parse_u64(val, &u) != 0 || u >= SNAP_DATABASES_MAX)
                return bad(c->name, "--db", val, "a database number, 0 .. 65535");
            a->db = (long long)u;
            break;
        case O_LONG: a->long_fmt = 1; break;
        case O_RAW: a->raw = 1; break;
        case O_JSON: a->json = 1; break;
        case O_ESCAPED: a->escaped = 1; break;
        case O_VALUE_ONLY: a->value_only = 1; break;
        case O_FORMAT: a->format = val; break;
        case O_CHUNK:
            if (parse_u64(val, &u) != 0 || u < 1 || u > 1000)
                return bad(c->name, "--chunk", val, "1 .. 1000");
            a->chunk = (unsigned)u;
            break;
        case O_NO_DEL: a->no_del = 1; break;
        case O_PEAK_RSS: a->peak_rss = 1; break;
        case O_INCL_EXPIRED: a->include_expired = 1; break;
        case O_HTML: a->html = val; break;
        case O_SEP:
            if (strlen(val) != 1)
                return bad(c->name, "--sep", val, "one character");
            a->sep = val[0];
            break;
        case O_TOP:
            if (parse_u64(val, &u) != 0 || u < 1 || u > 1000)
                return bad(c->name, "--top", val, "1 .. 1000");
            a->top = (unsigned)u;
            break;
        case O_MAX_DAMAGE:
            if (parse_u64(val, &u) != 0 || u > 1000000)
                return bad(c->name, "--max-damage", val, "0 .. 1000000");
            a->max_damage = (unsigned)u;
            break;
        }
    }
    if (a->npos < c->npos) {
        fprintf(stderr, "usage: strata-inspect %s (see strata-inspect %s --help)\n", c->usage, c->name);
        return INS_EXIT_CANNOT;
    }
    return -1;
}

/* VmHWM of this process image (getrusage's ru_maxrss would include the
 * parent's memory at fork, inherited across exec). */
static void print_peak_rss(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];

    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            fprintf(stderr, "strata-inspect: peak RSS %lld KiB\n", atoll(line + 6));
            break;
        }
    if (f)
        fclose(f);
}

int main(int argc, char **argv)
{
    struct out o;
    struct ins_ctx cx = {.err = stderr, .max_value = 1ull << 30};
    struct type_limits lim = TYPE_LIMITS_DEFAULT;
    struct iargs a = {.type = -1, .db = -1, .tier = -1, .sep = ':', .top = 20, .chunk = 1000, .mem = 0,
                      .max_damage = 20};
    const struct subcmd *c = NULL;
    int x;

    signal(SIGPIPE, SIG_IGN); /* a closed pipe is EPIPE: the walk stops quietly */
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0) {
            for (size_t i = 0; i < NCMDS; i++)
                if (strcmp(argv[2], cmds[i].name) == 0) {
                    cmd_usage(stdout, &cmds[i]);
                    return INS_EXIT_OK;
                }
        }
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? INS_EXIT_CANNOT : INS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("strata-inspect %s (snapshot format %d)\n", STRATA_VERSION, SNAP_VERSION);
        return INS_EXIT_OK;
    }
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            c = &cmds[i];
    if (!c) {
        fprintf(stderr, "strata-inspect: unknown subcommand '%s'\n", argv[1]);
        usage(stderr);
        return INS_EXIT_CANNOT;
    }
    cx.lim = lim;
    cx.now_ms = util_time_ms();
    x = parse(c, argc - 2, argv + 2, &a, &cx);
    if (x >= 0)
        return x;
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    out_init_file(&o, stdout);
    cx.out = &o;
    x = c->run(&cx, &a);
    out_flush(&o);
    if (o.broken)
        x = o.broken == EPIPE ? INS_EXIT_PIPE : INS_EXIT_CANNOT;
    out_fini(&o);
    if (a.peak_rss)
        print_peak_rss();
    return x;
}
