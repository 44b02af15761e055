/*
 * eid/verify.h -- the eidd verifier library (libeidverify).
 *
 * This header is the whole public contract of crypto/: it decides whether
 * a VNeID-style identity assertion (a JWT in JWS compact form, "eid
 * assertion v1", see DESIGN.md section 4) was signed by a configured
 * identity provider and carries a well-formed identity.
 *
 * The library never performs I/O while verifying, never logs, never exits
 * and never aborts on input.  Functions that can fail for reasons other
 * than the token itself return enum eid_err; verification returns exactly
 * one enum eid_verdict, which starts as a failure inside the library and
 * becomes EID_VERDICT_OK only after every check.
 *
 * Threads: a struct eid_keyset is immutable once built and may be used by
 * any number of threads at once; eid_keyset_ref()/eid_keyset_unref() are
 * atomic.  A builder belongs to one thread.
 */
#ifndef EID_VERIFY_H
#define EID_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* OpenSSL's EVP_PKEY, forward-declared so callers need not include it. */
struct evp_pkey_st;

/*
 * Verdicts.  Zero is EID_VERDICT_INTERNAL so that a zeroed or forgotten
 * variable can never read as success.  The order is part of the wire
 * contract (proto/eid.proto mirrors it): append only.
 */
enum eid_verdict {
	EID_VERDICT_INTERNAL = 0,	/* internal failure: never an accept */
	EID_VERDICT_OK,
	EID_VERDICT_MALFORMED,		/* not a compact JWS we accept */
	EID_VERDICT_UNSUPPORTED_ALG,	/* alg not allowed, or not the key's */
	EID_VERDICT_UNKNOWN_KEY,	/* kid names no configured key */
	EID_VERDICT_BAD_SIGNATURE,
	EID_VERDICT_UNTRUSTED_ISSUER,	/* iss not configured / not the key's */
	EID_VERDICT_WRONG_AUDIENCE,
	EID_VERDICT_EXPIRED,
	EID_VERDICT_NOT_YET_VALID,
	EID_VERDICT_REVOKED,		/* set by the daemon's store */
	EID_VERDICT_REPLAYED,		/* set by the daemon's store */
	EID_VERDICT_INSUFFICIENT_LEVEL,
	EID_VERDICT_NONCE_MISMATCH,
	EID_VERDICT_INVALID_CLAIMS,	/* signed, but not a valid eid identity */
	EID_VERDICT_COUNT
};

/*
 * Upper-case name of a verdict ("OK", "BAD_SIGNATURE", ...); "UNKNOWN" for
 * a value out of range.  The returned string is static.
 */
const char	*eid_verdict_name(enum eid_verdict);

/* Parse a name printed by eid_verdict_name(); returns false if unknown. */
bool		 eid_verdict_from_name(const char *, enum eid_verdict *);

/* Errors of the non-verification calls (key loading, helpers). */
enum eid_err {
	EID_OK = 0,
	EID_ERR_NOMEM,		/* allocation failed */
	EID_ERR_IO,		/* a file could not be read (errno kept) */
	EID_ERR_PARSE,		/* PEM, DER or JSON could not be parsed */
	EID_ERR_KEY,		/* key refused by policy (type, size, curve) */
	EID_ERR_TRUST,		/* certificate does not validate */
	EID_ERR_DUPLICATE,	/* a kid is configured twice */
	EID_ERR_INVAL,		/* bad argument */
	EID_ERR_CRYPTO,		/* OpenSSL failed internally */
	EID_ERR_RANGE		/* output buffer too small, value too large */
};

/* Static description of an error code. */
const char	*eid_strerror(enum eid_err);

/* The algorithms of the profile.  Anything else is refused. */
enum eid_alg {
	EID_ALG_NONE = 0,	/* "no algorithm": never verifies */
	EID_ALG_ES256,
	EID_ALG_ES384,
	EID_ALG_RS256,
	EID_ALG_PS256,
	EID_ALG_EDDSA		/* Ed25519 only */
};

/* JOSE name of an algorithm ("ES256", ...); "none" for EID_ALG_NONE. */
const char	*eid_alg_name(enum eid_alg);

/* Exact, case-sensitive JOSE name to algorithm; EID_ALG_NONE if unknown. */
enum eid_alg	 eid_alg_from_name(const char *);

/* Limits.  A token or claim beyond them is refused, never truncated. */
#define EID_TOKEN_MAX		16384	/* bytes of a compact token */
#define EID_KID_MAX		128	/* bytes */
#define EID_ISS_MAX		255
#define EID_AUD_MAX		128	/* bytes of one audience */
#define EID_AUD_MAX_COUNT	8	/* entries of an aud array */
#define EID_JTI_MAX		128
#define EID_NAME_MAX		255
#define EID_NONCE_MAX		128
#define EID_PIN_LEN		12	/* personal identification number */

enum eid_gender {
	EID_GENDER_UNSET = 0,
	EID_GENDER_MALE,
	EID_GENDER_FEMALE
};

