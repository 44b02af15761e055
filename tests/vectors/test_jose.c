/*
 * tests/vectors/test_jose.c -- the RFC examples in tests/vectors/jose/
 * (RFC 7515 appendix A, RFC 7517, RFC 7520 sections 3, 4 and 6, RFC 7638,
 * RFC 7797, RFC 8037) against the verifier library.
 *
 * The examples that use an algorithm of the profile must verify at the
 * JWS layer with their published keys, loaded through the library's own
 * JWKS loader (private members stripped, RSA keys pinned as the
 * configuration would pin them), and a one-bit change anywhere in their
 * signature or payload must fail.  The others must be refused with the
 * verdict tests/vectors/jose/SOURCE.md section 5 gives, the RFC key sets
 * the profile forbids must be refused at load, and the RFC thumbprints
 * must recompute.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"
#include "crypto.h"

#define JOSE_ISS	"https://jose.example"

/* A vector file's text, NUL-terminated; fails the test if missing. */
static char *
jose_read(const char *name)
{
	char	 path[1024], *s;
	size_t	 len;

	snprintf(path, sizeof(path), "%s/jose/%s", th_vectors_dir(), name);
	if ((s = th_read_file(path, &len)) == NULL)
		fail_msg("cannot read %s", path);
	return s;
}

static json_t *
jose_json(const char *name)
{
	char	 path[1024];

	snprintf(path, sizeof(path), "%s/jose/%s", th_vectors_dir(), name);
	return th_load_json(path);
}

/* A JSON member path such as "sign.output.compact"; borrowed. */
static json_t *
jose_get(json_t *doc, const char *path)
{
	char	 buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p != NULL && doc != NULL;
	    p = strtok_r(NULL, ".", &save))
		doc = json_object_get(doc, p);
	return doc;
}

/*
 * A one-key set from a (possibly private) JWK: the private members are
 * removed, as an operator would publish the key, and "alg" is set to pin
 * when the JWK has none (an RSA key must be pinned).  Fails the test if
 * the library refuses the key.
 */
/* A copy of a JWK without its private members. */
static json_t *
jose_public(json_t *jwk)
{
	static const char *const priv[] = { "d", "p", "q", "dp", "dq", "qi",
		"oth", NULL };
	const char *const	*m;
	json_t			*k;

	k = json_deep_copy(jwk);
	assert_non_null(k);
	for (m = priv; *m != NULL; m++)
		json_object_del(k, *m);
	return k;
}

static struct eid_keyset *
jose_keyset(json_t *jwk, enum eid_alg pin, const char *iss)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	json_t				*k, *set;
	char				*text, err[256];

	k = jose_public(jwk);
	if (pin != EID_ALG_NONE && json_object_get(k, "alg") == NULL)
		json_object_set_new(k, "alg", json_string(eid_alg_name(pin)));
	set = json_pack("{s:[o]}", "keys", k);
	assert_non_null(set);
	text = th_dump(set);
	json_decref(set);
	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	if (eid_keyset_add_jwks(b, iss, text, strlen(text), err,
	    sizeof(err)) != EID_OK ||
	    eid_keyset_build(b, &ks, err, sizeof(err)) != EID_OK)
		fail_msg("key refused: %s", err);
	eid_keyset_builder_free(b);
	free(text);
	return ks;
}

/*
 * The JWS layer: parse, take the key the kid names or, for the RFC
 * examples that carry no kid, the only key of the set; check.
 */
static enum eid_verdict
jose_layer(const struct eid_keyset *ks, const char *token)
{
	static struct jws	 j;
	const struct key	*k;
	enum eid_verdict	 v;

	if ((v = jws_parse(token, strlen(token), &j)) == EID_VERDICT_OK) {
		k = j.has_kid ? keyset_find(ks, j.kid, strlen(j.kid)) :
		    ks->nkeys == 1 ? &ks->keys[0] : NULL;
		v = k == NULL ? EID_VERDICT_UNKNOWN_KEY : jws_check(&j, k, NULL);
	}
	jws_clear(&j);
	return v;
}

