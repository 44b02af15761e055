/*
 * tests/fuzz/fuzz_verify.c -- libFuzzer harness for every parser of
 * untrusted bytes in crypto/: the compact JWS and header parser, the
 * claims profile, and the JWKS loader.
 *
 * The first input byte selects the target so one corpus covers all three:
 *   0: the bytes are a token for eid_verify() against the development
 *      JWKS (if $EID_CERTS/jwks.json or certs/dev/jwks.json exists) plus
 *      a fixed in-process Ed25519 key;
 *   1: the bytes are a claims JSON text for claims_parse(), the part no
 *      random token can reach because it sits behind the signature, and
 *      for the fast path claims_parse_payload() takes first, which must
 *      give the same verdict and assertion;
 *   2: the bytes are a JWKS for eid_keyset_add_jwks().
 * Each run must leave no leak: LeakSanitizer checks after every input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "eid/jose.h"
#include "eid/verify.h"
#include "crypto.h"

#define FUZZ_ISS	"https://vneid.example"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct eid_keyset *fuzz_ks;
static struct key fuzz_key;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct eid_keyset_builder	*b;
	EVP_PKEY			*ed;
	const char			*dir = getenv("EID_CERTS");
	char				 path[4096], err[256];
	static char			 iss[] = FUZZ_ISS;
	static const unsigned char	 seed[32] = { 1, 2, 3, 4, 5 };

	(void)argc;
	(void)argv;
	if (dir == NULL || *dir == '\0')
		dir = "certs/dev";
	b = eid_keyset_builder_new(0);
	ed = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
	    sizeof(seed));
	if (b == NULL || ed == NULL ||
	    eid_keyset_add_pkey(b, FUZZ_ISS, "fuzz-ed", EID_ALG_EDDSA, ed, err,
	    sizeof(err)) != EID_OK)
		abort();
	snprintf(path, sizeof(path), "%s/jwks.json", dir);
	if (eid_keyset_add_jwks_file(b, FUZZ_ISS, path, err,
	    sizeof(err)) != EID_OK)
		fprintf(stderr, "fuzz: without development keys: %s\n", err);
	if (eid_keyset_build(b, &fuzz_ks, err, sizeof(err)) != EID_OK)
		abort();
	eid_keyset_builder_free(b);
	EVP_PKEY_free(ed);
	fuzz_key.iss = iss;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct eid_policy	 pol = { 60, 86400 };
	static const struct eid_request	 req = { "dichvucong", 0, NULL };
	struct eid_assertion		 a, fast;
	struct claims_view		 view;
	struct eid_keyset_builder	*b;
	json_t				*c;
	enum eid_verdict		 v;
	char				 err[256];

	if (size < 1)
		return 0;
	switch (data[0] % 3) {
	case 0:
		v = eid_verify(fuzz_ks, (const char *)data + 1, size - 1, &req,
		    &pol, 1780272000, &a);
		if ((unsigned)v >= EID_VERDICT_COUNT)
			abort();
		break;
	case 1:
		c = json_loadb((const char *)data + 1, size - 1,
		    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
		memset(&a, 0, sizeof(a));
		v = EID_VERDICT_MALFORMED;
		if (c != NULL) {
			v = claims_parse(c, &fuzz_key, &pol, &a);
			/* an accepted identity always satisfies the profile */
			if (v == EID_VERDICT_OK && !eid_pin_is_valid(a.sub,
			    a.birthdate, a.gender))
				abort();
			json_decref(c);
		}
		/*
		 * The claims fast path (claimscan.c) must never take a text
		 * jansson refuses, and must give jansson's verdict and
		 * assertion for every text, whichever path it takes.
		 */
		if (claims_scan(data + 1, size - 1, &view) && c == NULL)
			abort();
		memset(&fast, 0, sizeof(fast));
		if (claims_parse_payload(data + 1, size - 1, &fuzz_key, &pol,
		    &fast) != v || memcmp(&fast, &a, sizeof(a)) != 0)
			abort();
		break;
	case 2:
		if ((b = eid_keyset_builder_new(1780272000)) == NULL)
			abort();
		(void)eid_keyset_add_jwks(b, FUZZ_ISS, (const char *)data + 1,
		    size - 1, err, sizeof(err));
		eid_keyset_builder_free(b);
		break;
	}
	return 0;
}
