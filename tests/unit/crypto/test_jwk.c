/*
 * tests/unit/crypto/test_jwk.c -- JWK import under the key policy
 * (SECURITY.md 3.15), RFC 7638 thumbprints, export round trips and the
 * ROCA fingerprint.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "helpers.h"
#include "crypto.h"

/* RFC 7638 section 3.1 example key and its thumbprint. */
#define RFC7638_N "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAt" \
    "VT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4" \
    "Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZ" \
    "gnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0" \
    "fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
#define RFC7638_THP "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/* RFC 8037 appendix A.2 public key and its A.3 thumbprint. */
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_THP "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

static enum eid_err
import_text(const char *text, EVP_PKEY **pk, enum eid_alg *alg, char *kid)
{
	json_error_t	 jerr;
	json_t		*j, *x5c;
	char		 err[256];
	enum eid_err	 rc;

	j = json_loads(text, 0, &jerr);
	if (j == NULL)
		fail_msg("test JWK does not parse: %s", jerr.text);
	rc = jwk_import(j, pk, alg, kid, &x5c, err, sizeof(err));
	json_decref(j);
	return rc;
}

static void
test_thumbprints(void **state)
{
	EVP_PKEY	*pk = NULL;
	enum eid_alg	 alg;
	char		 kid[EID_KID_MAX + 1], tp[64];

	(void)state;
	assert_int_equal(import_text("{\"kty\":\"RSA\",\"alg\":\"RS256\","
	    "\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}", &pk, &alg, kid), EID_OK);
	assert_int_equal(alg, EID_ALG_RS256);
	assert_string_equal(kid, "");
	assert_int_equal(eid_jwk_thumbprint(pk, tp, sizeof(tp)), EID_OK);
	assert_string_equal(tp, RFC7638_THP);
	EVP_PKEY_free(pk);

	assert_int_equal(import_text("{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
	    "\"x\":\"" RFC8037_X "\"}", &pk, &alg, kid), EID_OK);
	assert_int_equal(alg, EID_ALG_EDDSA);
	assert_int_equal(eid_jwk_thumbprint(pk, tp, sizeof(tp)), EID_OK);
	assert_string_equal(tp, RFC8037_THP);
	/* output buffer too small */
	assert_int_equal(eid_jwk_thumbprint(pk, tp, EID_THUMBPRINT_LEN),
	    EID_ERR_INVAL);
	EVP_PKEY_free(pk);
}

/* Every development key exports to a JWK that imports to the same key. */
static void
test_export_roundtrip(void **state)
{
	int		 a;
	EVP_PKEY	*priv, *pk = NULL;
	enum eid_alg	 alg;
	char		*json, kid[EID_KID_MAX + 1];

	(void)state;
	for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++) {
		priv = th_dev_key((enum eid_alg)a);
		assert_int_equal(eid_jwk_export(priv, (enum eid_alg)a, NULL,
		    &json), EID_OK);
		/* only public members leave */
		assert_null(strstr(json, "\"d\""));
		assert_non_null(strstr(json, "\"use\":\"sig\""));
		assert_int_equal(import_text(json, &pk, &alg, kid), EID_OK);
		assert_int_equal(alg, a);
		assert_string_equal(kid, th_dev_kid((enum eid_alg)a));
		assert_int_equal(EVP_PKEY_eq(pk, priv), 1);
		EVP_PKEY_free(pk);
		free(json);
		EVP_PKEY_free(priv);
	}
}

struct jwk_case {
	const char	*jwk;
	enum eid_err	 want;
};