/*
 * A verified assertion: the header facts, the claims and the signing key's
 * validity.  It is flat (no pointers) so that it can be copied and cached
 * as it is; every string is NUL-terminated and holds no NUL.
 */
struct eid_assertion {
	enum eid_alg	 alg;
	char		 kid[EID_KID_MAX + 1];
	char		 iss[EID_ISS_MAX + 1];
	char		 sub[EID_PIN_LEN + 1];
	unsigned int	 aud_count;	/* 0 when aud is absent or [] */
	char		 aud[EID_AUD_MAX_COUNT][EID_AUD_MAX + 1];
	int64_t		 iat;
	int64_t		 exp;
	int64_t		 nbf;		/* valid only if has_nbf */
	bool		 has_nbf;
	bool		 has_nonce;
	char		 jti[EID_JTI_MAX + 1];
	char		 name[EID_NAME_MAX + 1];
	char		 birthdate[11];	/* YYYY-MM-DD */
	enum eid_gender	 gender;
	int		 level;		/* eid_level: 1 or 2 */
	char		 nonce[EID_NONCE_MAX + 1];
	int64_t		 key_not_before; /* signing certificate validity, */
	int64_t		 key_not_after;	 /* INT64_MIN/MAX for bare keys */
	unsigned char	 key_sha256[32]; /* SHA-256 of the key's SPKI DER */
};

/* Verification policy, fixed per deployment. */
struct eid_policy {
	int64_t		 leeway_s;	/* clock leeway, 0..3600 */
	int64_t		 max_lifetime_s; /* longest allowed exp - iat */
};

#define EID_POLICY_LEEWAY_DEFAULT	60
#define EID_POLICY_LIFETIME_DEFAULT	86400

/* What one relying party asks of one token. */
struct eid_request {
	const char	*audience;	/* required: must appear in aud */
	int		 min_level;	/* 0, 1 or 2 */
	const char	*nonce;		/* NULL: no nonce expected */
};

/*
 * True if pin is a well-formed 12-digit personal identification number
 * that agrees with birthdate (YYYY-MM-DD) and gender: a known province
 * code, the century-and-gender digit, and the two-digit birth year.
 */
bool		 eid_pin_is_valid(const char *pin, const char *birthdate,
		    enum eid_gender gender);

/* The immutable, reference-counted set of trusted keys. */
struct eid_keyset;

/* Builds a keyset; owned by one thread. */
struct eid_keyset_builder;

/*
 * Start a key set.  "now" (Unix seconds) is the time certificates must be
 * valid at.  Returns NULL when out of memory.  Free with
 * eid_keyset_builder_free() whether or not a key set was built.
 */
struct eid_keyset_builder *eid_keyset_builder_new(int64_t now);
void		 eid_keyset_builder_free(struct eid_keyset_builder *);

/*
 * All eid_keyset_add_* calls: "iss" is the issuer (the exact "iss" claim
 * value) the keys belong to; a token whose key belongs to another issuer is
 * refused.  On failure a one-line reason is written to err (errlen bytes,
 * may be 0) and the builder is unchanged.
 */

/* Trust anchors (PEM, one or more certificates) of an issuer. */
enum eid_err	 eid_keyset_add_anchors_file(struct eid_keyset_builder *,
		    const char *iss, const char *path, char *err,
		    size_t errlen);
enum eid_err	 eid_keyset_add_anchors_pem(struct eid_keyset_builder *,
		    const char *iss, const char *pem, size_t len, char *err,
		    size_t errlen);

/*
 * A signing certificate of an issuer: PEM with the leaf first, followed by
 * any untrusted intermediates.  The chain must reach one of the issuer's
 * anchors (add them first), the leaf must be valid at "now", be no CA, and
 * allow digitalSignature if it has keyUsage.  "alg" pins the algorithm:
 * EID_ALG_NONE derives it from the key (P-256 ES256, P-384 ES384, Ed25519
 * EdDSA, RSA-PSS SPKI PS256); a plain RSA key must be pinned to RS256 or
 * PS256.  The kid is the key's RFC 7638 thumbprint.
 */
enum eid_err	 eid_keyset_add_cert_file(struct eid_keyset_builder *,
		    const char *iss, const char *path, enum eid_alg alg,
		    char *err, size_t errlen);
enum eid_err	 eid_keyset_add_cert_pem(struct eid_keyset_builder *,
		    const char *iss, const char *pem, size_t len,
		    enum eid_alg alg, char *err, size_t errlen);

/*
 * A JWK Set (RFC 7517) of public signing keys.  Refused as a whole if any
 * key is symmetric, holds private members, uses a curve or size outside
 * the profile, says use "enc" or key_ops without "verify", is an RSA key
 * without "alg", or names an "alg" its key type cannot do.  A key's kid is
 * its "kid" member, else its RFC 7638 thumbprint.  A JWK with "x5c" must
 * chain to the issuer's anchors, and its leaf must hold the same key.
 */
enum eid_err	 eid_keyset_add_jwks_file(struct eid_keyset_builder *,
		    const char *iss, const char *path, char *err,
		    size_t errlen);