/*
 * The token with one bit of segment seg (1 payload, 2 signature) flipped
 * at decoded byte position pos (negative: from the end); malloc'd.
 */
static char *
jose_flip(const char *token, int seg, long pos)
{
	const char	*d1 = strchr(token, '.'), *d2 = strrchr(token, '.');
	const char	*s = seg == 1 ? d1 + 1 : d2 + 1;
	size_t		 slen = seg == 1 ? (size_t)(d2 - s) : strlen(s);
	unsigned char	 raw[EID_TOKEN_MAX];
	char		*out, *o;
	size_t		 n, at;

	n = eid_b64url_decode(s, slen, raw, sizeof(raw));
	assert_true(n != (size_t)-1 && n > 0);
	at = pos >= 0 ? (size_t)pos : n - (size_t)-pos;
	assert_true(at < n);
	raw[at] ^= 0x01;
	out = malloc(strlen(token) + 8);
	assert_non_null(out);
	o = out;
	memcpy(o, token, (size_t)(s - token));
	o += s - token;
	o += eid_b64url_encode(raw, n, o, EID_B64URL_LEN(n) + 1);
	if (seg == 1)
		strcpy(o, d2);
	return out;
}

struct jose_positive {
	const char	*what;
	const char	*token_file;	/* compact file, or JSON file ... */
	const char	*token_path;	/* ... and member path */
	const char	*key_file;
	const char	*key_path;	/* NULL: the file is the JWK */
	enum eid_alg	 pin;
	enum eid_verdict full;		/* eid_verify_token() answer */
};

/*
 * The RFC examples in the profile's algorithms.  None is an eid
 * assertion, so the full verifier refuses each: no kid (RFC 7515 A.2,
 * A.3, RFC 8037 A.4, RFC 7520 6: kid is required), or a payload that is
 * prose rather than JSON (RFC 7520 4.1: malformed, like any payload that
 * is not JSON; SOURCE.md's table suggests "invalid claims", but a payload
 * jansson cannot parse is malformed JSON, the same verdict duplicate
 * members get).
 */
static const struct jose_positive jose_positives[] = {
	{ "RFC 7515 A.2 RS256", "latchset/rfc7515_A.2.jwsc", NULL,
	    "latchset/rfc7515_A.2.jwk", NULL, EID_ALG_RS256,
	    EID_VERDICT_MALFORMED },
	{ "RFC 7515 A.3 ES256", "latchset/rfc7515_A.3.jwsc", NULL,
	    "latchset/rfc7515_A.3.jwk", NULL, EID_ALG_NONE,
	    EID_VERDICT_MALFORMED },
	{ "RFC 7520 4.1 RS256", "latchset/rfc7520_4.1.jwsc", NULL,
	    "latchset/rfc7520_4.1.jwk", NULL, EID_ALG_RS256,
	    EID_VERDICT_MALFORMED },
	{ "RFC 7520 4.1 RS256 (cookbook)", "cookbook/jws/4_1.rsa_v15_signature.json",
	    "output.compact", "cookbook/jws/4_1.rsa_v15_signature.json",
	    "input.key", EID_ALG_RS256, EID_VERDICT_MALFORMED },
	{ "RFC 8037 A.4 Ed25519", "cookbook/curve25519/jws.json",
	    "output.compact", "cookbook/curve25519/jws.json", "input.key",
	    EID_ALG_NONE, EID_VERDICT_MALFORMED },
	{ "RFC 7520 6 PS256 JWT",
	    "cookbook/6.nesting_signatures_and_encryption.json",
	    "sign.output.compact",
	    "cookbook/6.nesting_signatures_and_encryption.json",
	    "sign.input.key", EID_ALG_PS256, EID_VERDICT_MALFORMED },
};

static char *
jose_token(const char *file, const char *path)
{
	json_t	*doc, *t;
	char	*s;

	if (path == NULL)
		return jose_read(file);
	doc = jose_json(file);
	t = jose_get(doc, path);
	if (!json_is_string(t))
		fail_msg("%s: no %s", file, path);
	s = strdup(json_string_value(t));
	assert_non_null(s);
	json_decref(doc);
	return s;
}

