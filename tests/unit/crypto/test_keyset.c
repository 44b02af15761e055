/*
 * tests/unit/crypto/test_keyset.c -- the trust store at load time
 * (DESIGN.md section 5, SECURITY.md 3.15): certificates that must be
 * refused with a precise reason, algorithm pinning, duplicate kids, JWKS
 * loading as all-or-nothing, and the development JWKS.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>

#include "helpers.h"
#include "crypto.h"

static const char *
cert(const char *name)
{
	return th_path(th_certs_dir(), name);
}

/* A builder with the national root as TH_ISS's anchor. */
static struct eid_keyset_builder *
builder(void)
{
	struct eid_keyset_builder	*b;
	char				 err[256];

	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	if (eid_keyset_add_anchors_file(b, TH_ISS, cert("root-ca.crt"), err,
	    sizeof(err)) != EID_OK)
		fail_msg("anchors: %s", err);
	return b;
}

struct cert_case {
	const char	*file;
	enum eid_alg	 pin;
	enum eid_err	 want;
	const char	*reason;	/* expected substring of the error */
};

static void
test_certificates(void **state)
{
	static const struct cert_case cases[] = {
		{ "idp-es256.chain.pem", EID_ALG_NONE, EID_OK, NULL },
		{ "idp-es384.chain.pem", EID_ALG_ES384, EID_OK, NULL },
		{ "idp-eddsa.chain.pem", EID_ALG_NONE, EID_OK, NULL },
		{ "idp-rs256.chain.pem", EID_ALG_RS256, EID_OK, NULL },
		{ "idp-ps256.chain.pem", EID_ALG_PS256, EID_OK, NULL },
		{ "test/rsapss-ps256.crt", EID_ALG_NONE, EID_ERR_TRUST,
		    "issuer" },			/* leaf only: no intermediate */
		{ "idp-es256.crt", EID_ALG_NONE, EID_ERR_TRUST, "issuer" },
		{ "idp-rs256.chain.pem", EID_ALG_NONE, EID_ERR_KEY, "pinned" },
		{ "idp-rs256.chain.pem", EID_ALG_ES256, EID_ERR_KEY, "pinned" },
		{ "idp-es256.chain.pem", EID_ALG_ES384, EID_ERR_KEY, "ES384" },
		{ "test/other-es256.crt", EID_ALG_NONE, EID_ERR_TRUST, NULL },
		{ "test/selfsigned-es256.crt", EID_ALG_NONE, EID_ERR_TRUST,
		    NULL },
		{ "test/root-ca-missing.crt", EID_ALG_NONE, EID_ERR_IO,
		    "No such file" },
		{ "root-ca.key", EID_ALG_NONE, EID_ERR_PARSE, "no PEM" },
	};
	struct eid_keyset_builder	*b;
	char				 err[512];
	enum eid_err			 rc;
	size_t				 i;
	int				 bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		b = builder();
		err[0] = '\0';
		rc = eid_keyset_add_cert_file(b, TH_ISS, cert(cases[i].file),
		    cases[i].pin, err, sizeof(err));
		if (rc != cases[i].want || (cases[i].reason != NULL &&
		    strstr(err, cases[i].reason) == NULL)) {
			print_error("%s: got %s (%s), want %s (%s)\n",
			    cases[i].file, eid_strerror(rc), err,
			    eid_strerror(cases[i].want),
			    cases[i].reason ? cases[i].reason : "");
			bad++;
		}
		/* the error names the file */
		if (rc != EID_OK && strstr(err, cases[i].file) == NULL) {
			print_error("%s: error does not name the file: %s\n",
			    cases[i].file, err);
			bad++;
		}
		eid_keyset_builder_free(b);
	}
	assert_int_equal(bad, 0);
}

/* Leafs with the right chain that policy or X.509 rules refuse. */
static void
test_refused_leafs(void **state)
{
	static const char *const files[] = {
		"test/nodigsig-es256.crt", "test/critext-es256.crt",
		"test/p521.crt", "test/rsa1024.crt", "test/expired-es256.crt",
		"test/future-es256.crt"
	};
	static const char *const reasons[] = {
		"digitalSignature", "critical extension", "P-256, P-384",
		"2048 to 4096", "expired", "not yet valid"
	};
	struct eid_keyset_builder	*b;
	char				*pem, *chain, err[512];
	size_t				 i, n1, n2;
	enum eid_err			 rc;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		/* leaf + intermediate, so only the leaf's own fault counts */
		pem = th_read_file(cert(files[i]), &n1);
		chain = th_read_file(cert("idp-ca.crt"), &n2);
		assert_non_null(pem);
		assert_non_null(chain);
		pem = realloc(pem, n1 + n2 + 1);
		assert_non_null(pem);
		memcpy(pem + n1, chain, n2 + 1);
		b = builder();
		rc = eid_keyset_add_cert_pem(b, TH_ISS, pem, n1 + n2,
		    EID_ALG_RS256, err, sizeof(err));
		if (rc == EID_OK)
			fail_msg("%s accepted", files[i]);
		if (strstr(err, reasons[i]) == NULL)
			fail_msg("%s: reason \"%s\" lacks \"%s\"", files[i], err,
			    reasons[i]);
		eid_keyset_builder_free(b);
		free(pem);
		free(chain);
	}
	/* The RSA-PSS SPKI key with its chain is PS256 by itself. */
	pem = th_read_file(cert("test/rsapss-ps256.crt"), &n1);
	chain = th_read_file(cert("idp-ca.crt"), &n2);
	pem = realloc(pem, n1 + n2 + 1);
	assert_non_null(pem);
	memcpy(pem + n1, chain, n2 + 1);
	b = builder();
	assert_int_equal(eid_keyset_add_cert_pem(b, TH_ISS, pem, n1 + n2,
	    EID_ALG_RS256, err, sizeof(err)), EID_ERR_KEY);
	assert_int_equal(eid_keyset_add_cert_pem(b, TH_ISS, pem, n1 + n2,
	    EID_ALG_NONE, err, sizeof(err)), EID_OK);
	eid_keyset_builder_free(b);
	free(pem);
	free(chain);
}

