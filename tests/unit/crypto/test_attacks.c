/*
 * tests/unit/crypto/test_attacks.c -- the JWT attack catalogue of
 * SECURITY.md section 3 (RFC 8725 and the advisories behind it), one test
 * per attack, each rejected with the verdict DESIGN.md section 6 names.
 * Tokens are built from fixed development keys so failures reproduce.
 */
#define _GNU_SOURCE	/* vasprintf */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "helpers.h"
#include "crypto.h"

static struct eid_keyset *ks;
static EVP_PKEY *keys[6];
static const struct eid_request req = { "dichvucong", 0, NULL };

static int
setup(void **state)
{
	int	 a;

	(void)state;
	ks = th_dev_keyset(TH_NOW);
	for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++)
		keys[a] = th_dev_key((enum eid_alg)a);
	return 0;
}

static int
teardown(void **state)
{
	int	 a;

	(void)state;
	eid_keyset_unref(ks);
	for (a = 0; a < 6; a++)
		EVP_PKEY_free(keys[a]);
	return 0;
}

static enum eid_verdict
verdict(const char *t)
{
	struct eid_assertion	 a;

	return eid_verify(ks, t, strlen(t), &req, &th_policy, TH_NOW, &a);
}

/* Fail with the token's text when the verdict is not the expected one. */
#define EXPECT(tok, want) do {						\
	const char *t_ = (tok);						\
	enum eid_verdict v_ = verdict(t_);				\
	if (v_ != (want))						\
		fail_msg("%s: got %s, want %s", #tok, eid_verdict_name(v_), \
		    eid_verdict_name(want));				\
} while (0)

/* b64(header) "." b64(payload) "." sig, all given as text. */
static char *
raw(const char *header, const char *payload, const char *sig)
{
	size_t	 n = strlen(header) * 2 + strlen(payload) * 2 + strlen(sig) +
	    8;
	char	*t = malloc(n);
	size_t	 o;

	assert_non_null(t);
	o = eid_b64url_encode(header, strlen(header), t, n);
	t[o++] = '.';
	o += eid_b64url_encode(payload, strlen(payload), t + o, n - o);
	t[o++] = '.';
	snprintf(t + o, n - o, "%s", sig);
	return t;
}

static char *
claims_text(void)
{
	json_t	*c = th_claims();
	char	*s = th_dump(c);

	json_decref(c);
	return s;
}

/* A good token of alg, with the header given as text. */
static char *
signed_hdr(enum eid_alg alg, const char *header)
{
	char	*p = claims_text(), *t;

	t = th_sign(keys[alg], alg, header, p);
	free(p);
	return t;
}

/* A good token with the payload given as text. */
static char *
signed_payload(enum eid_alg alg, const char *payload)
{
	char	*h = th_header(alg, th_dev_kid(alg)), *t;

	t = th_sign(keys[alg], alg, h, payload);
	free(h);
	return t;
}

static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	/* (Sized with vsnprintf(NULL, 0, ...), GCC 12 with UBSan saw a
	 * null format string.) */
	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

static void
test_baseline(void **state)
{
	char	*p = claims_text(), *t;
	int	 a;

	(void)state;
	for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++) {
		t = signed_payload((enum eid_alg)a, p);
		EXPECT(t, EID_VERDICT_OK);
		free(t);
	}
	free(p);
}

/* 3.1: alg none in every spelling, with and without a signature. */
static void
test_alg_none(void **state)
{
	static const char *const algs[] = {
		"\"none\"", "\"None\"", "\"NONE\"", "\"nOnE\"", "\"none \"",
		"\"\"", "null", "[\"none\"]", "{}", "1"
	};
	char	*p = claims_text(), *h, *t;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		h = fmt("{\"alg\":%s,\"kid\":\"%s\",\"typ\":\"JWT\"}", algs[i],
		    th_dev_kid(EID_ALG_ES256));
		t = raw(h, p, "");
		EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
		free(t);
		t = raw(h, p, "AAAA");
		EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
		free(t);
		free(h);
	}
	/* missing alg */
	h = fmt("{\"kid\":\"%s\"}", th_dev_kid(EID_ALG_ES256));
	t = raw(h, p, "");
	EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
	free(t);
	free(h);
	free(p);
}

/* HMAC-SHA256 over the signing input with key bytes as the secret. */
static char *
hs256(const char *kid, const unsigned char *secret, size_t slen)
{
	char		*h, *p, *t, *tok, sig[64];
	unsigned char	 mac[32];
	size_t		 maclen = sizeof(mac);

	h = fmt("{\"alg\":\"HS256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
	p = claims_text();
	t = raw(h, p, "");
	t[strlen(t) - 1] = '\0';	/* drop the trailing '.' */
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret,
	    slen, (unsigned char *)t, strlen(t), mac, sizeof(mac), &maclen));
	eid_b64url_encode(mac, maclen, sig, sizeof(sig));
	tok = fmt("%s.%s", t, sig);
	free(h);
	free(p);
	free(t);
	return tok;
}

