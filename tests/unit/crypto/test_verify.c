/*
 * tests/unit/crypto/test_verify.c -- the public verification API end to
 * end with the development key set: every algorithm, the per-request
 * checks and their boundaries (SECURITY.md 3.11, 3.12), the cache
 * property (a stored assertion re-checked later), policy validation,
 * reference counting and concurrent use of one key set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <cmocka.h>
#include <openssl/err.h>

#include "helpers.h"
#include "crypto.h"

static const enum eid_alg all_algs[] = {
	EID_ALG_ES256, EID_ALG_ES384, EID_ALG_RS256, EID_ALG_PS256,
	EID_ALG_EDDSA
};
#define NALGS	(sizeof(all_algs) / sizeof(all_algs[0]))

static struct eid_keyset *ks;
static EVP_PKEY *keys[6];

static int
setup(void **state)
{
	size_t	 i;

	(void)state;
	ks = th_dev_keyset(TH_NOW);
	for (i = 0; i < NALGS; i++)
		keys[all_algs[i]] = th_dev_key(all_algs[i]);
	return 0;
}

static int
teardown(void **state)
{
	size_t	 i;

	(void)state;
	eid_keyset_unref(ks);
	for (i = 0; i < 6; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/* A token of alg whose claims are th_claims() with changes applied. */
static char *
mint(enum eid_alg alg, json_t *claims)
{
	char	*h, *p, *t;

	h = th_header(alg, th_dev_kid(alg));
	p = th_dump(claims);
	t = th_sign(keys[alg], alg, h, p);
	free(h);
	free(p);
	return t;
}

static enum eid_verdict
verify_at(const char *token, const struct eid_request *req, int64_t now,
    struct eid_assertion *a)
{
	return eid_verify(ks, token, strlen(token), req, &th_policy, now, a);
}

static const struct eid_request req_dvc = { "dichvucong", 0, NULL };

static void
test_every_algorithm(void **state)
{
	struct eid_assertion	 a;
	json_t			*c;
	char			*t;
	size_t			 i;

	(void)state;
	for (i = 0; i < NALGS; i++) {
		c = th_claims();
		t = mint(all_algs[i], c);
		json_decref(c);
		assert_int_equal(verify_at(t, &req_dvc, TH_NOW, &a),
		    EID_VERDICT_OK);
		assert_int_equal(a.alg, all_algs[i]);
		assert_string_equal(a.kid, th_dev_kid(all_algs[i]));
		assert_string_equal(a.sub, "001090012345");
		assert_string_equal(a.name, "Nguy\xe1\xbb\x85n V\xc4\x83n An");
		/* the key came from a certificate: its validity is carried */
		assert_true(a.key_not_before > 0);
		assert_true(a.key_not_after > TH_NOW);
		free(t);
	}
}

static void
sha256_of(const char *p, size_t n, unsigned char md[32])
{
	assert_int_equal(EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL), 1);
}

/*
 * eid_token_hash() gives the SHA-256 of the token and of its signing
 * input, and eid_verify_token_hashed() verifies against the latter: a
 * digest changed by one bit turns an RS256, PS256 or ES256 token into a
 * bad signature (so the digest is what is checked), while ES384 and EdDSA
 * keys, which do not sign a SHA-256, ignore it.  Hashes of other bytes
 * are never used.
 */