static void
test_anchor_rules(void **state)
{
	struct eid_keyset_builder	*b;
	char				 err[512];

	(void)state;
	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	/* certificates before anchors */
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("idp-es256.chain.pem"), EID_ALG_NONE, err, sizeof(err)),
	    EID_ERR_TRUST);
	assert_non_null(strstr(err, "anchor"));
	/* a leaf is no anchor */
	assert_int_equal(eid_keyset_add_anchors_file(b, TH_ISS,
	    cert("idp-es256.crt"), err, sizeof(err)), EID_ERR_TRUST);
	/* anchors of another issuer do not count */
	assert_int_equal(eid_keyset_add_anchors_file(b, "https://b.example",
	    cert("root-ca.crt"), err, sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("idp-es256.chain.pem"), EID_ALG_NONE, err, sizeof(err)),
	    EID_ERR_TRUST);
	/* the other root as TH_ISS's anchor: its leaf chains, ours not */
	assert_int_equal(eid_keyset_add_anchors_file(b, TH_ISS,
	    cert("test/other-root.crt"), err, sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("test/other-es256.crt"), EID_ALG_NONE, err, sizeof(err)),
	    EID_OK);
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("idp-es256.chain.pem"), EID_ALG_NONE, err, sizeof(err)),
	    EID_ERR_TRUST);
	/* bad arguments */
	assert_int_equal(eid_keyset_add_anchors_file(b, "",
	    cert("root-ca.crt"), err, sizeof(err)), EID_ERR_INVAL);
	assert_int_equal(eid_keyset_add_anchors_file(b, NULL,
	    cert("root-ca.crt"), err, sizeof(err)), EID_ERR_INVAL);
	eid_keyset_builder_free(b);
	eid_keyset_builder_free(NULL);
}

static void
test_duplicates_and_build(void **state)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	EVP_PKEY			*k;
	char				 err[512];

	(void)state;
	b = builder();
	assert_int_equal(eid_keyset_build(b, &ks, err, sizeof(err)),
	    EID_ERR_INVAL);		/* empty */
	assert_null(ks);
	eid_keyset_builder_free(b);

	b = builder();
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("idp-es256.chain.pem"), EID_ALG_NONE, err, sizeof(err)),
	    EID_OK);
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("idp-es256.chain.pem"), EID_ALG_NONE, err, sizeof(err)),
	    EID_ERR_DUPLICATE);
	assert_non_null(strstr(err, th_dev_kid(EID_ALG_ES256)));
	/* the same key bare under its thumbprint: duplicate as well */
	k = th_dev_key(EID_ALG_ES256);
	assert_int_equal(eid_keyset_add_pkey(b, TH_ISS, NULL, EID_ALG_NONE, k,
	    err, sizeof(err)), EID_ERR_DUPLICATE);
	/* under another kid, for another issuer: a distinct key entry */
	assert_int_equal(eid_keyset_add_pkey(b, "https://b.example", "b-1",
	    EID_ALG_ES256, k, err, sizeof(err)), EID_OK);
	EVP_PKEY_free(k);
	assert_int_equal(eid_keyset_build(b, &ks, err, sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_count(ks), 2);
	/* a built builder takes nothing more */
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    cert("idp-es384.chain.pem"), EID_ALG_NONE, err, sizeof(err)),
	    EID_ERR_INVAL);
	eid_keyset_builder_free(b);
	eid_keyset_unref(ks);
}

static enum eid_err
jwks(struct eid_keyset_builder *b, const char *text)
{
	char	 err[512];

	return eid_keyset_add_jwks(b, TH_ISS, text, strlen(text), err,
	    sizeof(err));
}

#define ED_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