/* 3.2: algorithm and key-type confusion. */
static void
test_alg_confusion(void **state)
{
	static const char *const other[] = {
		"HS256", "HS384", "HS512", "ES512", "PS384", "PS512", "RS384",
		"RS512", "ES256K", "Ed25519", "EdDSA ", "es256"
	};
	unsigned char	*der = NULL;
	char		*pem, *h, *t;
	BIO		*bio;
	long		 n;
	int		 dlen, a;
	size_t		 i;

	(void)state;
	/* HS256 keyed with the public key as PEM and as DER (CVE-2015-9235) */
	for (a = EID_ALG_ES256; a <= EID_ALG_EDDSA; a++) {
		bio = BIO_new(BIO_s_mem());
		assert_int_equal(PEM_write_bio_PUBKEY(bio, keys[a]), 1);
		n = BIO_get_mem_data(bio, &pem);
		t = hs256(th_dev_kid((enum eid_alg)a), (unsigned char *)pem,
		    (size_t)n);
		EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
		free(t);
		BIO_free(bio);
		dlen = i2d_PUBKEY(keys[a], &der);
		assert_true(dlen > 0);
		t = hs256(th_dev_kid((enum eid_alg)a), der, (size_t)dlen);
		EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
		free(t);
		OPENSSL_free(der);
		der = NULL;
	}
	/* Algorithms outside the profile, signed or not. */
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		h = fmt("{\"alg\":\"%s\",\"kid\":\"%s\"}", other[i],
		    th_dev_kid(EID_ALG_ES256));
		t = signed_hdr(EID_ALG_ES256, h);
		EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
		free(t);
		free(h);
	}
	/*
	 * The key decides: a header naming another profile algorithm than
	 * the key's is refused before any signature work, whichever key
	 * signed.  RS256 vs PS256 on one RSA key, ES256 vs ES384, EdDSA on
	 * an EC key.
	 */
	{
		static const enum eid_alg pairs[][2] = {
			{ EID_ALG_PS256, EID_ALG_RS256 },
			{ EID_ALG_RS256, EID_ALG_PS256 },
			{ EID_ALG_ES256, EID_ALG_ES384 },
			{ EID_ALG_ES384, EID_ALG_ES256 },
			{ EID_ALG_EDDSA, EID_ALG_ES256 },
			{ EID_ALG_ES256, EID_ALG_EDDSA },
		};
		for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			/* header alg pairs[i][0], kid of the pairs[i][1] key */
			h = th_header(pairs[i][0], th_dev_kid(pairs[i][1]));
			t = signed_hdr(pairs[i][0], h);
			EXPECT(t, EID_VERDICT_UNSUPPORTED_ALG);
			free(t);
			free(h);
		}
	}
	/* PS256 signature made with the RS256-pinned key, header PS256 + its
	 * kid: refused as above; and an RS256 signature from the PS256 key
	 * presented under PS256 fails as a bad signature (wrong primitive). */
	{
		char	*hp = th_header(EID_ALG_PS256, th_dev_kid(EID_ALG_PS256));
		char	*hr = th_header(EID_ALG_RS256, th_dev_kid(EID_ALG_PS256));
		char	*p = claims_text();
		char	*good = th_sign(keys[EID_ALG_PS256], EID_ALG_RS256, hr, p);
		char	*d1 = strchr(good, '.');
		char	*hp64 = raw(hp, p, "");
		char	*mix;

		/* PS256 header + payload, with the RS256 (PKCS#1) signature */
		mix = fmt("%.*s%s", (int)(strlen(hp64) - 1), hp64,
		    strrchr(d1 + 1, '.'));
		EXPECT(mix, EID_VERDICT_BAD_SIGNATURE);
		free(mix);
		free(hp64);
		free(good);
		free(p);
		free(hr);
		free(hp);
	}
}

/* 3.3: kid is an opaque lookup key, bounded, never a path or query. */
static void
test_kid_abuse(void **state)
{
	static const char *const unknown[] = {
		"../../../../dev/null", "/etc/passwd", "' OR '1'='1",
		"*)(uid=*", "%s%n%x", "kid\\n\\r", " "
	};
	static const char *const malformed[] = {
		"\"\"", "123", "null", "{}", "[\"k\"]", "\"a\\u0000b\"", "true"
	};
	char	*h, *t, big[10001];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\"}", unknown[i]);
		t = signed_hdr(EID_ALG_ES256, h);
		EXPECT(t, EID_VERDICT_UNKNOWN_KEY);
		free(t);
		free(h);
	}
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		h = fmt("{\"alg\":\"ES256\",\"kid\":%s}", malformed[i]);
		t = signed_hdr(EID_ALG_ES256, h);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(h);
	}
	/* missing kid, even with the right key in the set */
	t = signed_hdr(EID_ALG_ES256, "{\"alg\":\"ES256\"}");
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	/* 10 kB kid: bounded before any lookup */
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\"}", big);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	/* a kid one byte longer or shorter than a real one */
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%sA\"}", th_dev_kid(EID_ALG_ES256));
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_UNKNOWN_KEY);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%.42s\"}",
	    th_dev_kid(EID_ALG_ES256));
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_UNKNOWN_KEY);
	free(t);
	free(h);
}