static void
test_token_hash(void **state)
{
	struct eid_hasher	*hs;
	struct eid_token_hash	 h, bad, other;
	struct eid_assertion	 a, b;
	unsigned char		 md[32];
	json_t			*c;
	char			*t, *t2;
	const char		*dot;
	size_t			 i, len;
	enum eid_verdict	 want;

	(void)state;
	assert_non_null(hs = eid_hasher_new());
	for (i = 0; i < NALGS; i++) {
		c = th_claims();
		t = mint(all_algs[i], c);
		t2 = mint(all_algs[i], c);
		json_decref(c);
		len = strlen(t);
		assert_int_equal(eid_token_hash(hs, t, len, &h), 0);
		sha256_of(t, len, md);
		assert_memory_equal(h.token_sha256, md, 32);
		assert_non_null(dot = strrchr(t, '.'));
		assert_int_equal(h.signing_len, (size_t)(dot - t));
		sha256_of(t, h.signing_len, md);
		assert_memory_equal(h.signing_sha256, md, 32);
		assert_ptr_equal(h.token, t);
		assert_int_equal(h.len, len);

		/* The same verdict and assertion as without the hashes. */
		assert_int_equal(eid_verify_token(ks, t, len, &th_policy, &a),
		    EID_VERDICT_OK);
		assert_int_equal(eid_verify_token_hashed(ks, t, len, &h,
		    &th_policy, &b), EID_VERDICT_OK);
		assert_string_equal(a.sub, b.sub);
		assert_string_equal(a.jti, b.jti);
		assert_int_equal(a.exp, b.exp);
		assert_int_equal(a.alg, b.alg);

		/* One bit of the digest: only a SHA-256 signature sees it. */
		bad = h;
		bad.signing_sha256[7] ^= 0x10;
		want = all_algs[i] == EID_ALG_ES384 ||
		    all_algs[i] == EID_ALG_EDDSA ? EID_VERDICT_OK :
		    EID_VERDICT_BAD_SIGNATURE;
		assert_int_equal(eid_verify_token_hashed(ks, t, len, &bad,
		    &th_policy, &b), want);
		/* Good or bad, nothing is left in OpenSSL's error queue. */
		assert_int_equal(ERR_peek_error(), 0);

		/* Hashes of other bytes, or another length, are not used. */
		assert_int_equal(eid_token_hash(hs, t2, strlen(t2), &other),
		    0);
		other.signing_sha256[7] ^= 0x10;
		assert_int_equal(eid_verify_token_hashed(ks, t, len, &other,
		    &th_policy, &b), EID_VERDICT_OK);
		bad.len = len - 1;
		assert_int_equal(eid_verify_token_hashed(ks, t, len, &bad,
		    &th_policy, &b), EID_VERDICT_OK);
		free(t);
		free(t2);
	}

	/* Fewer than two dots: the token's hash only. */
	assert_int_equal(eid_token_hash(hs, "abc.def", 7, &h), 0);
	assert_int_equal(h.signing_len, 0);
	sha256_of("abc.def", 7, md);
	assert_memory_equal(h.token_sha256, md, 32);
	assert_int_equal(eid_verify_token_hashed(ks, "abc.def", 7, &h,
	    &th_policy, &a), EID_VERDICT_MALFORMED);
	assert_int_equal(eid_token_hash(hs, "", 0, &h), 0);
	sha256_of("", 0, md);
	assert_memory_equal(h.token_sha256, md, 32);

	/* Fails closed. */
	assert_int_equal(eid_token_hash(NULL, "a.b.c", 5, &h), -1);
	assert_null(h.token);
	assert_int_equal(eid_token_hash(hs, NULL, 5, &h), -1);
	assert_int_equal(eid_token_hash(hs, "a.b.c", 5, NULL), -1);
	eid_hasher_free(hs);
	eid_hasher_free(NULL);
}

