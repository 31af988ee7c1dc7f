/*
 * log.c -- leveled log lines: "pid:role dd Mon yyyy hh:mm:ss.mmm <lvl> msg".
 *
 * The destination and level are process-wide: logging is the one facility
 * main() sets up before anything else and every thread shares, like stderr
 * itself. Level changes at run time (CONFIG SET loglevel) are atomic stores.
 * Each line is formatted on the stack and written with one write(2), so
 * lines from different threads never interleave.
 */
#include "server/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine/err.h"

static int log_fd = 2;
static int log_level = LOG_NOTICE;

int log_open(int level, const char *path)
{
    log_level = level;
    if (path && *path) {
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return ST_EIO;
        log_fd = fd;
    }
    return ST_OK;
}

void log_close(void)
{
    if (log_fd > 2)
        close(log_fd);
    log_fd = 2;
}

void log_set_level(int level)
{
    __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

void log_msg(int level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (level < __atomic_load_n(&log_level, __ATOMIC_RELAXED))
        return;
    char line[1024];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%d:M ", (int)getpid());
    n += (int)strftime(line + n, sizeof(line) - (size_t)n, "%d %b %Y %H:%M:%S", &tm);
    n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03d %c ", (int)(tv.tv_usec / 1000),
                  marks[level < 0 ? 0 : level > 3 ? 3 : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    ssize_t w = write(log_fd, line, (size_t)n);
    (void)w;
}