/* Base64 DER of a certificate file's first certificate. */
static char *
cert_b64(const char *name)
{
	FILE		*fp;
	X509		*x;
	unsigned char	*der = NULL;
	char		*out, *b;
	int		 n;
	size_t		 cap;

	fp = fopen(th_path(th_certs_dir(), name), "r");
	if (fp == NULL)
		fail_msg("cannot open %s", name);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	n = i2d_X509(x, &der);
	assert_true(n > 0);
	cap = (size_t)n * 2 + 8;
	out = malloc(cap);
	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, der, n);
	/* EVP_EncodeBlock writes no newlines: exactly what x5c wants. */
	b = out;
	OPENSSL_free(der);
	X509_free(x);
	return b;
}

/* 3.4: keys from the header are never trusted; x5c adds no trust. */
static void
test_header_keys(void **state)
{
	char	*h, *t, *c, *c2;
	const char *kid = th_dev_kid(EID_ALG_ES256);

	(void)state;
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"jwk\":{\"kty\":\"EC\"}}",
	    kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"jku\":"
	    "\"https://attacker.example/jwks\"}", kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5u\":"
	    "\"https://attacker.example/c.pem\"}", kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);

	/* x5c naming the configured certificate: fine. */
	c = cert_b64("idp-es256.crt");
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[\"%s\"]}", kid, c);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_OK);
	free(t);
	free(h);
	/* The issuer CA itself, or an unrelated leaf under the national root:
	 * chains, but is not this issuer's signing certificate. */
	c2 = cert_b64("test/unrelated-es256.crt");
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[\"%s\",\"%s\"]}",
	    kid, c2, c);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
	free(h);
	free(c2);
	c2 = cert_b64("test/selfsigned-es256.crt");
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[\"%s\"]}", kid, c2);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
	free(h);
	free(c2);
	/* Another configured key's certificate under this kid. */
	c2 = cert_b64("idp-es384.crt");
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[\"%s\"]}", kid, c2);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
	free(h);
	free(c2);
	/* Shapes: not base64, not an array, empty, too many entries. */
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[\"%s!\"]}", kid, c);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":\"%s\"}", kid, c);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[]}", kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"x5c\":[\"%s\",\"%s\","
	    "\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"]}", kid, c, c, c,
	    c, c, c, c, c, c);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	free(c);
}

/* Replace the signature segment of a token with raw bytes. */
static char *
with_sig(const char *tok, const unsigned char *sig, size_t len)
{
	const char	*d = strrchr(tok, '.');
	size_t		 n = (size_t)(d - tok) + 1 + EID_B64URL_LEN(len) + 1;
	char		*t = malloc(n);

	assert_non_null(t);
	memcpy(t, tok, (size_t)(d - tok) + 1);
	eid_b64url_encode(sig, len, t + (d - tok) + 1,
	    n - (size_t)(d - tok) - 1);
	return t;
}

/* The raw signature bytes of a token. */
static size_t
sig_of(const char *tok, unsigned char *out, size_t outlen)
{
	const char	*d = strrchr(tok, '.') + 1;
	size_t		 n = eid_b64url_decode(d, strlen(d), out, outlen);

	assert_int_not_equal(n, (size_t)-1);
	return n;
}