static struct eid_keyset *
jose_positive_keyset(const struct jose_positive *p)
{
	struct eid_keyset	*ks;
	json_t			*doc, *jwk;

	doc = jose_json(p->key_file);
	jwk = p->key_path != NULL ? jose_get(doc, p->key_path) : doc;
	assert_non_null(jwk);
	ks = jose_keyset(jwk, p->pin, JOSE_ISS);
	json_decref(doc);
	return ks;
}

/* Each example verifies; each one-bit change of it does not. */
static void
test_rfc_examples_verify(void **state)
{
	static const struct { int seg; long pos; } flips[] = {
		{ 2, 0 }, { 2, 17 }, { 2, -1 }, { 1, 0 }, { 1, -1 }, { 1, 5 }
	};
	struct eid_keyset	*ks;
	char			*tok, *bad;
	size_t			 i, f;
	enum eid_verdict	 v;

	(void)state;
	for (i = 0; i < sizeof(jose_positives) / sizeof(jose_positives[0]);
	    i++) {
		const struct jose_positive *p = &jose_positives[i];

		ks = jose_positive_keyset(p);
		tok = jose_token(p->token_file, p->token_path);
		if ((v = jose_layer(ks, tok)) != EID_VERDICT_OK)
			fail_msg("%s: %s", p->what, eid_verdict_name(v));
		for (f = 0; f < sizeof(flips) / sizeof(flips[0]); f++) {
			bad = jose_flip(tok, flips[f].seg, flips[f].pos);
			if ((v = jose_layer(ks, bad)) !=
			    EID_VERDICT_BAD_SIGNATURE)
				fail_msg("%s, bit flipped in segment %d at %ld: "
				    "%s", p->what, flips[f].seg, flips[f].pos,
				    eid_verdict_name(v));
			free(bad);
		}
		free(tok);
		eid_keyset_unref(ks);
	}
}

/* The full verifier never takes an RFC example for an eid assertion. */
static void
test_rfc_examples_full_verdict(void **state)
{
	struct eid_assertion	 a;
	struct eid_keyset	*ks;
	char			*tok;
	size_t			 i;
	enum eid_verdict	 v;

	(void)state;
	for (i = 0; i < sizeof(jose_positives) / sizeof(jose_positives[0]);
	    i++) {
		const struct jose_positive *p = &jose_positives[i];

		ks = jose_positive_keyset(p);
		tok = jose_token(p->token_file, p->token_path);
		v = eid_verify_token(ks, tok, strlen(tok), &th_policy, &a);
		if (v != p->full)
			fail_msg("%s: %s, want %s", p->what,
			    eid_verdict_name(v), eid_verdict_name(p->full));
		free(tok);
		eid_keyset_unref(ks);
	}
}

struct jose_negative {
	const char	*file;
	const char	*path;		/* member path in a JSON file, or NULL */
	enum eid_verdict want;
};

