/*
 * tests/helpers.h -- shared helpers of the test programs: files, hex,
 * the development key set, and a token signer with fixed keys.  Tests
 * include this, cmocka, and the internal header of the module under test.
 */
#ifndef EID_TESTS_HELPERS_H
#define EID_TESTS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "eid/jose.h"
#include "eid/verify.h"

/* The issuer the development PKI and eid-mint use. */
#define TH_ISS		"https://vneid.example"

/* Directory of the development PKI: $EID_CERTS or "certs/dev". */
const char	*th_certs_dir(void);
/* Directory of the copied test vectors: $EID_VECTORS or "tests/vectors". */
const char	*th_vectors_dir(void);

/* Path "dir/name" in a static buffer (valid until the next call). */
const char	*th_path(const char *dir, const char *name);

/* Whole file, NUL-terminated, malloc'd; *len without the NUL. NULL on error. */
char		*th_read_file(const char *path, size_t *len);

/* JSON file (fails the test if unreadable). */
json_t		*th_load_json(const char *path);

/* Hex to bytes; returns a malloc'd buffer (non-NULL even for ""). */
unsigned char	*th_hex(const char *hex, size_t *len);

/* A PEM private or public key file; NULL on error. */
EVP_PKEY	*th_load_key(const char *path);

/*
 * The development key set: anchors root-ca.crt; the five signing
 * certificates idp-*.chain.pem for TH_ISS, pinned RS256/PS256 for the
 * RSA ones.  Fails the test on error.  *kids (optional) receives the kid
 * of each algorithm, indexed by enum eid_alg.
 */
struct eid_keyset *th_dev_keyset(int64_t now);

/* The development private key of an algorithm (idp-<alg>.key). */
EVP_PKEY	*th_dev_key(enum eid_alg);

/* The kid (RFC 7638 thumbprint) of the development key of alg. */
const char	*th_dev_kid(enum eid_alg);

/* Sign header/payload JSON texts with a key; malloc'd token. */
char		*th_sign(EVP_PKEY *, enum eid_alg, const char *header,
		    const char *payload);

/*
 * Run $EID_BUILD/bin/eid-mint --certs <dev PKI> args; returns its stdout
 * (malloc'd, NUL-terminated) and its wait status in *status.
 */
char		*th_run_mint(const char *args, int *status);

/* The default policy: leeway 60 s, lifetime 24 h. */
extern const struct eid_policy th_policy;

/*
 * "now" for tests: the wall clock, read once per process, so that the
 * development certificates (made when the tests first ran) are valid.
 */
int64_t		 th_now(void);
#define TH_NOW		th_now()

/*
 * A valid claims set for TH_ISS at TH_NOW: sub 001090012345 (male, 1990),
 * aud "dichvucong", eid_level 2.  The caller frees the result.
 */
json_t		*th_claims(void);

/* Compact JSON text of an object; malloc'd. */
char		*th_dump(json_t *);

/* A header {"alg":ALG,"kid":KID,"typ":"JWT"} as text; malloc'd. */
char		*th_header(enum eid_alg, const char *kid);

#endif /* EID_TESTS_HELPERS_H */