/* 3.5 and 3.6: ECDSA range checks, sizes, encodings, malleability. */
static void
test_ecdsa_signatures(void **state)
{
	static const char p256n[] =
	    "FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551";
	unsigned char	 sig[200], zero[64], tmp[200];
	char		*good, *t, *p;
	BIGNUM		*n = NULL, *s;
	size_t		 len;
	unsigned char	*der = NULL;
	size_t		 dlen;

	(void)state;
	p = claims_text();
	good = signed_payload(EID_ALG_ES256, p);
	len = sig_of(good, sig, sizeof(sig));
	assert_int_equal(len, 64);

	/* psychic signature: r = s = 0 */
	memset(zero, 0, sizeof(zero));
	t = with_sig(good, zero, 64);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	/* the DER encoding of r = s = 0 (8 bytes): wrong length */
	t = with_sig(good, (const unsigned char *)"\x30\x06\x02\x01\x00\x02"
	    "\x01\x00", 8);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	/* r = n, s = n; r = 1, s = 1 */
	assert_true(BN_hex2bn(&n, p256n) > 0);
	BN_bn2binpad(n, tmp, 32);
	BN_bn2binpad(n, tmp + 32, 32);
	t = with_sig(good, tmp, 64);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	memset(tmp, 0, 64);
	tmp[31] = 1;
	tmp[63] = 1;
	t = with_sig(good, tmp, 64);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	/* leading zero byte added (65), last byte dropped (63) */
	tmp[0] = 0;
	memcpy(tmp + 1, sig, 64);
	t = with_sig(good, tmp, 65);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	t = with_sig(good, sig, 63);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	/* the same signature as DER: never accepted in a JWS */
	{
		ECDSA_SIG	*es = ECDSA_SIG_new();
		BIGNUM		*r = BN_bin2bn(sig, 32, NULL);
		BIGNUM		*ss = BN_bin2bn(sig + 32, 32, NULL);
		int		 dl;

		assert_int_equal(ECDSA_SIG_set0(es, r, ss), 1);
		dl = i2d_ECDSA_SIG(es, &der);
		assert_true(dl > 0);
		dlen = (size_t)dl;
		ECDSA_SIG_free(es);
	}
	t = with_sig(good, der, dlen);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	OPENSSL_free(der);
	/* a 21,830-character signature (HAProxy overflow shape) */
	{
		char	*huge = malloc(21831);
		char	*d = strrchr(good, '.');

		assert_non_null(huge);
		memset(huge, 'A', 21830);
		huge[21830] = '\0';
		t = fmt("%.*s.%s", (int)(d - good), good, huge);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(huge);
	}
	/* empty signature for ES256 */
	t = with_sig(good, sig, 0);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	/*
	 * Malleability (finding 5): s -> n - s is a different string with
	 * the same claims, and it verifies.  Replay protection must key on
	 * (iss, jti), which this test documents by checking the jti.
	 */
	s = BN_bin2bn(sig + 32, 32, NULL);
	assert_int_equal(BN_sub(s, n, s), 1);
	memcpy(tmp, sig, 32);
	BN_bn2binpad(s, tmp + 32, 32);
	t = with_sig(good, tmp, 64);
	assert_string_not_equal(t, good);
	EXPECT(t, EID_VERDICT_OK);
	{
		struct eid_assertion	 a1, a2;

		assert_int_equal(eid_verify(ks, t, strlen(t), &req, &th_policy,
		    TH_NOW, &a1), EID_VERDICT_OK);
		assert_int_equal(eid_verify(ks, good, strlen(good), &req,
		    &th_policy, TH_NOW, &a2), EID_VERDICT_OK);
		assert_string_equal(a1.jti, a2.jti);
		assert_string_equal(a1.iss, a2.iss);
	}
	free(t);
	BN_free(s);
	/* Unused low bits of the last character set: a second spelling of
	 * the same signature bytes is refused, not "valid with a new cache
	 * key".  64 bytes -> 86 chars, the last carries 4 unused bits. */
	t = fmt("%s", good);
	{
		char	*last = t + strlen(t) - 1;
		const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		int	 v = (int)(strchr(alpha, *last) - alpha);

		*last = alpha[v | 1];
		if (v & 1)
			*last = alpha[v & ~1];
	}
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	/* one bit flipped inside the signature */
	memcpy(tmp, sig, 64);
	tmp[10] ^= 0x01;
	t = with_sig(good, tmp, 64);
	EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
	free(t);
	BN_free(n);
	free(good);
	free(p);
}

/* 3.6: RSA and Ed25519 signature lengths. */
static void
test_rsa_eddsa_lengths(void **state)
{
	unsigned char	 sig[600];
	char		*p, *good, *t;
	size_t		 len;
	int		 a;

	(void)state;
	p = claims_text();
	for (a = EID_ALG_RS256; a <= EID_ALG_EDDSA; a++) {
		good = signed_payload((enum eid_alg)a, p);
		len = sig_of(good, sig, sizeof(sig));
		t = with_sig(good, sig, 4);
		EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
		free(t);
		t = with_sig(good, sig, len - 1);
		EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
		free(t);
		memmove(sig + 1, sig, len);
		sig[0] = 0;
		t = with_sig(good, sig, len + 1);
		EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
		free(t);
		t = with_sig(good, sig, 0);
		EXPECT(t, EID_VERDICT_BAD_SIGNATURE);
		free(t);
		free(good);
	}
	free(p);
}

