/*
 * load/common.h -- what the development tools of load/ (eid-mint,
 * eid-load, eid-bench-verify) share: dying on a startup failure with
 * OpenSSL's error queue, and the certs directory of the development PKI.
 *
 * These are tools, not a library: every function here that can fail
 * prints "prog: message" to stderr and exits with status 1 instead of
 * returning.  Call common_setprog() first in main(), before any thread
 * starts; after that every function may be called from any thread.
 * Like the rest of load/, this module uses the public headers of
 * include/eid/ only.
 */
#ifndef EID_LOAD_COMMON_H
#define EID_LOAD_COMMON_H

#include <stdarg.h>

/* The certs directory without --certs or $EID_CERTS. */
#define COMMON_CERTS_DEFAULT	"certs/dev"

/* The status of common_fatal(): a failure that is not a usage error. */
#define COMMON_EXIT_FAILURE	1

/* The name that prefixes every message; prog must outlive the program. */
void		 common_setprog(const char *prog);

/*
 * "prog: message", then OpenSSL's whole error queue on the same line,
 * then exit(COMMON_EXIT_FAILURE).  stdout is not flushed first.
 */
void		 common_fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
void		 common_vfatal(const char *, va_list)
		    __attribute__((format(printf, 1, 0), noreturn));

/* $EID_CERTS if it is set and not empty, else COMMON_CERTS_DEFAULT. */
const char	*common_certs_dir(void);

#endif /* EID_LOAD_COMMON_H */
