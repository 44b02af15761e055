/*
 * tests/vectors/test_wycheproof.c -- every Project Wycheproof vector in
 * tests/vectors/wycheproof/ through the verifier library.
 *
 * Primitive files (ECDSA P1363 and DER, RSASSA-PKCS1-v1_5, RSASSA-PSS,
 * Ed25519) go through the same function a JWS signature goes through,
 * jws_check(): the key is loaded with the library's own key policy
 * (eid_keyset_add_pkey), the signature must have the key's exact JOSE
 * length, and ECDSA is converted from R || S.  The JOSE files
 * (json_web_*) go through the JWS layer: the group's key set is loaded
 * with eid_keyset_add_jwks() under the profile's key rules, the token is
 * parsed by jws_parse() and checked against the key its kid names.
 *
 * The harness reads the JSON files themselves, checks numberOfTests
 * against the tests it found, and fails if a file is missing.  Where the
 * eid profile must differ from upstream's "result", the override table
 * below says so and why (tests/vectors/wycheproof/README.md has the
 * analysis).  "acceptable" cases must be rejected: the only ones are the
 * PKCS#1 MissingNull cases, and a verifier that rejects them is the
 * stricter choice RFC 8017 allows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "helpers.h"
#include "crypto.h"

#define WP_ISS	"https://wycheproof.example"

enum wp_kind {
	WP_P1363,	/* ECDSA R || S: the JWS encoding */
	WP_DER,		/* ECDSA DER: must never verify through JWS */
	WP_PKCS1,
	WP_PSS,
	WP_EDDSA,
	WP_JOSE		/* json_web_*: the JWS layer */
};

struct wp_file {
	const char	*name;
	enum wp_kind	 kind;
	enum eid_alg	 alg;
	int		 count;		/* numberOfTests, as published */
};

/* Every file in tests/vectors/wycheproof/README.md's table. */
static struct wp_file wp_files[] = {
	{ "ecdsa_secp256r1_sha256_p1363_test.json", WP_P1363, EID_ALG_ES256,
	    262 },
	{ "ecdsa_secp384r1_sha384_p1363_test.json", WP_P1363, EID_ALG_ES384,
	    280 },
	{ "ecdsa_secp256r1_sha256_test.json", WP_DER, EID_ALG_ES256, 484 },
	{ "ecdsa_secp384r1_sha384_test.json", WP_DER, EID_ALG_ES384, 504 },
	{ "rsa_signature_2048_sha256_test.json", WP_PKCS1, EID_ALG_RS256,
	    259 },
	{ "rsa_signature_3072_sha256_test.json", WP_PKCS1, EID_ALG_RS256,
	    259 },
	{ "rsa_signature_4096_sha256_test.json", WP_PKCS1, EID_ALG_RS256,
	    258 },
	{ "rsa_pss_2048_sha256_mgf1_32_test.json", WP_PSS, EID_ALG_PS256,
	    108 },
	{ "rsa_pss_3072_sha256_mgf1_32_test.json", WP_PSS, EID_ALG_PS256,
	    108 },
	{ "rsa_pss_4096_sha256_mgf1_32_test.json", WP_PSS, EID_ALG_PS256,
	    108 },
	{ "rsa_pss_2048_sha256_mgf1_32_params_test.json", WP_PSS,
	    EID_ALG_PS256, 108 },
	{ "ed25519_test.json", WP_EDDSA, EID_ALG_EDDSA, 151 },
	{ "json_web_signature_test.json", WP_JOSE, EID_ALG_NONE, 401 },
	{ "json_web_key_test.json", WP_JOSE, EID_ALG_NONE, 26 },
	{ "json_web_crypto_test.json", WP_JOSE, EID_ALG_NONE, 83 },
	{ "json_web_encryption_test.json", WP_JOSE, EID_ALG_NONE, 139 },
};

enum wp_expect {
	WP_ACCEPT,
	WP_REJECT,
	WP_SKIP
};

/* Where the eid profile differs from upstream "result", and why. */
struct wp_override {
	const char	*file;
	int		 first, last;	/* tcId range */
	enum wp_expect	 expect;
	const char	*why;
};

#define WP_JWS	"json_web_signature_test.json"
#define WP_JWK	"json_web_key_test.json"
#define WP_JWC	"json_web_crypto_test.json"
#define WP_JWE	"json_web_encryption_test.json"