static void
test_jwks(void **state)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	struct eid_key_info		 ki;
	char				 err[512];

	(void)state;
	b = builder();
	assert_int_equal(jwks(b, "{\"keys\":[]}"), EID_ERR_PARSE);
	assert_int_equal(jwks(b, "{\"keys\":{}}"), EID_ERR_PARSE);
	assert_int_equal(jwks(b, "[]"), EID_ERR_PARSE);
	assert_int_equal(jwks(b, "{\"keys\":[1]}"), EID_ERR_PARSE);
	assert_int_equal(jwks(b, "{\"keys\":[],\"keys\":[]}"), EID_ERR_PARSE);
	assert_int_equal(jwks(b, "{\"keys\":[{\"kty\":\"OKP\"}"), EID_ERR_PARSE);
	/* all or nothing: a good key followed by a bad one adds nothing */
	assert_int_equal(jwks(b, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":"
	    "\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"ed-1\"},{\"kty\":\"oct\","
	    "\"k\":\"AAAA\"}]}"), EID_ERR_KEY);
	/* duplicate kid inside one set */
	assert_int_equal(jwks(b, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":"
	    "\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"ed-1\"},{\"kty\":\"OKP\","
	    "\"crv\":\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"ed-1\"}]}"),
	    EID_ERR_DUPLICATE);
	assert_int_equal(jwks(b, "{\"keys\":[{\"kty\":\"OKP\",\"crv\":"
	    "\"Ed25519\",\"x\":\"" ED_X "\",\"kid\":\"ed-1\"}]}"), EID_OK);
	assert_int_equal(eid_keyset_build(b, &ks, err, sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_count(ks), 1);
	assert_true(eid_keyset_key_info(ks, 0, &ki));
	assert_string_equal(ki.kid, "ed-1");
	assert_false(ki.from_certificate);
	assert_true(ki.not_after == INT64_MAX);
	eid_keyset_builder_free(b);
	eid_keyset_unref(ks);
}

/* The development JWKS (written by eid-mint --jwks) matches the certs. */
static void
test_dev_jwks(void **state)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	struct eid_key_info		 ki;
	char				 err[512];
	size_t				 i;

	(void)state;
	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	if (eid_keyset_add_jwks_file(b, TH_ISS, cert("jwks.json"), err,
	    sizeof(err)) != EID_OK)
		fail_msg("%s", err);
	assert_int_equal(eid_keyset_build(b, &ks, err, sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_count(ks), 5);
	for (i = 0; i < 5; i++) {
		assert_true(eid_keyset_key_info(ks, i, &ki));
		assert_string_equal(ki.kid, th_dev_kid(ki.alg));
	}
	eid_keyset_builder_free(b);
	eid_keyset_unref(ks);
}

/* A cached assertion is only as good as the key that verified it. */
static void
test_has_key(void **state)
{
	struct eid_keyset		*ks, *other;
	struct eid_keyset_builder	*b;
	struct eid_assertion		 a;
	struct eid_request		 r = { "dichvucong", 0, NULL };
	EVP_PKEY			*k;
	json_t				*c;
	char				*h, *p, *t, err[256];

	(void)state;
	ks = th_dev_keyset(TH_NOW);
	k = th_dev_key(EID_ALG_ES256);
	c = th_claims();
	h = th_header(EID_ALG_ES256, th_dev_kid(EID_ALG_ES256));
	p = th_dump(c);
	t = th_sign(k, EID_ALG_ES256, h, p);
	assert_int_equal(eid_verify(ks, t, strlen(t), &r, &th_policy, TH_NOW,
	    &a), EID_VERDICT_OK);
	assert_true(eid_keyset_has_key(ks, &a));

	/* The same kid for another key (a JWKS may name kids freely). */
	other = NULL;
	b = eid_keyset_builder_new(TH_NOW);
	{
		EVP_PKEY *k2 = EVP_EC_gen("P-256");

		assert_non_null(k2);
		assert_int_equal(eid_keyset_add_pkey(b, TH_ISS,
		    th_dev_kid(EID_ALG_ES256), EID_ALG_ES256, k2, err,
		    sizeof(err)), EID_OK);
		EVP_PKEY_free(k2);
	}
	assert_int_equal(eid_keyset_build(b, &other, err, sizeof(err)),
	    EID_OK);
	eid_keyset_builder_free(b);
	assert_false(eid_keyset_has_key(other, &a));

	/* Another issuer or algorithm under the same key: not the same. */
	memcpy(a.iss, "https://other.example", 22);
	assert_false(eid_keyset_has_key(ks, &a));
	memcpy(a.iss, TH_ISS, sizeof(TH_ISS));
	assert_true(eid_keyset_has_key(ks, &a));
	a.alg = EID_ALG_ES384;
	assert_false(eid_keyset_has_key(ks, &a));
	assert_false(eid_keyset_has_key(NULL, &a));

	eid_keyset_unref(other);
	eid_keyset_unref(ks);
	EVP_PKEY_free(k);
	json_decref(c);
	free(h);
	free(p);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_certificates),
		cmocka_unit_test(test_refused_leafs),
		cmocka_unit_test(test_anchor_rules),
		cmocka_unit_test(test_duplicates_and_build),
		cmocka_unit_test(test_jwks),
		cmocka_unit_test(test_dev_jwks),
		cmocka_unit_test(test_has_key),
	};

	return cmocka_run_group_tests_name("keyset", tests, NULL, NULL);
}