/* exp = T - L is expired; one second later it is not (leeway 60 s). */
static void
test_time_boundaries(void **state)
{
	struct eid_assertion	 a;
	json_t			*c;
	char			*t;
	int64_t			 exp = TH_NOW + 600, iat = TH_NOW - 60;
	int64_t			 nbf = TH_NOW + 100;

	(void)state;
	c = th_claims();
	json_object_set_new(c, "nbf", json_integer(nbf));
	t = mint(EID_ALG_ES256, c);
	json_decref(c);
	assert_int_equal(eid_verify_token(ks, t, strlen(t), &th_policy, &a),
	    EID_VERDICT_OK);
	/* Cached assertion re-checked at later times: no re-verification. */
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    exp + 60), EID_VERDICT_EXPIRED);
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    exp + 59), EID_VERDICT_OK);
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    exp + 61), EID_VERDICT_EXPIRED);
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    nbf - 60), EID_VERDICT_OK);
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    nbf - 61), EID_VERDICT_NOT_YET_VALID);
	/* iat in the future beyond the leeway */
	assert_int_equal(iat - 61 < nbf - 61, 1);
	free(t);

	c = th_claims();
	t = mint(EID_ALG_ES256, c);
	json_decref(c);
	assert_int_equal(verify_at(t, &req_dvc, iat - 60, &a), EID_VERDICT_OK);
	assert_int_equal(verify_at(t, &req_dvc, iat - 61, &a),
	    EID_VERDICT_NOT_YET_VALID);
	/* On a failure the assertion is wiped. */
	assert_int_equal(a.sub[0], '\0');
	free(t);
}

static void
test_leeway_zero(void **state)
{
	const struct eid_policy	 strict = { 0, 86400 };
	struct eid_assertion	 a;
	json_t			*c;
	char			*t;

	(void)state;
	c = th_claims();
	t = mint(EID_ALG_EDDSA, c);
	json_decref(c);
	assert_int_equal(eid_verify(ks, t, strlen(t), &req_dvc, &strict,
	    TH_NOW + 599, &a), EID_VERDICT_OK);
	assert_int_equal(eid_verify(ks, t, strlen(t), &req_dvc, &strict,
	    TH_NOW + 600, &a), EID_VERDICT_EXPIRED);
	free(t);
}

static void
test_audience(void **state)
{
	const struct eid_request	 bhxh = { "bhxh", 0, NULL };
	const struct eid_request	 none = { NULL, 0, NULL };
	const struct eid_request	 empty = { "", 0, NULL };
	const struct eid_request	 upper = { "DICHVUCONG", 0, NULL };
	struct eid_assertion		 a;
	json_t				*c;
	char				*t;

	(void)state;
	c = th_claims();
	t = mint(EID_ALG_ES256, c);
	assert_int_equal(verify_at(t, &bhxh, TH_NOW, &a),
	    EID_VERDICT_WRONG_AUDIENCE);
	assert_int_equal(verify_at(t, &none, TH_NOW, &a),
	    EID_VERDICT_WRONG_AUDIENCE);
	assert_int_equal(verify_at(t, &empty, TH_NOW, &a),
	    EID_VERDICT_WRONG_AUDIENCE);
	assert_int_equal(verify_at(t, &upper, TH_NOW, &a),
	    EID_VERDICT_WRONG_AUDIENCE);
	free(t);

	json_object_set_new(c, "aud", json_pack("[ss]", "dichvucong", "bhxh"));
	t = mint(EID_ALG_ES256, c);
	assert_int_equal(verify_at(t, &bhxh, TH_NOW, &a), EID_VERDICT_OK);
	assert_int_equal(verify_at(t, &req_dvc, TH_NOW, &a), EID_VERDICT_OK);
	free(t);

	/* One assertion, verified for A, then asked for by B: wrong. */
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    TH_NOW), EID_VERDICT_OK);
	json_object_set_new(c, "aud", json_string("dichvucong"));
	t = mint(EID_ALG_ES256, c);
	assert_int_equal(eid_verify_token(ks, t, strlen(t), &th_policy, &a),
	    EID_VERDICT_OK);
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy, TH_NOW),
	    EID_VERDICT_OK);
	assert_int_equal(eid_check_assertion(&a, &bhxh, &th_policy, TH_NOW),
	    EID_VERDICT_WRONG_AUDIENCE);
	free(t);

	json_object_del(c, "aud");
	t = mint(EID_ALG_ES256, c);
	assert_int_equal(verify_at(t, &req_dvc, TH_NOW, &a),
	    EID_VERDICT_WRONG_AUDIENCE);
	free(t);
	json_decref(c);
}