/* SOURCE.md section 5: examples the profile refuses, and how. */
static const struct jose_negative jose_negatives[] = {
	{ "latchset/rfc7515_A.1.jwsc", NULL, EID_VERDICT_UNSUPPORTED_ALG },
	{ "latchset/rfc7515_A.4.jwsc", NULL, EID_VERDICT_UNSUPPORTED_ALG },
	{ "latchset/rfc7515_A.5.jwsc", NULL, EID_VERDICT_UNSUPPORTED_ALG },
	{ "latchset/rfc7520_4.2.jwsc", NULL, EID_VERDICT_UNSUPPORTED_ALG },
	{ "latchset/rfc7520_4.3.jwsc", NULL, EID_VERDICT_UNSUPPORTED_ALG },
	{ "latchset/rfc7520_4.4.jwsc", NULL, EID_VERDICT_UNSUPPORTED_ALG },
	{ "latchset/rfc7520_4.5.jwsc", NULL, EID_VERDICT_MALFORMED },
	{ "cookbook/jws/4_2.rsa-pss_signature.json", "output.compact",
	    EID_VERDICT_UNSUPPORTED_ALG },
	{ "cookbook/jws/4_3.ecdsa_signature.json", "output.compact",
	    EID_VERDICT_UNSUPPORTED_ALG },
	{ "cookbook/jws/4_4.hmac-sha2_integrity_protection.json",
	    "output.compact", EID_VERDICT_UNSUPPORTED_ALG },
	{ "cookbook/jws/4_5.signature_with_detached_content.json",
	    "output.compact", EID_VERDICT_MALFORMED },
	/* The unencoded payload "$.02" is not base64url. */
	{ "cookbook/rfc7797/hmac-sha2_b64_false.json", "output.compact",
	    EID_VERDICT_MALFORMED },
	{ "cookbook/6.nesting_signatures_and_encryption.json",
	    "encrypt.output.compact", EID_VERDICT_MALFORMED },
	/* JSON serializations: not compact, whatever they hold. */
	{ "latchset/rfc7515_A.6.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7515_A.7.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.1.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.1.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.2.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.2.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.3.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.3.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.4.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.4.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.5.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.5.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.6.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.6.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.7.jwsf", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.7.jwsg", NULL, EID_VERDICT_MALFORMED },
	{ "latchset/rfc7520_4.8.jwsg", NULL, EID_VERDICT_MALFORMED },
};

/* Refused by the parser, before any key is looked at, and by eid_verify. */
static void
test_rfc_examples_refused(void **state)
{
	struct eid_assertion	 a;
	struct eid_keyset	*ks;
	static struct jws	 j;
	char			*tok;
	size_t			 i;
	enum eid_verdict	 v;

	(void)state;
	ks = th_dev_keyset(TH_NOW);
	for (i = 0; i < sizeof(jose_negatives) / sizeof(jose_negatives[0]);
	    i++) {
		const struct jose_negative *n = &jose_negatives[i];

		tok = jose_token(n->file, n->path);
		v = jws_parse(tok, strlen(tok), &j);
		jws_clear(&j);
		if (v != n->want)
			fail_msg("%s %s: parser says %s, want %s", n->file,
			    n->path != NULL ? n->path : "",
			    eid_verdict_name(v), eid_verdict_name(n->want));
		v = eid_verify_token(ks, tok, strlen(tok), &th_policy, &a);
		if (v != n->want)
			fail_msg("%s: verifier says %s", n->file,
			    eid_verdict_name(v));
		free(tok);
	}
	eid_keyset_unref(ks);
}

struct jose_badkeys {
	const char	*file;
	const char	*path;
	enum eid_err	 want;
	const char	*alg;		/* set as "alg" first, or NULL */
};

/* Key material a verification key set must never admit. */
static const struct jose_badkeys jose_badkeys[] = {
	{ "latchset/rfc7517_A.1.jwkset", NULL, EID_ERR_KEY, NULL },	/* use enc */
	{ "latchset/rfc7517_A.2.jwkset", NULL, EID_ERR_KEY, NULL },	/* private */
	{ "latchset/rfc7517_A.3.jwkset", NULL, EID_ERR_KEY, NULL },	/* oct */
	{ "latchset/rfc7520_3.1.jwk", NULL, EID_ERR_KEY, NULL },	/* P-521 */
	{ "latchset/rfc7520_3.2.jwk", NULL, EID_ERR_KEY, NULL },	/* private */
	{ "latchset/rfc7520_3.4.jwk", NULL, EID_ERR_KEY, NULL },	/* private */
	{ "latchset/rfc7520_3.5.jwk", NULL, EID_ERR_KEY, NULL },	/* oct */
	{ "latchset/rfc7520_3.6.jwk", NULL, EID_ERR_KEY, NULL },	/* oct */
	/*
	 * RFC 7520 4.8's set has an RSA and an EC key under one kid, but
	 * both are private and the EC key is P-521: refused before the
	 * duplicate kid matters (test_keyset covers duplicate kids).
	 */
	{ "latchset/rfc7520_4.8.jwkset", NULL, EID_ERR_KEY, NULL },
	/* pinned, so that its 2012 self-signed x5c is what is judged */
	{ "latchset/rfc7517_B.jwk", NULL, EID_ERR_TRUST, "RS256" },
	{ "cookbook/jwk/3_5.symmetric_key_mac_computation.json", NULL,
	    EID_ERR_KEY, NULL },		/* oct, even with "use":"sig" */
};

static void
test_rfc_keys_refused(void **state)
{
	struct eid_keyset_builder	*b;
	json_t				*doc, *k, *set;
	char				*text, err[256];
	size_t				 i;
	enum eid_err			 e;

	(void)state;
	for (i = 0; i < sizeof(jose_badkeys) / sizeof(jose_badkeys[0]); i++) {
		doc = jose_json(jose_badkeys[i].file);
		k = jose_badkeys[i].path != NULL ?
		    jose_get(doc, jose_badkeys[i].path) : doc;
		assert_non_null(k);
		set = json_object_get(k, "keys") != NULL ? json_incref(k) :
		    json_pack("{s:[O]}", "keys", k);
		assert_non_null(set);
		if (jose_badkeys[i].alg != NULL)
			json_object_set_new(json_array_get(json_object_get(set,
			    "keys"), 0), "alg", json_string(jose_badkeys[i].alg));
		text = th_dump(set);
		b = eid_keyset_builder_new(TH_NOW);
		/* The x5c case needs anchors: the development root. */
		assert_int_equal(eid_keyset_add_anchors_file(b, JOSE_ISS,
		    th_path(th_certs_dir(), "root-ca.crt"), err, sizeof(err)),
		    EID_OK);
		err[0] = '\0';
		e = eid_keyset_add_jwks(b, JOSE_ISS, text, strlen(text), err,
		    sizeof(err));
		if (e != jose_badkeys[i].want)
			fail_msg("%s: %s (%s), want %s", jose_badkeys[i].file,
			    eid_strerror(e), err,
			    eid_strerror(jose_badkeys[i].want));
		/* The refused key left nothing behind. */
		assert_int_not_equal(eid_keyset_build(b, &(struct eid_keyset *){
		    NULL }, err, sizeof(err)), EID_OK);
		eid_keyset_builder_free(b);
		free(text);
		json_decref(set);
		json_decref(doc);
	}
}

/* RFC 7638 section 3.1 and RFC 8037 appendix A.3 known answers. */
static void
test_rfc_thumbprints(void **state)
{
	struct eid_key_info	 info;
	struct eid_keyset	*ks;
	json_t			*doc;
	char			*thp;

	(void)state;
	doc = jose_json("latchset/rfc7638_3.1.jwk");
	ks = jose_keyset(doc, EID_ALG_RS256, JOSE_ISS);
	json_decref(doc);
	thp = jose_read("latchset/rfc7638_3.1.thp");
	assert_true(eid_keyset_key_info(ks, 0, &info));
	/* The JWK has a kid of its own; the thumbprint is computed anyway. */
	{
		EVP_PKEY	*pk = ks->keys[0].pkey;
		char		 out[EID_THUMBPRINT_LEN + 1];

		assert_int_equal(eid_jwk_thumbprint(pk, out, sizeof(out)),
		    EID_OK);
		assert_string_equal(out, thp);
	}
	free(thp);
	eid_keyset_unref(ks);

	/* Without a kid member, the key's kid is its thumbprint. */
	doc = jose_json("cookbook/curve25519/jws.json");
	ks = jose_keyset(jose_get(doc, "input.key"), EID_ALG_NONE, JOSE_ISS);
	json_decref(doc);
	assert_true(eid_keyset_key_info(ks, 0, &info));
	assert_string_equal(info.kid,
	    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	assert_int_equal(info.alg, EID_ALG_EDDSA);
	eid_keyset_unref(ks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples_verify),
		cmocka_unit_test(test_rfc_examples_full_verdict),
		cmocka_unit_test(test_rfc_examples_refused),
		cmocka_unit_test(test_rfc_keys_refused),
		cmocka_unit_test(test_rfc_thumbprints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