enum eid_err	 eid_keyset_add_jwks(struct eid_keyset_builder *,
		    const char *iss, const char *json, size_t len, char *err,
		    size_t errlen);

/*
 * A bare public key (no certificate), pinned to "alg", under "kid" (NULL:
 * the RFC 7638 thumbprint).  The key is up-referenced, not consumed.
 */
enum eid_err	 eid_keyset_add_pkey(struct eid_keyset_builder *,
		    const char *iss, const char *kid, enum eid_alg alg,
		    struct evp_pkey_st *pkey, char *err, size_t errlen);

/*
 * Freeze the builder's keys into a key set with one reference, stored in
 * *out.  Refuses an empty set.  The builder may then only be freed.
 */
enum eid_err	 eid_keyset_build(struct eid_keyset_builder *,
		    struct eid_keyset **out, char *err, size_t errlen);

/* Take and drop references; the last unref frees.  Both accept NULL. */
struct eid_keyset *eid_keyset_ref(struct eid_keyset *);
void		 eid_keyset_unref(struct eid_keyset *);

/* One loaded key, for status reports.  Strings borrowed from the set. */
struct eid_key_info {
	const char	*kid;
	const char	*iss;
	enum eid_alg	 alg;
	int64_t		 not_before;
	int64_t		 not_after;
	bool		 from_certificate;
};

size_t		 eid_keyset_count(const struct eid_keyset *);

/*
 * True if the key that verified a (its kid, issuer, algorithm and
 * SPKI hash) is in the set.  A cache of verified assertions asks this on
 * every hit, so that a key removed by a reload stops verifying at once,
 * even when a JWKS reuses its kid for another key.
 */
bool		 eid_keyset_has_key(const struct eid_keyset *,
		    const struct eid_assertion *a);

/* Fill *info for key i (0 <= i < count); false if out of range. */
bool		 eid_keyset_key_info(const struct eid_keyset *, size_t i,
		    struct eid_key_info *info);

/*
 * The cacheable half of verification: parse the compact token, check the
 * header, find the key, check the signature over the received bytes, and
 * check the claims that do not depend on the request or the clock (types,
 * sizes, the personal identification number against birthdate and gender,
 * exp - iat against policy->max_lifetime_s).  On EID_VERDICT_OK *out holds
 * the assertion; on any other verdict *out is zeroed.  The token need not
 * be NUL-terminated and is not kept.  Thread-safe.
 */
enum eid_verdict eid_verify_token(const struct eid_keyset *,
		    const char *token, size_t len,
		    const struct eid_policy *policy, struct eid_assertion *out);

/*
 * The SHA-256 of a compact token and of its signing input (the bytes up
 * to the second '.', "header.payload"), taken in one pass.  A cache of
 * verified assertions keys on the first; eid_verify_token_hashed()
 * checks an RS256, PS256 or ES256 signature against the second instead
 * of hashing those bytes again.  The struct borrows the token.
 */
struct eid_token_hash {
	unsigned char	 token_sha256[32];
	unsigned char	 signing_sha256[32];	/* if signing_len > 0 */
	const char	*token;			/* the bytes hashed */
	size_t		 len;
	size_t		 signing_len;		/* 0: fewer than two dots */
};

/* What eid_token_hash() hashes with: one per thread. */
struct eid_hasher;

struct eid_hasher *eid_hasher_new(void);
void		 eid_hasher_free(struct eid_hasher *);

/* Hash len bytes of token into *out; 0, or -1 (*out zeroed) on failure. */
int		 eid_token_hash(struct eid_hasher *, const char *token,
		    size_t len, struct eid_token_hash *out);

/*
 * eid_verify_token() with the token's hashes from eid_token_hash(): the
 * same checks and verdicts, with one hashing pass less.  h is used only
 * if it was taken of these very bytes (the same pointer and length).
 * The signature is checked against h's digest, not against the bytes:
 * the caller must hash and verify the same buffer, unchanged in between
 * (hash, look the cache up, verify; nothing else may write it).  When in
 * doubt, pass NULL, which verifies as eid_verify_token().
 */
enum eid_verdict eid_verify_token_hashed(const struct eid_keyset *,
		    const char *token, size_t len,
		    const struct eid_token_hash *h,
		    const struct eid_policy *policy, struct eid_assertion *out);

/*
 * The per-request half, which must run on every request, cached or not:
 * the signing key's validity, exp/nbf/iat against "now" with the policy's
 * leeway, the audience, the minimum level and the nonce.
 */
enum eid_verdict eid_check_assertion(const struct eid_assertion *,
		    const struct eid_request *, const struct eid_policy *,
		    int64_t now);

/* Both halves: eid_verify_token(), then eid_check_assertion(). */
enum eid_verdict eid_verify(const struct eid_keyset *, const char *token,
		    size_t len, const struct eid_request *,
		    const struct eid_policy *, int64_t now,
		    struct eid_assertion *out);

#endif /* EID_VERIFY_H */
