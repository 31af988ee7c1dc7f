/*
 * test_ssd_contract.c -- the SSD tier held to the shared indexed-tier
 * contract (index_contract.h), with its maintenance thread and I/O threads
 * running as in the server, O_DIRECT where the file system allows it, and
 * small segments so the tests cross segment boundaries. test_ssd.c has the
 * tier's own behaviour (buffers, compaction, attach, damage, failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <unistd.h>

#include "index_contract.h"
#include "tiers/ssd.h"

static int ssd_setup(void **state)
{
    struct ixfix *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->path, sizeof(f->path), "/tmp/strata-ssd-contract-XXXXXX");
    if (!mkdtemp(f->path))
        return -1;
    struct ssd_conf c;
    ssd_conf_defaults(&c);
    c.dir = f->path;
    c.size = 64u << 20;
    c.segment_size = 1u << 20;
    c.write_buffer = 64u << 10;
    c.databases = 16;
    if (ssd_create(&c, &f->t) != ST_OK)
        return -1;
    *state = f;
    return 0;
}

static int ssd_teardown(void **state)
{
    struct ixfix *f = *state;
    tier_destroy(&f->t);
    assert_null(f->t);
    DIR *d = opendir(f->path);
    struct dirent *de;
    char p[512];
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->path, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->path);
    free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        INDEX_CONTRACT_TESTS(ssd_setup, ssd_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
