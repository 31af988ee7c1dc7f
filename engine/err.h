/*
 * err.h -- the one error enum every Strata module returns.
 *
 * Functions return int: 0 (ST_OK) is success, a negative ST_E* is failure.
 * Details of a failure go to the log at the place it happened; callers only
 * branch on the code.
 */
#ifndef STRATA_ERR_H
#define STRATA_ERR_H

enum st_err {
    ST_OK = 0,
    ST_ENOMEM = -1,      /* allocation failed or a memory limit was hit */
    ST_EINVAL = -2,      /* malformed argument or input */
    ST_ENOENT = -3,      /* no such key / file / item */
    ST_EEXIST = -4,      /* already exists */
    ST_EIO = -5,         /* an I/O call failed */
    ST_ERANGE = -6,      /* value out of range or would overflow */
    ST_EWRONGTYPE = -7,  /* operation against a key holding the wrong type */
    ST_ECORRUPT = -8,    /* checksum or structure check failed */
    ST_EFULL = -9,       /* a bounded resource is full */
    ST_EAGAIN = -10,     /* try again later */
    ST_ETOOBIG = -11,    /* exceeds a configured size limit */
    ST_EPENDING = -12,   /* accepted; completion comes later (engine/tier.h) */
};

/* Returns a static, human-readable name for an st_err code. */
const char *st_strerror(int err);

#endif