static const struct wp_override wp_overrides[] = {
	{ WP_JWS, 1, 1, WP_REJECT, "HS256 is not in the profile" },
	{ WP_JWS, 259, 259, WP_REJECT,
	    "empty payload segment: detached content is refused" },
	{ WP_JWS, 264, 271, WP_REJECT, "RS384/RS512 are not in the profile" },
	{ WP_JWS, 272, 272, WP_REJECT,
	    "empty payload segment: detached content is refused" },
	{ WP_JWS, 320, 323, WP_REJECT, "PS384 is not in the profile" },
	{ WP_JWS, 325, 328, WP_REJECT, "PS512 is not in the profile" },
	{ WP_JWS, 346, 347, WP_REJECT,
	    "RFC 7520 fig. 20/27: PS384/ES512, and the JWK alg disagrees" },
	{ WP_JWS, 348, 348, WP_REJECT, "HS256 is not in the profile" },
	{ WP_JWS, 350, 351, WP_REJECT,
	    "RFC 7520 fig. 20/27: PS384/ES512, and the JWK alg disagrees" },
	{ WP_JWS, 352, 352, WP_REJECT, "HS256 is not in the profile" },
	{ WP_JWS, 357, 359, WP_REJECT, "HS256 is not in the profile" },
	{ WP_JWS, 367, 367, WP_SKIP,
	    "upstream defect: byte-identical to valid tcId 357" },
	{ WP_JWS, 370, 370, WP_SKIP,
	    "upstream defect: byte-identical to valid tcId 357" },
	{ WP_JWS, 372, 373, WP_REJECT,
	    "upstream defect: '?' inside base64url is not base64url" },
	{ WP_JWS, 376, 377, WP_REJECT, "HS256 is not in the profile" },
	{ WP_JWK, 2, 2, WP_REJECT, "HS* key sets are refused at load" },
	{ WP_JWK, 7, 7, WP_REJECT, "ROCA modulus refused at load" },
	{ WP_JWK, 13, 15, WP_REJECT, "HS* key sets are refused at load" },
	{ WP_JWC, 1, 1, WP_REJECT, "HS256 is not in the profile" },
	{ WP_JWC, 46, 46, WP_REJECT, "ROCA modulus refused at load" },
	{ WP_JWC, 48, 48, WP_REJECT,
	    "a key set of private JWKs is refused at load" },
	{ WP_JWC, 50, 83, WP_REJECT, "JWE is not a JWS: never accepted" },
	{ WP_JWE, 1, 139, WP_REJECT, "JWE is not a JWS: never accepted" },
};

/* A vector file; fails the test if it is missing or unparsable. */
static json_t *
wp_load(const char *name)
{
	char	 path[1024];

	snprintf(path, sizeof(path), "%s/wycheproof/%s", th_vectors_dir(),
	    name);
	return th_load_json(path);
}

/* Totals over the whole run, printed at the end. */
static int wp_total, wp_skipped, wp_overridden;

static const struct wp_override *
wp_override_find(const char *file, int tcid)
{
	size_t	 i;

	for (i = 0; i < sizeof(wp_overrides) / sizeof(wp_overrides[0]); i++)
		if (strcmp(wp_overrides[i].file, file) == 0 &&
		    tcid >= wp_overrides[i].first && tcid <= wp_overrides[i].last)
			return &wp_overrides[i];
	return NULL;
}

static bool
wp_has_flag(json_t *test, const char *flag)
{
	json_t	*f;
	size_t	 i;

	json_array_foreach(json_object_get(test, "flags"), i, f)
		if (json_is_string(f) && strcmp(json_string_value(f), flag) == 0)
			return true;
	return false;
}

/*
 * What the library must answer for one test.  Primitive files: upstream
 * "valid" accepts, anything else rejects, except groups whose key the
 * policy refuses (e = 3, flag SmallPublicKey: RFC 8725 section 3.2 and
 * SECURITY.md 3.9 ask for e = 65537).
 */
static enum wp_expect
wp_expected(const struct wp_file *f, json_t *test, const char **why)
{
	const struct wp_override	*o;
	const char			*r;

	*why = NULL;
	if ((o = wp_override_find(f->name, (int)json_integer_value(
	    json_object_get(test, "tcId")))) != NULL) {
		*why = o->why;
		return o->expect;
	}
	if (f->kind == WP_PKCS1 && wp_has_flag(test, "SmallPublicKey")) {
		*why = "public exponent below 65537 refused at load";
		return WP_REJECT;
	}
	r = json_string_value(json_object_get(test, "result"));
	assert_non_null(r);
	/* A DER signature is never a JWS signature (RFC 7518 section 3.4). */
	if (f->kind == WP_DER)
		return WP_REJECT;
	return strcmp(r, "valid") == 0 ? WP_ACCEPT : WP_REJECT;
}