/* 3.7: crit, b64 and other refused header members. */
static void
test_crit_and_friends(void **state)
{
	static const char *const extra[] = {
		"\"crit\":[\"b64\"],\"b64\":false", "\"b64\":false",
		"\"crit\":[]", "\"crit\":[\"exp\"]", "\"crit\":[\"x\"]",
		"\"crit\":\"b64\"", "\"zip\":\"DEF\"", "\"cty\":\"JWT\"",
		"\"enc\":\"A128GCM\"", "\"epk\":{}", "\"cty\":\"json\""
	};
	const char	*kid = th_dev_kid(EID_ALG_ES256);
	char		*h, *t;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",%s}", kid, extra[i]);
		t = signed_hdr(EID_ALG_ES256, h);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(h);
	}
	/* An unknown, non-critical header member is ignored (RFC 7515). */
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"foo\":1}", kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_OK);
	free(t);
	free(h);
}

/* 3.11 (RFC 8725 3.11): typ is optional but, if present, ours. */
static void
test_typ(void **state)
{
	static const char *const good[] = {
		"\"JWT\"", "\"jwt\"", "\"eid+jwt\"", "\"EID+JWT\"",
		"\"application/eid+jwt\"", "\"application/JWT\""
	};
	static const char *const bad[] = {
		"\"at+jwt\"", "\"secevent+jwt\"", "\"JOSE\"", "123", "null",
		"\"\"", "\"application/\"", "\"JWT \""
	};
	const char	*kid = th_dev_kid(EID_ALG_ES256);
	char		*h, *t;
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":%s}", kid,
		    good[i]);
		t = signed_hdr(EID_ALG_ES256, h);
		EXPECT(t, EID_VERDICT_OK);
		free(t);
		free(h);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":%s}", kid,
		    bad[i]);
		t = signed_hdr(EID_ALG_ES256, h);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(h);
	}
}

/*
 * jws.c remembers headers that passed, per thread, by their base64url
 * bytes: a header of the same length that differs in one byte, or that
 * names another key, must get its own verdict every time, however the
 * good one has been seen before and after it, and more distinct good
 * headers than the memo holds must all still pass.
 */
static void
test_header_memo(void **state)
{
	const char	*kid = th_dev_kid(EID_ALG_ES256);
	static const char *const typ[6] = {
		"JWT", "jwt", "eid+jwt", "EID+JWT", "application/JWT",
		"application/eid+jwt"
	};
	char		*good, *bad, *other, *h[6], *t[6] = { NULL };
	char		*hb, *ho;
	size_t		 i, round;

	(void)state;
	good = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\"}", kid);
	/* Same length: typ refused, and a kid with one letter changed. */
	hb = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWU\"}", kid);
	ho = strdup(good);
	assert_non_null(ho);
	ho[strlen("{\"alg\":\"ES256\",\"kid\":\"")] ^= 0x01;
	assert_int_equal(strlen(hb), strlen(good));
	bad = signed_hdr(EID_ALG_ES256, hb);
	other = signed_hdr(EID_ALG_ES256, ho);
	t[0] = signed_hdr(EID_ALG_ES256, good);
	for (round = 0; round < 3; round++) {
		EXPECT(t[0], EID_VERDICT_OK);
		EXPECT(bad, EID_VERDICT_MALFORMED);
		EXPECT(t[0], EID_VERDICT_OK);
		EXPECT(other, EID_VERDICT_UNKNOWN_KEY);
	}
	/* Six distinct good headers (typ spellings) through four slots. */
	free(t[0]);
	for (i = 0; i < 6; i++) {
		h[i] = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"%s\"}",
		    kid, typ[i]);
		t[i] = signed_hdr(EID_ALG_ES256, h[i]);
	}
	for (round = 0; round < 3; round++)
		for (i = 0; i < 6; i++) {
			EXPECT(t[i], EID_VERDICT_OK);
			EXPECT(bad, EID_VERDICT_MALFORMED);
		}
	for (i = 0; i < 6; i++) {
		free(t[i]);
		free(h[i]);
	}
	free(good);
	free(hb);
	free(ho);
	free(bad);
	free(other);
}

/* 3.8: duplicate members and trailing data, header and claims. */
static void
test_duplicates(void **state)
{
	static const char *const members[] = {
		"sub", "aud", "exp", "jti", "eid_level", "iss"
	};
	const char	*kid = th_dev_kid(EID_ALG_ES256);
	char		*p = claims_text(), *h, *t, *q, esc[64];
	size_t		 i;

	(void)state;
	h = fmt("{\"alg\":\"none\",\"alg\":\"ES256\",\"kid\":\"%s\"}", kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"\\u0061lg\":\"none\"}",
	    kid);
	t = signed_hdr(EID_ALG_ES256, h);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(h);
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		/* plain: {...,"sub":"x"} appended inside the object */
		q = fmt("%.*s,\"%s\":\"x\"}", (int)(strlen(p) - 1), p,
		    members[i]);
		t = signed_payload(EID_ALG_ES256, q);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(q);
		/* escaped first letter */
		snprintf(esc, sizeof(esc), "\\u%04x%s", members[i][0],
		    members[i] + 1);
		q = fmt("%.*s,\"%s\":\"x\"}", (int)(strlen(p) - 1), p, esc);
		t = signed_payload(EID_ALG_ES256, q);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(q);
	}
	q = fmt("%sgarbage", p);
	t = signed_payload(EID_ALG_ES256, q);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(q);
	q = fmt("%s%s", p, p);
	t = signed_payload(EID_ALG_ES256, q);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(q);
	free(p);
}