static void
test_level_and_nonce(void **state)
{
	const struct eid_request	 l2 = { "dichvucong", 2, NULL };
	const struct eid_request	 n1 = { "dichvucong", 0, "n-1" };
	struct eid_assertion		 a;
	json_t				*c;
	char				*t;

	(void)state;
	c = th_claims();
	json_object_set_new(c, "eid_level", json_integer(1));
	t = mint(EID_ALG_PS256, c);
	assert_int_equal(verify_at(t, &l2, TH_NOW, &a),
	    EID_VERDICT_INSUFFICIENT_LEVEL);
	assert_int_equal(verify_at(t, &req_dvc, TH_NOW, &a), EID_VERDICT_OK);
	/* expected nonce, token has none */
	assert_int_equal(verify_at(t, &n1, TH_NOW, &a),
	    EID_VERDICT_NONCE_MISMATCH);
	free(t);
	json_object_set_new(c, "nonce", json_string("n-2"));
	t = mint(EID_ALG_PS256, c);
	assert_int_equal(verify_at(t, &n1, TH_NOW, &a),
	    EID_VERDICT_NONCE_MISMATCH);
	free(t);
	json_object_set_new(c, "nonce", json_string("n-1"));
	t = mint(EID_ALG_PS256, c);
	assert_int_equal(verify_at(t, &n1, TH_NOW, &a), EID_VERDICT_OK);
	assert_string_equal(a.nonce, "n-1");
	free(t);
	json_decref(c);
}

/* Once the signing certificate has expired, its tokens are untrusted. */
static void
test_key_validity(void **state)
{
	struct eid_assertion	 a;
	json_t			*c;
	char			*t;
	int64_t			 later;

	(void)state;
	c = th_claims();
	t = mint(EID_ALG_RS256, c);
	json_decref(c);
	assert_int_equal(eid_verify_token(ks, t, strlen(t), &th_policy, &a),
	    EID_VERDICT_OK);
	later = a.key_not_after + 1;
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy, later),
	    EID_VERDICT_UNTRUSTED_ISSUER);
	assert_int_equal(eid_check_assertion(&a, &req_dvc, &th_policy,
	    a.key_not_before - 1), EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
}

static void
test_fail_closed_arguments(void **state)
{
	const struct eid_policy	 bad_leeway = { -1, 86400 };
	const struct eid_policy	 bad_life = { 60, 0 };
	struct eid_assertion	 a, zero;
	json_t			*c;
	char			*t;

	(void)state;
	c = th_claims();
	t = mint(EID_ALG_ES256, c);
	json_decref(c);
	assert_int_equal(eid_verify(ks, t, strlen(t), &req_dvc, &bad_leeway,
	    TH_NOW, &a), EID_VERDICT_INTERNAL);
	assert_int_equal(eid_verify(ks, t, strlen(t), &req_dvc, &bad_life,
	    TH_NOW, &a), EID_VERDICT_INTERNAL);
	assert_int_equal(eid_verify(NULL, t, strlen(t), &req_dvc, &th_policy,
	    TH_NOW, &a), EID_VERDICT_INTERNAL);
	assert_int_equal(eid_verify(ks, NULL, 0, &req_dvc, &th_policy,
	    TH_NOW, &a), EID_VERDICT_INTERNAL);
	assert_int_equal(eid_verify(ks, t, strlen(t), NULL, &th_policy,
	    TH_NOW, &a), EID_VERDICT_INTERNAL);
	assert_int_equal(eid_verify(ks, t, strlen(t), &req_dvc, &th_policy,
	    -1, &a), EID_VERDICT_INTERNAL);
	assert_int_equal(eid_verify_token(ks, t, strlen(t), &th_policy, NULL),
	    EID_VERDICT_INTERNAL);
	/* A zeroed assertion never passes the per-request checks. */
	memset(&zero, 0, sizeof(zero));
	assert_int_not_equal(eid_check_assertion(&zero, &req_dvc, &th_policy,
	    TH_NOW), EID_VERDICT_OK);
	free(t);
}

