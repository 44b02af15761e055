/*
 * load/common.h -- what the development tools of load/ (eid-mint,
 * eid-load, eid-bench-verify) share: dying on a startup failure with
 * OpenSSL's error queue, and finding and reading the development PKI's
 * signing keys (certs/mkdev.sh) in a certs directory.
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
#include <stdbool.h>
#include <stddef.h>

#include "eid/verify.h"

/* The certs directory without --certs or $EID_CERTS. */
#define COMMON_CERTS_DEFAULT	"certs/dev"

/* The status of common_fatal(): a failure that is not a usage error. */
#define COMMON_EXIT_FAILURE	1

/*
 * The development signing keys, one per algorithm of the profile, in
 * the order eid-mint --jwks prints them.  <dir>/<base>.key is the private
 * key, <dir>/<base>.chain.pem its certificate and the intermediate.
 */
#define COMMON_NDEVKEYS		5
struct common_devkey {
	enum eid_alg	 alg;
	const char	*base;		/* "idp-es256" */
};
extern const struct common_devkey common_devkeys[COMMON_NDEVKEYS];

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

/*
 * "--name value" or "--name=value" at argv[*i]: the value, *i moved to
 * the word that holds it; NULL if argv[*i] is not --name.  A --name that
 * ends the command line has no value: NULL, and *missing set.
 */
const char	*common_optarg(int argc, char **argv, int *i,
		    const char *name, bool *missing);

/* $EID_CERTS if it is set and not empty, else COMMON_CERTS_DEFAULT. */
const char	*common_certs_dir(void);

/* "dir/name" followed by suffix into out; dies if it does not fit. */
void		 common_path(char *out, size_t outlen, const char *dir,
		    const char *name, const char *suffix);

/* The base of alg's development key; dies if alg has none. */
const char	*common_devkey_base(enum eid_alg alg);

/*
 * The PEM private key in path, never prompting for a passphrase: a
 * development key with one is an error.  Dies on failure; the caller
 * frees the key with EVP_PKEY_free().
 */
struct evp_pkey_st *common_key_read(const char *path);

/*
 * The RFC 7638 thumbprint of key into kid, at least EID_THUMBPRINT_LEN
 * + 1 bytes.  Dies on failure, naming path, the file key was read from.
 */
void		 common_key_kid(const struct evp_pkey_st *key,
		    const char *path, char *kid, size_t kidlen);

#endif /* EID_LOAD_COMMON_H */