/* 3.9: numbers and nesting beyond what the profile represents. */
static void
test_numbers(void **state)
{
	static const struct {
		const char	*exp;
		enum eid_verdict want;
	} cases[] = {
		{ "9223372036854775808", EID_VERDICT_MALFORMED },
		{ "-9223372036854775809", EID_VERDICT_MALFORMED },
		{ "1e400", EID_VERDICT_MALFORMED },
		{ "1e308", EID_VERDICT_INVALID_CLAIMS },
		{ "1.5e9", EID_VERDICT_INVALID_CLAIMS },
		{ "-0", EID_VERDICT_OK },	/* nbf = 0, the epoch */
		{ "01", EID_VERDICT_MALFORMED },
		{ "NaN", EID_VERDICT_MALFORMED },
		{ "Infinity", EID_VERDICT_MALFORMED },
		{ "9223372036854775807", EID_VERDICT_INVALID_CLAIMS },
	};
	char	*p = claims_text(), *q, *t, *deep;
	size_t	 i, depth = 5000;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q = fmt("%.*s,\"nbf\":%s}", (int)(strlen(p) - 1), p,
		    cases[i].exp);
		t = signed_payload(EID_ALG_ES256, q);
		if (verdict(t) != cases[i].want)
			fail_msg("nbf %s: got %s", cases[i].exp,
			    eid_verdict_name(verdict(t)));
		free(t);
		free(q);
	}
	/* 5,000-deep nesting fits in no token: the size cap refuses it. */
	deep = malloc(2 * depth + 64);
	assert_non_null(deep);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[2 * depth] = '\0';
	q = fmt("%.*s,\"x\":%s}", (int)(strlen(p) - 1), p, deep);
	t = signed_payload(EID_ALG_ES256, q);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(q);
	/* 1,000 deep fits and parses; the unknown member is ignored. */
	depth = 1000;
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[2 * depth] = '\0';
	q = fmt("%.*s,\"x\":%s}", (int)(strlen(p) - 1), p, deep);
	t = signed_payload(EID_ALG_ES256, q);
	EXPECT(t, EID_VERDICT_OK);
	free(t);
	free(q);
	free(deep);
	free(p);
}

/* 3.9: sizes and garbage never crash and never allocate what they ask. */
static void
test_sizes_and_garbage(void **state)
{
	struct eid_assertion	 a;
	char			*big, *t, *p;
	size_t			 n = 1024 * 1024, i;
	static const char *const shapes[] = {
		"", ".", "..", "...", "a", "a.b", "a.b.c.d", "a.b.c.d.e",
		"eyJhbGciOiJFUzI1NiJ9..", ".eyJ9.", "eyJhbGciOiJFUzI1NiJ9.e30.",
		"\xff\xfe.\x00.x", "e30.e30.e30", "W10.e30.AAAA",
		"IkVTMjU2Ig.e30.AAAA", "eyJhbGciOiJFUzI1NiJ9.e30.A"
	};

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		assert_int_not_equal(eid_verify(ks, shapes[i],
		    strlen(shapes[i]), &req, &th_policy, TH_NOW, &a),
		    EID_VERDICT_OK);
	EXPECT("eyJhbGciOiJFUzI1NiJ9..AAAA", EID_VERDICT_MALFORMED);
	EXPECT("a.b.c.d.e", EID_VERDICT_MALFORMED);
	EXPECT("a.b", EID_VERDICT_MALFORMED);
	/* 1 MiB: refused by size before anything else */
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'A', n);
	big[1000] = '.';
	big[2000] = '.';
	assert_int_equal(eid_verify(ks, big, n, &req, &th_policy, TH_NOW, &a),
	    EID_VERDICT_MALFORMED);
	free(big);
	/* One byte over the token cap, with a valid-looking shape. */
	p = claims_text();
	big = malloc(EID_TOKEN_MAX);
	assert_non_null(big);
	memset(big, 'a', EID_TOKEN_MAX - 1);
	big[EID_TOKEN_MAX - 1] = '\0';
	{
		char	*q = fmt("%.*s,\"pad\":\"%.*s\"}",
		    (int)(strlen(p) - 1), p, EID_TOKEN_MAX / 4 * 3 - 100, big);

		t = signed_payload(EID_ALG_ES256, q);
		assert_true(strlen(t) > EID_TOKEN_MAX);
		EXPECT(t, EID_VERDICT_MALFORMED);
		free(t);
		free(q);
	}
	free(big);
	/* Invalid UTF-8, BOM, lone surrogate, UTF-16 in the claims. */
	{
		static const char *const bad_json[] = {
			"{\"iss\":\"\xc3\x28\"}", "\xef\xbb\xbf{}",
			"{\"iss\":\"\\ud800\"}", "{\"iss\":\"\xc0\xaf\"}",
			"\xff\xfe{\x00}\x00", "{\"iss\":\"a\x01\"}",
			"{'iss':1}", "{\"a\":1,}", "{/*c*/}"
		};
		for (i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
			t = signed_payload(EID_ALG_ES256, bad_json[i]);
			EXPECT(t, EID_VERDICT_MALFORMED);
			free(t);
		}
	}
	/* A header that is not UTF-8 JSON */
	t = signed_hdr(EID_ALG_ES256, "{\"alg\":\"ES256\",\"kid\":\"\xc3\x28\"}");
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(p);
}