/* A one-key set from a DER SubjectPublicKeyInfo; NULL if refused. */
static struct eid_keyset *
wp_primitive_keyset(json_t *group, enum eid_alg alg, char *err, size_t len)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	const unsigned char		*p;
	unsigned char			*der;
	size_t				 dlen;
	EVP_PKEY			*pk;
	const char			*hex;

	hex = json_string_value(json_object_get(group, "publicKeyDer"));
	assert_non_null(hex);
	der = th_hex(hex, &dlen);
	p = der;
	pk = d2i_PUBKEY(NULL, &p, (long)dlen);
	free(der);
	assert_non_null(pk);
	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	if (eid_keyset_add_pkey(b, WP_ISS, "k", alg, pk, err, len) == EID_OK)
		assert_int_equal(eid_keyset_build(b, &ks, err, len), EID_OK);
	eid_keyset_builder_free(b);
	EVP_PKEY_free(pk);
	return ks;
}

/*
 * One primitive test through jws_check(): msg plays the signing input,
 * sig the decoded signature segment.
 */
static bool
wp_primitive_accepts(const struct key *k, json_t *test)
{
	static struct jws	 j;
	unsigned char		*msg, *sig;
	size_t			 mlen, slen;
	enum eid_verdict	 v = EID_VERDICT_INTERNAL;

	msg = th_hex(json_string_value(json_object_get(test, "msg")), &mlen);
	sig = th_hex(json_string_value(json_object_get(test, "sig")), &slen);
	memset(&j, 0, sizeof(j));
	j.token = (const char *)msg;
	j.signed_len = mlen;
	j.alg = k->alg;
	if (slen <= sizeof(j.sig)) {
		memcpy(j.sig, sig, slen);
		j.sig_len = slen;
		v = jws_check(&j, k, NULL);
		/* A signature is good or bad: never an internal failure. */
		if (v != EID_VERDICT_OK && v != EID_VERDICT_BAD_SIGNATURE)
			fail_msg("tcId %d: verdict %s",
			    (int)json_integer_value(json_object_get(test,
			    "tcId")), eid_verdict_name(v));
	}
	free(msg);
	free(sig);
	return v == EID_VERDICT_OK;
}

/* The group's JWK or JWK Set as a JWK Set text; malloc'd. */
static char *
wp_jwks_text(json_t *group)
{
	json_t	*k, *set;
	char	*s;

	if ((k = json_object_get(group, "public")) == NULL)
		k = json_object_get(group, "private");
	assert_non_null(k);
	if (json_object_get(k, "keys") != NULL)
		set = json_incref(k);
	else
		set = json_pack("{s:[O]}", "keys", k);
	assert_non_null(set);
	s = th_dump(set);
	json_decref(set);
	return s;
}

static struct eid_keyset *
wp_jose_keyset(json_t *group, char *err, size_t len)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	char				*jwks;

	jwks = wp_jwks_text(group);
	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	if (eid_keyset_add_jwks(b, WP_ISS, jwks, strlen(jwks), err, len) ==
	    EID_OK)
		assert_int_equal(eid_keyset_build(b, &ks, err, len), EID_OK);
	eid_keyset_builder_free(b);
	free(jwks);
	return ks;
}

/*
 * One JOSE test through the JWS layer: parse, pick the key the kid names
 * (a token without kid may use the only key of a one-key set, as the
 * RFC examples need), check.  JSON serializations and JWEs are not
 * compact JWS strings: their text goes to the parser and must fail.
 */
static bool
wp_jose_accepts(const struct eid_keyset *ks, json_t *test)
{
	static struct jws	 j;
	const struct key	*k = NULL;
	json_t			*t;
	char			*text;
	bool			 ok = false;

	if ((t = json_object_get(test, "jws")) == NULL)
		t = json_object_get(test, "jwe");
	assert_non_null(t);
	text = json_is_string(t) ? strdup(json_string_value(t)) :
	    th_dump(t);
	assert_non_null(text);
	if (jws_parse(text, strlen(text), &j) == EID_VERDICT_OK &&
	    ks != NULL) {
		if (j.has_kid)
			k = keyset_find(ks, j.kid, strlen(j.kid));
		else if (ks->nkeys == 1)
			k = &ks->keys[0];
		ok = k != NULL && jws_check(&j, k, NULL) == EID_VERDICT_OK;
	}
	jws_clear(&j);
	free(text);
	return ok;
}

