/*
 * crypto/crypto.h -- internal interfaces of the verifier library.
 *
 * Only the files of crypto/ and the unit tests of crypto/ include this file.  It may
 * name OpenSSL and jansson types; the public headers in include/eid/ may
 * not.  Prototypes are grouped by the file that defines them.
 */
#ifndef EID_CRYPTO_H
#define EID_CRYPTO_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "eid/verify.h"

/* Largest signature of the profile: RSA-4096. */
#define SIG_MAX_BYTES		512
/* Smallest and largest RSA moduli the key policy admits. */
#define KEY_RSA_MIN_BITS	2048
#define KEY_RSA_MAX_BITS	4096
/* Certificates in one chain or x5c, and bytes of one DER certificate. */
#define CERT_CHAIN_MAX		8
#define CERT_DER_MAX		8192
/* Size cap of a JWKS or PEM file read at configuration time. */
#define KEYFILE_MAX_BYTES	(1024 * 1024)
/* Latest time the profile represents: 9999-12-31T23:59:59Z. */
#define TIME_MAX_S		INT64_C(253402300799)

/* One trusted key: immutable once the key set is built. */
struct key {
	char		 kid[EID_KID_MAX + 1];
	char		*iss;		/* owned copy */
	enum eid_alg	 alg;		/* the only algorithm it verifies */
	EVP_PKEY	*pkey;
	const EVP_MD	*md;		/* prefetched, owned by the key set */
	bool		 md_is_sha256;	/* md is the set's SHA-256 */
	EVP_MD_CTX	*vctx;		/* EdDSA: prepared context, or NULL */
	EVP_PKEY_CTX	*pctx;		/* others: prepared context, or NULL */
	size_t		 sig_len;	/* exact signature length */
	int64_t		 not_before;
	int64_t		 not_after;
	unsigned char	 spki_sha256[32]; /* identifies the key itself */
	unsigned char	*cert_der;	/* leaf DER for x5c, or NULL */
	size_t		 cert_der_len;
};

struct eid_keyset {
	atomic_uint	 refs;
	struct key	*keys;		/* sorted by kid */
	size_t		 nkeys;
	EVP_MD		*sha256;
	EVP_MD		*sha384;
};

/* sig.c */
/*
 * Check sig over msg with k, pinned to its algorithm.  msg_sha256, if not
 * NULL, is the SHA-256 of msg, taken by the caller; it is used only when
 * k's digest is SHA-256.  The signature must already have the key's exact
 * length.  Returns EID_VERDICT_OK, _BAD_SIGNATURE, or _INTERNAL when
 * OpenSSL fails for another reason.
 */
enum eid_verdict sig_verify(const struct key *k, const unsigned char *msg,
		    size_t msglen, const unsigned char *msg_sha256,
		    const unsigned char *sig, size_t siglen);
/*
 * Set up k's verify context once (k->vctx for EdDSA, k->pctx for the
 * others), which sig_verify() copies instead of initialising per call.
 * Returns 0, or -1 if none could be made (sig_verify then initialises per
 * call).
 */
int		 sig_prepare(struct key *k);
/* The exact JWS signature length of a key used with alg, 0 if none. */
size_t		 sig_length(const EVP_PKEY *, enum eid_alg);

/* jwk.c */
/*
 * Check a public key against the profile (curve, size, exponent, ROCA,
 * explicit parameters) and derive or confirm its algorithm: *alg in is
 * the pin (EID_ALG_NONE: derive), *alg out the algorithm it gets.
 */
enum eid_err	 jwk_key_policy(const EVP_PKEY *, enum eid_alg *alg,
		    char *err, size_t errlen);
/*
 * Import one JWK object.  On success *pkey (new reference), *alg and kid
 * (EID_KID_MAX + 1 bytes; "" when the JWK has no kid) are set, and *x5c
 * borrows the JWK's x5c array or is NULL.
 */
enum eid_err	 jwk_import(json_t *jwk, EVP_PKEY **pkey, enum eid_alg *alg,
		    char *kid, json_t **x5c, char *err, size_t errlen);
/* True if n has the ROCA (CVE-2017-15361) fingerprint. */
bool		 jwk_rsa_is_roca(const BIGNUM *n);

/*
 * One member of a claims object as the profile sees it, whichever parser
 * read it: its JSON type, and a string's bytes (not NUL-terminated, with
 * no NUL in them: the scan takes no escape, and jansson is never given
 * JSON_ALLOW_NUL), an integer's value, or an array's element count.
 */