/*
 * 3.6: every character of every segment is checked, whichever segment is
 * decoded first and whether or not the header is remembered (the memo):
 * one character outside the base64url alphabet anywhere, or a NUL, is
 * MALFORMED, as are unused bits set in the last character of the
 * signature or payload.
 */
static void
test_every_character(void **state)
{
	static const char	 bad[] = { '+', '/', '=', ' ', '.', '\0',
	    '\x80', '\xff', '%' };
	struct eid_assertion	 a;
	char			*p = claims_text(), *t, *u;
	const char		*d1, *d2;
	size_t			 len, seg, i, at[3];
	enum eid_verdict	 v;

	(void)state;
	t = signed_payload(EID_ALG_ES256, p);
	len = strlen(t);
	/* Verified once, so that its header is in the memo. */
	EXPECT(t, EID_VERDICT_OK);
	assert_non_null(d1 = strchr(t, '.'));
	assert_non_null(d2 = strchr(d1 + 1, '.'));
	at[0] = (size_t)(d1 - t) / 2;
	at[1] = (size_t)(d1 - t) + 1 + (size_t)(d2 - d1 - 1) / 2;
	at[2] = len - 5;
	for (seg = 0; seg < 3; seg++)
		for (i = 0; i < sizeof(bad); i++) {
			assert_non_null(u = strdup(t));
			u[at[seg]] = bad[i];
			v = eid_verify(ks, u, len, &req, &th_policy, TH_NOW,
			    &a);
			if (v != EID_VERDICT_MALFORMED)
				fail_msg("segment %zu, byte 0x%02x: %s", seg,
				    (unsigned char)bad[i],
				    eid_verdict_name(v));
			free(u);
		}
	/*
	 * Unused low bits of the last character: the signature (64 bytes,
	 * 86 characters, 4 unused bits) and a payload whose length leaves
	 * some.
	 */
	assert_non_null(u = strdup(t));
	u[len - 1] = u[len - 1] == 'A' ? 'B' : 'A';
	EXPECT(u, u[len - 1] == 'B' ? EID_VERDICT_MALFORMED :
	    EID_VERDICT_BAD_SIGNATURE);
	free(u);
	if ((size_t)(d2 - d1 - 1) % 4 != 0) {
		assert_non_null(u = strdup(t));
		u[d2 - t - 1] ^= 0x01;
		v = eid_verify(ks, u, len, &req, &th_policy, TH_NOW, &a);
		assert_int_not_equal(v, EID_VERDICT_OK);
		free(u);
	}
	free(t);
	free(p);
}

/* 3.13: nested and other serializations. */
static void
test_serializations(void **state)
{
	char	*p = claims_text(), *inner, *q, *t, *h;
	const char *kid = th_dev_kid(EID_ALG_ES256);

	(void)state;
	/* payload that is a JSON string holding a JWT */
	inner = signed_payload(EID_ALG_ES256, p);
	q = fmt("\"%s\"", inner);
	t = signed_payload(EID_ALG_ES256, q);
	EXPECT(t, EID_VERDICT_INVALID_CLAIMS);
	free(t);
	free(q);
	/* cty JWT with a JWS as payload */
	h = fmt("{\"alg\":\"ES256\",\"kid\":\"%s\",\"cty\":\"JWT\"}", kid);
	{
		char	*sh = th_sign(keys[EID_ALG_ES256], EID_ALG_ES256, h,
		    inner);

		EXPECT(sh, EID_VERDICT_MALFORMED);
		free(sh);
	}
	free(h);
	/* JSON serialization */
	t = fmt("{\"payload\":\"e30\",\"protected\":\"e30\",\"signature\":"
	    "\"AAAA\"}");
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	/* 5-part (JWE shape) and a trailing dot */
	t = fmt("%s.AAAA.AAAA", inner);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	t = fmt("%s.", inner);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	/* whitespace around or inside */
	t = fmt(" %s", inner);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	t = fmt("%s\n", inner);
	EXPECT(t, EID_VERDICT_MALFORMED);
	free(t);
	free(inner);
	free(p);
}

