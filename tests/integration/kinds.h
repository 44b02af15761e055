/*
 * tests/integration/kinds.h -- every kind of token eid-mint makes and the
 * verdict each must get, written here and not read from eid-mint, for
 * the tests that compare the two (test_mint, test_eidd_verify).
 */
#ifndef EID_TESTS_KINDS_H
#define EID_TESTS_KINDS_H

#include <stdbool.h>
#include <stddef.h>

#include "eid/verify.h"

struct kind {
	const char	*name;
	enum eid_verdict want;
	int		 min_level;
	const char	*nonce;
	bool		 ec_only;
};

/* The expectations, written here and not read from eid-mint. */
static const struct kind kinds[] = {
	{ "valid", EID_VERDICT_OK, 0, NULL, false },
	{ "expired", EID_VERDICT_EXPIRED, 0, NULL, false },
	{ "not-yet-valid", EID_VERDICT_NOT_YET_VALID, 0, NULL, false },
	{ "badsig", EID_VERDICT_BAD_SIGNATURE, 0, NULL, false },
	{ "wrong-audience", EID_VERDICT_WRONG_AUDIENCE, 0, NULL, false },
	{ "wrong-issuer", EID_VERDICT_UNTRUSTED_ISSUER, 0, NULL, false },
	{ "unknown-kid", EID_VERDICT_UNKNOWN_KEY, 0, NULL, false },
	{ "alg-none", EID_VERDICT_UNSUPPORTED_ALG, 0, NULL, false },
	{ "hs256-confusion", EID_VERDICT_UNSUPPORTED_ALG, 0, NULL, false },
	{ "no-jti", EID_VERDICT_INVALID_CLAIMS, 0, NULL, false },
	{ "pin-mismatch", EID_VERDICT_INVALID_CLAIMS, 0, NULL, false },
	{ "malformed", EID_VERDICT_MALFORMED, 0, NULL, false },
	{ "crit", EID_VERDICT_MALFORMED, 0, NULL, false },
	{ "embedded-jwk", EID_VERDICT_MALFORMED, 0, NULL, false },
	{ "duplicate-claim", EID_VERDICT_MALFORMED, 0, NULL, false },
	{ "alg-mismatch", EID_VERDICT_UNSUPPORTED_ALG, 0, NULL, false },
	{ "long-lifetime", EID_VERDICT_INVALID_CLAIMS, 0, NULL, false },
	{ "low-level", EID_VERDICT_INSUFFICIENT_LEVEL, 2, NULL, false },
	{ "nonce-mismatch", EID_VERDICT_NONCE_MISMATCH, 0, "expected-nonce",
	    false },
	{ "malleated", EID_VERDICT_OK, 0, NULL, true },
};

static const char *const algs[] = { "ES256", "ES384", "RS256", "PS256",
	"EdDSA" };

#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))
#define NALGS	(sizeof(algs) / sizeof(algs[0]))

#endif /* EID_TESTS_KINDS_H */