static void
test_file(void **state)
{
	const struct wp_file	*f = *state;
	struct eid_keyset	*ks;
	const struct key	*k;
	json_t			*doc, *group, *test;
	size_t			 gi, ti;
	int			 n = 0, bad = 0, refused = 0, tcid;
	enum wp_expect		 want;
	const char		*why;
	char			 err[256];
	bool			 got;

	doc = wp_load(f->name);
	assert_int_equal(json_integer_value(json_object_get(doc,
	    "numberOfTests")), f->count);
	json_array_foreach(json_object_get(doc, "testGroups"), gi, group) {
		err[0] = '\0';
		if (f->kind == WP_JOSE)
			ks = wp_jose_keyset(group, err, sizeof(err));
		else
			ks = wp_primitive_keyset(group, f->alg, err,
			    sizeof(err));
		if (ks == NULL)
			refused++;
		k = ks != NULL && f->kind != WP_JOSE ?
		    keyset_find(ks, "k", 1) : NULL;
		json_array_foreach(json_object_get(group, "tests"), ti, test) {
			n++;
			tcid = (int)json_integer_value(json_object_get(test,
			    "tcId"));
			want = wp_expected(f, test, &why);
			if (why != NULL)
				wp_overridden++;
			if (want == WP_SKIP) {
				wp_skipped++;
				continue;
			}
			if (f->kind == WP_JOSE)
				got = wp_jose_accepts(ks, test);
			else
				got = k != NULL && wp_primitive_accepts(k, test);
			if (got != (want == WP_ACCEPT)) {
				print_error("%s tcId %d (%s): %s, want %s%s%s\n",
				    f->name, tcid, json_string_value(
				    json_object_get(test, "comment")),
				    got ? "accepted" : "rejected",
				    want == WP_ACCEPT ? "accept" : "reject",
				    ks == NULL ? "; key refused: " : "",
				    ks == NULL ? err : "");
				bad++;
			}
		}
		eid_keyset_unref(ks);
	}
	json_decref(doc);
	print_message("# %s: %d tests, %d key groups refused by policy\n",
	    f->name, n, refused);
	wp_total += n;
	assert_int_equal(n, f->count);
	assert_int_equal(bad, 0);
}

/* The override table names only tests that exist (no silent drift). */
static void
test_overrides_exist(void **state)
{
	size_t	 i;
	int	 tc;
	json_t	*doc, *group, *test;
	size_t	 gi, ti;
	bool	 found;

	(void)state;
	for (i = 0; i < sizeof(wp_overrides) / sizeof(wp_overrides[0]); i++) {
		doc = wp_load(wp_overrides[i].file);
		for (tc = wp_overrides[i].first; tc <= wp_overrides[i].last;
		    tc++) {
			found = false;
			json_array_foreach(json_object_get(doc, "testGroups"),
			    gi, group)
				json_array_foreach(json_object_get(group,
				    "tests"), ti, test)
					if (json_integer_value(json_object_get(
					    test, "tcId")) == tc)
						found = true;
			if (!found)
				fail_msg("%s: no tcId %d", wp_overrides[i].file,
				    tc);
		}
		json_decref(doc);
	}
}

static int
wp_report(void **state)
{
	(void)state;
	print_message("# wycheproof: %d tests, %d by profile override, "
	    "%d skipped as upstream defects\n", wp_total, wp_overridden,
	    wp_skipped);
	return 0;
}

#define WP_CASE(i)	cmocka_unit_test_prestate(test_file, \
			    (void *)&wp_files[i])

int
main(void)
{
	const struct CMUnitTest tests[] = {
		WP_CASE(0), WP_CASE(1), WP_CASE(2), WP_CASE(3), WP_CASE(4),
		WP_CASE(5), WP_CASE(6), WP_CASE(7), WP_CASE(8), WP_CASE(9),
		WP_CASE(10), WP_CASE(11), WP_CASE(12), WP_CASE(13),
		WP_CASE(14), WP_CASE(15),
		cmocka_unit_test(test_overrides_exist),
	};

	_Static_assert(sizeof(wp_files) / sizeof(wp_files[0]) == 16,
	    "one case per vector file");
	return cmocka_run_group_tests(tests, NULL, wp_report);
}