static void
test_names(void **state)
{
	enum eid_verdict	 v;
	unsigned int		 i;

	(void)state;
	for (i = 0; i < EID_VERDICT_COUNT; i++) {
		assert_true(eid_verdict_from_name(eid_verdict_name(i), &v));
		assert_int_equal(v, i);
	}
	assert_string_equal(eid_verdict_name(EID_VERDICT_OK), "OK");
	assert_string_equal(eid_verdict_name(EID_VERDICT_COUNT), "UNKNOWN");
	assert_false(eid_verdict_from_name("ok", &v));
	assert_int_equal(eid_alg_from_name("ES256"), EID_ALG_ES256);
	assert_int_equal(eid_alg_from_name("es256"), EID_ALG_NONE);
	assert_int_equal(eid_alg_from_name("EdDSA"), EID_ALG_EDDSA);
	assert_int_equal(eid_alg_from_name("none"), EID_ALG_NONE);
	assert_string_equal(eid_alg_name(EID_ALG_PS256), "PS256");
	assert_string_equal(eid_strerror(EID_ERR_TRUST),
	    "certificate does not validate");
}

static void
test_key_info_and_refs(void **state)
{
	struct eid_key_info	 ki;
	struct eid_keyset	*r;
	size_t			 i;
	int			 seen = 0;

	(void)state;
	assert_int_equal(eid_keyset_count(ks), NALGS);
	for (i = 0; i < eid_keyset_count(ks); i++) {
		assert_true(eid_keyset_key_info(ks, i, &ki));
		assert_string_equal(ki.iss, TH_ISS);
		assert_true(ki.from_certificate);
		assert_string_equal(ki.kid, th_dev_kid(ki.alg));
		seen |= 1 << ki.alg;
	}
	assert_int_equal(seen, 0x3e);
	assert_false(eid_keyset_key_info(ks, NALGS, &ki));
	r = eid_keyset_ref(ks);
	assert_ptr_equal(r, ks);
	eid_keyset_unref(r);
	eid_keyset_unref(NULL);
	assert_null(eid_keyset_ref(NULL));
}

/* Many threads verify against one key set: all answers right. */
struct worker {
	char		*tokens[NALGS];
	int		 ok;
};

static int
worker_main(void *arg)
{
	struct worker		*w = arg;
	struct eid_assertion	 a;
	size_t			 i;
	int			 n;

	for (n = 0; n < 40; n++)
		for (i = 0; i < NALGS; i++)
			if (verify_at(w->tokens[i], &req_dvc, TH_NOW, &a) ==
			    EID_VERDICT_OK && a.alg == all_algs[i])
				w->ok++;
	return 0;
}

static void
test_threads(void **state)
{
	struct worker	 w[4];
	thrd_t		 th[4];
	json_t		*c;
	size_t		 i, j;

	(void)state;
	c = th_claims();
	for (i = 0; i < 4; i++) {
		w[i].ok = 0;
		for (j = 0; j < NALGS; j++)
			w[i].tokens[j] = mint(all_algs[j], c);
	}
	json_decref(c);
	for (i = 0; i < 4; i++)
		assert_int_equal(thrd_create(&th[i], worker_main, &w[i]),
		    thrd_success);
	for (i = 0; i < 4; i++) {
		thrd_join(th[i], NULL);
		assert_int_equal(w[i].ok, 40 * (int)NALGS);
		for (j = 0; j < NALGS; j++)
			free(w[i].tokens[j]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_algorithm),
		cmocka_unit_test(test_token_hash),
		cmocka_unit_test(test_time_boundaries),
		cmocka_unit_test(test_leeway_zero),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_level_and_nonce),
		cmocka_unit_test(test_key_validity),
		cmocka_unit_test(test_fail_closed_arguments),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_key_info_and_refs),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("verify", tests, setup, teardown);
}