/* 3.12: a token of another kind from the same issuer (an OIDC ID token). */
static void
test_other_jwt_kinds(void **state)
{
	json_t	*c;
	char	*p, *t;

	(void)state;
	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "iss", TH_ISS,
	    "sub", "001090012345", "aud", "dichvucong",
	    "iat", (json_int_t)TH_NOW, "exp", (json_int_t)(TH_NOW + 300),
	    "jti", "id-token-1");
	p = th_dump(c);
	json_decref(c);
	t = signed_payload(EID_ALG_ES256, p);
	EXPECT(t, EID_VERDICT_INVALID_CLAIMS);
	free(t);
	free(p);
}

/* RFC 8725 3.8: a key belongs to its issuer; iss must be that issuer. */
static void
test_issuer_binding(void **state)
{
	struct eid_keyset_builder	*b;
	struct eid_keyset		*two = NULL;
	struct eid_assertion		 a;
	EVP_PKEY			*kb;
	json_t				*c;
	char				 err[256], kidb[64], *h, *p, *t;

	(void)state;
	b = eid_keyset_builder_new(TH_NOW);
	assert_non_null(b);
	assert_int_equal(eid_keyset_add_anchors_file(b, TH_ISS,
	    th_path(th_certs_dir(), "root-ca.crt"), err, sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_add_cert_file(b, TH_ISS,
	    th_path(th_certs_dir(), "idp-es256.chain.pem"), EID_ALG_NONE, err,
	    sizeof(err)), EID_OK);
	assert_int_equal(eid_keyset_add_anchors_file(b, "https://b.example",
	    th_path(th_certs_dir(), "root-ca.crt"), err, sizeof(err)), EID_OK);
	if (eid_keyset_add_cert_file(b, "https://b.example",
	    th_path(th_certs_dir(), "test/idp-es256-b.chain.pem"), EID_ALG_NONE, err,
	    sizeof(err)) != EID_OK) {
		/* the leaf may need its intermediate */
		fail_msg("issuer B cert: %s", err);
	}
	assert_int_equal(eid_keyset_build(b, &two, err, sizeof(err)), EID_OK);
	eid_keyset_builder_free(b);

	kb = th_load_key(th_path(th_certs_dir(), "test/idp-es256-b.key"));
	assert_non_null(kb);
	assert_int_equal(eid_jwk_thumbprint(kb, kidb, sizeof(kidb)), EID_OK);

	/* B's key, claims say A: untrusted issuer */
	c = th_claims();
	p = th_dump(c);
	h = th_header(EID_ALG_ES256, kidb);
	t = th_sign(kb, EID_ALG_ES256, h, p);
	assert_int_equal(eid_verify(two, t, strlen(t), &req, &th_policy,
	    TH_NOW, &a), EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
	free(p);
	/* B's key, claims say B: fine */
	json_object_set_new(c, "iss", json_string("https://b.example"));
	p = th_dump(c);
	t = th_sign(kb, EID_ALG_ES256, h, p);
	assert_int_equal(eid_verify(two, t, strlen(t), &req, &th_policy,
	    TH_NOW, &a), EID_VERDICT_OK);
	assert_string_equal(a.iss, "https://b.example");
	free(t);
	free(h);
	/* A's key, claims say B */
	h = th_header(EID_ALG_ES256, th_dev_kid(EID_ALG_ES256));
	t = th_sign(keys[EID_ALG_ES256], EID_ALG_ES256, h, p);
	assert_int_equal(eid_verify(two, t, strlen(t), &req, &th_policy,
	    TH_NOW, &a), EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
	free(h);
	free(p);
	/* an issuer nobody configured */
	json_object_set_new(c, "iss", json_string("https://evil.example"));
	p = th_dump(c);
	t = signed_payload(EID_ALG_ES256, p);
	EXPECT(t, EID_VERDICT_UNTRUSTED_ISSUER);
	free(t);
	free(p);
	json_decref(c);
	EVP_PKEY_free(kb);
	eid_keyset_unref(two);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_alg_none),
		cmocka_unit_test(test_alg_confusion),
		cmocka_unit_test(test_kid_abuse),
		cmocka_unit_test(test_header_keys),
		cmocka_unit_test(test_ecdsa_signatures),
		cmocka_unit_test(test_rsa_eddsa_lengths),
		cmocka_unit_test(test_crit_and_friends),
		cmocka_unit_test(test_typ),
		cmocka_unit_test(test_header_memo),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_sizes_and_garbage),
		cmocka_unit_test(test_every_character),
		cmocka_unit_test(test_serializations),
		cmocka_unit_test(test_other_jwt_kinds),
		cmocka_unit_test(test_issuer_binding),
	};

	return cmocka_run_group_tests_name("attacks", tests, setup, teardown);
}