enum claim_type {
	CLAIM_ABSENT = 0,
	CLAIM_STRING,
	CLAIM_INTEGER,
	CLAIM_ARRAY,
	CLAIM_OTHER		/* real, true, false, null, object */
};

struct claim {
	enum claim_type	 type;
	const char	*s;		/* CLAIM_STRING */
	size_t		 len;		/* string bytes, or array elements */
	int64_t		 i;		/* CLAIM_INTEGER */
};

/* The members the profile reads; every other member is ignored. */
struct claims_view {
	struct claim	 iss, sub, aud, exp, iat, nbf, jti, name, birthdate,
			 gender, eid_level, nonce, events;
	/* aud's first elements, when it is an array */
	struct claim	 aud_items[EID_AUD_MAX_COUNT];
};

/* claims.c */
/*
 * The claims of an authenticated payload (the JSON text), checked against
 * the profile; fills a's claims.  Returns a verdict: MALFORMED if the
 * payload is not JSON, INTERNAL if memory ran out.
 */
enum eid_verdict claims_parse_payload(const unsigned char *p, size_t len,
		    const struct key *, const struct eid_policy *,
		    struct eid_assertion *a);
/* The same on a claims value jansson has parsed. */
enum eid_verdict claims_parse(json_t *claims, const struct key *,
		    const struct eid_policy *, struct eid_assertion *a);
/* The same on a view of the members; claims_parse() builds one. */
enum eid_verdict claims_check(const struct claims_view *,
		    const struct key *, const struct eid_policy *,
		    struct eid_assertion *a);

/* claimscan.c */
/*
 * The fast path of claims_parse_payload(): true if p is a JSON object in
 * the narrow shape real claims take (see claimscan.c), and *v then holds
 * exactly the members jansson would have given; false for anything else,
 * which is then jansson's to parse or refuse.  Never allocates.
 */
bool		 claims_scan(const unsigned char *p, size_t len,
		    struct claims_view *v);
/* Parse a strict YYYY-MM-DD date; false if not a real date. */
bool		 claims_date_parse(const char *s, size_t len, int *y, int *m,
		    int *d);
/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t		 claims_days_from_civil(int64_t y, unsigned m, unsigned d);

/* jws.c */
/* A parsed compact JWS: what the header says and the decoded segments. */
struct jws {
	const char	*token;		/* borrowed: the caller's bytes */
	size_t		 signed_len;	/* bytes of "header.payload" */
	enum eid_alg	 alg;
	bool		 has_kid;
	char		 kid[EID_KID_MAX + 1];
	unsigned char	*x5c_der;	/* leaf of x5c (malloc'd) or NULL */
	size_t		 x5c_der_len;
	unsigned char	 sig[SIG_MAX_BYTES];
	size_t		 sig_len;
	unsigned char	 payload[EID_TOKEN_MAX / 4 * 3 + 3];
	size_t		 payload_len;
};
/*
 * Split, decode and check the header of a compact JWS (RFC 7515 with the
 * profile's header rules).  kid may be absent here; the caller decides.
 * Returns EID_VERDICT_OK, _MALFORMED, _UNSUPPORTED_ALG or _INTERNAL.
 * Always call jws_clear() afterwards.
 */
enum eid_verdict jws_parse(const char *token, size_t len, struct jws *);
/*
 * Check a parsed JWS against one key: the key's algorithm must be the
 * header's, an x5c leaf must be the key's certificate, and the signature
 * must verify.  signing_sha256, if not NULL, is the SHA-256 of the
 * signing input (header.payload), taken by the caller (sig_verify()).
 * Returns _OK, _UNSUPPORTED_ALG, _UNTRUSTED_ISSUER, _BAD_SIGNATURE or
 * _INTERNAL.
 */
enum eid_verdict jws_check(const struct jws *, const struct key *,
		    const unsigned char *signing_sha256);
/* Release what jws_parse allocated; accepts a zeroed struct. */
void		 jws_clear(struct jws *);

/* keyset.c */
/* The key named kid, or NULL. */
const struct key *keyset_find(const struct eid_keyset *, const char *kid,
		    size_t kidlen);

/* verify.c */
/* Write a formatted reason to err (errlen may be 0). */
void		 verify_seterr(char *err, size_t errlen, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

#endif /* EID_CRYPTO_H */