static void
test_refused(void **state)
{
	static const struct jwk_case cases[] = {
		/* symmetric, private members */
		{ "{\"kty\":\"oct\",\"k\":\"AAAA\"}", EID_ERR_KEY },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\"}",
		    EID_ERR_KEY },
		{ "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"AQAB\",\"p\":\"AQAB\"}", EID_ERR_KEY },
		/* curves and types outside the profile */
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"" RFC8037_X
		    "\"}", EID_ERR_KEY },
		{ "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"" RFC8037_X
		    "\"}", EID_ERR_KEY },
		{ "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AAAA\",\"y\":"
		    "\"AAAA\"}", EID_ERR_KEY },
		{ "{\"kty\":\"EC\",\"crv\":\"secp256k1\",\"x\":\"AAAA\",\"y\":"
		    "\"AAAA\"}", EID_ERR_KEY },
		{ "{\"kty\":\"XYZ\"}", EID_ERR_KEY },
		{ "{\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X "\"}",
		    EID_ERR_PARSE },
		/* use / key_ops / alg */
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"use\":\"enc\"}", EID_ERR_KEY },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"key_ops\":[\"sign\"]}", EID_ERR_KEY },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"key_ops\":\"verify\"}", EID_ERR_PARSE },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"alg\":\"ES256\"}", EID_ERR_KEY },
		{ "{\"kty\":\"RSA\",\"n\":\"" RFC7638_N "\",\"e\":\"AQAB\"}",
		    EID_ERR_KEY },	/* RSA without alg: not pinned */
		{ "{\"kty\":\"RSA\",\"alg\":\"RSA1_5\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"AQAB\"}", EID_ERR_KEY },
		{ "{\"kty\":\"RSA\",\"alg\":\"HS256\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"AQAB\"}", EID_ERR_KEY },
		/* exponent policy: e = 3, e = 2^64 + 1 */
		{ "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"Aw\"}", EID_ERR_KEY },
		{ "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"AQAAAAAAAAAB\"}", EID_ERR_KEY },
		/* kty contradicted by members */
		{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"AQAB\"}", EID_ERR_KEY },
		{ "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"n\":\"" RFC7638_N
		    "\",\"e\":\"AQAB\",\"crv\":\"P-256\"}", EID_ERR_KEY },
		/* Ed25519 x of the wrong length; not base64url */
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
		    EID_ERR_KEY },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "=\"}", EID_ERR_KEY },
		/* an EC point that is not on the curve */
		{ "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
		    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\",\"y\":"
		    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}",
		    EID_ERR_KEY },
		/* kid shapes */
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"kid\":\"\"}", EID_ERR_PARSE },
		{ "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"" RFC8037_X
		    "\",\"kid\":7}", EID_ERR_PARSE },
	};
	EVP_PKEY	*pk = NULL;
	enum eid_alg	 alg;
	char		 kid[EID_KID_MAX + 1];
	enum eid_err	 rc;
	size_t		 i;
	int		 bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pk = NULL;
		rc = import_text(cases[i].jwk, &pk, &alg, kid);
		if (rc != cases[i].want) {
			print_error("case %zu: got %s, want %s\n", i,
			    eid_strerror(rc), eid_strerror(cases[i].want));
			bad++;
		}
		if (rc != EID_OK)
			assert_null(pk);
		EVP_PKEY_free(pk);
	}
	assert_int_equal(bad, 0);
}

/* A small-modulus RSA key from OpenSSL, to test the size policy. */
static void
test_rsa_size_policy(void **state)
{
	EVP_PKEY	*k1024, *k2048;
	enum eid_alg	 alg = EID_ALG_RS256;
	char		 err[256];

	(void)state;
	k1024 = EVP_RSA_gen(1024);
	assert_non_null(k1024);
	assert_int_equal(jwk_key_policy(k1024, &alg, err, sizeof(err)),
	    EID_ERR_KEY);
	assert_non_null(strstr(err, "1024"));
	k2048 = EVP_RSA_gen(2048);
	assert_non_null(k2048);
	alg = EID_ALG_NONE;
	assert_int_equal(jwk_key_policy(k2048, &alg, err, sizeof(err)),
	    EID_ERR_KEY);	/* must be pinned */
	alg = EID_ALG_PS256;
	assert_int_equal(jwk_key_policy(k2048, &alg, err, sizeof(err)),
	    EID_OK);
	assert_int_equal(alg, EID_ALG_PS256);
	alg = EID_ALG_ES256;
	assert_int_equal(jwk_key_policy(k2048, &alg, err, sizeof(err)),
	    EID_ERR_KEY);
	EVP_PKEY_free(k1024);
	EVP_PKEY_free(k2048);
}

/*
 * ROCA moduli are congruent to powers of 65537 modulo every small prime
 * of the generator's primorial; a plain power of 65537 has that
 * structure, an ordinary modulus does not.
 */
static void
test_roca(void **state)
{
	BN_CTX	*ctx = BN_CTX_new();
	BIGNUM	*n = BN_new(), *g = BN_new(), *e = BN_new();
	EVP_PKEY *k;

	(void)state;
	assert_int_equal(BN_set_word(g, 65537), 1);
	assert_int_equal(BN_set_word(e, 37), 1);
	assert_int_equal(BN_exp(n, g, e, ctx), 1);
	assert_true(jwk_rsa_is_roca(n));
	assert_int_equal(BN_add_word(n, 2), 1);
	assert_false(jwk_rsa_is_roca(n));
	/* a freshly generated key is not flagged */
	k = th_dev_key(EID_ALG_RS256);
	{
		BIGNUM	*m = NULL;

		assert_int_equal(EVP_PKEY_get_bn_param(k, "n", &m), 1);
		assert_false(jwk_rsa_is_roca(m));
		BN_free(m);
	}
	EVP_PKEY_free(k);
	BN_free(n);
	BN_free(g);
	BN_free(e);
	BN_CTX_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thumbprints),
		cmocka_unit_test(test_export_roundtrip),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_rsa_size_policy),
		cmocka_unit_test(test_roca),
	};

	return cmocka_run_group_tests_name("jwk", tests, NULL, NULL);
}
