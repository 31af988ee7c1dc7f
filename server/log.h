/*
 * log.h -- leveled logging to stderr or a file, one line per call, with a
 * timestamp and thread role. Thread-safe (one write(2) per line).
 */
#ifndef STRATA_LOG_H
#define STRATA_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3 };

/* Sets the threshold and destination (NULL or "" for stderr). Call from main
 * before threads start; returns 0 or ST_EIO. */
int log_open(int level, const char *path);
void log_close(void);
void log_set_level(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif
