/*
 * crypto/verify.c -- the public verification entry points and the names
 * of verdicts, errors and algorithms.
 *
 * eid_verify_token() is the cacheable half: jws.c parses and checks the
 * token against the key its kid names, and only then are the claims
 * parsed (claims.c).  eid_check_assertion() is the per-request half,
 * which must run on every request, cached or not.
 *
 * Every function starts its verdict at a failure and sets OK only as its
 * last step.  jansson objects are released before returning.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>

#include "eid/jose.h"
#include "crypto.h"

static const char *const verify_verdict_names[EID_VERDICT_COUNT] = {
	[EID_VERDICT_INTERNAL] = "INTERNAL",
	[EID_VERDICT_OK] = "OK",
	[EID_VERDICT_MALFORMED] = "MALFORMED",
	[EID_VERDICT_UNSUPPORTED_ALG] = "UNSUPPORTED_ALG",
	[EID_VERDICT_UNKNOWN_KEY] = "UNKNOWN_KEY",
	[EID_VERDICT_BAD_SIGNATURE] = "BAD_SIGNATURE",
	[EID_VERDICT_UNTRUSTED_ISSUER] = "UNTRUSTED_ISSUER",
	[EID_VERDICT_WRONG_AUDIENCE] = "WRONG_AUDIENCE",
	[EID_VERDICT_EXPIRED] = "EXPIRED",
	[EID_VERDICT_NOT_YET_VALID] = "NOT_YET_VALID",
	[EID_VERDICT_REVOKED] = "REVOKED",
	[EID_VERDICT_REPLAYED] = "REPLAYED",
	[EID_VERDICT_INSUFFICIENT_LEVEL] = "INSUFFICIENT_LEVEL",
	[EID_VERDICT_NONCE_MISMATCH] = "NONCE_MISMATCH",
	[EID_VERDICT_INVALID_CLAIMS] = "INVALID_CLAIMS",
};

const char *
eid_verdict_name(enum eid_verdict v)
{
	if ((unsigned)v >= EID_VERDICT_COUNT)
		return "UNKNOWN";
	return verify_verdict_names[v];
}

bool
eid_verdict_from_name(const char *name, enum eid_verdict *v)
{
	unsigned int	 i;

	if (name == NULL)
		return false;
	for (i = 0; i < EID_VERDICT_COUNT; i++)
		if (strcmp(name, verify_verdict_names[i]) == 0) {
			*v = (enum eid_verdict)i;
			return true;
		}
	return false;
}

const char *
eid_strerror(enum eid_err e)
{
	switch (e) {
	case EID_OK:
		return "success";
	case EID_ERR_NOMEM:
		return "out of memory";
	case EID_ERR_IO:
		return "file cannot be read";
	case EID_ERR_PARSE:
		return "cannot parse";
	case EID_ERR_KEY:
		return "key refused by policy";
	case EID_ERR_TRUST:
		return "certificate does not validate";
	case EID_ERR_DUPLICATE:
		return "duplicate key id";
	case EID_ERR_INVAL:
		return "invalid argument";
	case EID_ERR_CRYPTO:
		return "cryptographic library failure";
	case EID_ERR_RANGE:
		return "value out of range";
	}
	return "unknown error";
}

const char *
eid_alg_name(enum eid_alg alg)
{
	switch (alg) {
	case EID_ALG_ES256:
		return "ES256";
	case EID_ALG_ES384:
		return "ES384";
	case EID_ALG_RS256:
		return "RS256";
	case EID_ALG_PS256:
		return "PS256";
	case EID_ALG_EDDSA:
		return "EdDSA";
	case EID_ALG_NONE:
		break;
	}
	return "none";
}

enum eid_alg
eid_alg_from_name(const char *s)
{
	if (s == NULL)
		return EID_ALG_NONE;
	if (strcmp(s, "ES256") == 0)
		return EID_ALG_ES256;
	if (strcmp(s, "ES384") == 0)
		return EID_ALG_ES384;
	if (strcmp(s, "RS256") == 0)
		return EID_ALG_RS256;
	if (strcmp(s, "PS256") == 0)
		return EID_ALG_PS256;
	if (strcmp(s, "EdDSA") == 0)
		return EID_ALG_EDDSA;
	return EID_ALG_NONE;
}

void
verify_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Validate a policy once per call; out-of-range values fail closed. */
static bool
verify_policy_is_valid(const struct eid_policy *p)
{
	return p != NULL && p->leeway_s >= 0 && p->leeway_s <= 3600 &&
	    p->max_lifetime_s > 0 && p->max_lifetime_s <= 366 * 86400;
}

enum eid_verdict
eid_verify_token_hashed(const struct eid_keyset *ks, const char *token,
    size_t len, const struct eid_token_hash *h,
    const struct eid_policy *policy, struct eid_assertion *out)
{
	struct jws		 j;
	const struct key	*k;
	const unsigned char	*signing_sha256 = NULL;
	enum eid_verdict	 v = EID_VERDICT_INTERNAL;

	if (out == NULL)
		return EID_VERDICT_INTERNAL;
	memset(out, 0, sizeof(*out));
	if (ks == NULL || token == NULL || !verify_policy_is_valid(policy))
		return EID_VERDICT_INTERNAL;

	if ((v = jws_parse(token, len, &j)) != EID_VERDICT_OK)
		goto out;
	/* kid is required: there is no "try every key" fallback. */
	if (!j.has_kid) {
		v = EID_VERDICT_MALFORMED;
		goto out;
	}
	if ((k = keyset_find(ks, j.kid, strlen(j.kid))) == NULL) {
		v = EID_VERDICT_UNKNOWN_KEY;
		goto out;
	}
	/* The caller's digest, only if it is of these very bytes. */
	if (h != NULL && h->token == token && h->len == len &&
	    h->signing_len > 0 && h->signing_len == j.signed_len)
		signing_sha256 = h->signing_sha256;
	if ((v = jws_check(&j, k, signing_sha256)) != EID_VERDICT_OK)
		goto out;

	/* Claims, now authenticated. */
	out->alg = k->alg;
	memcpy(out->kid, k->kid, sizeof(out->kid));
	out->key_not_before = k->not_before;
	out->key_not_after = k->not_after;
	memcpy(out->key_sha256, k->spki_sha256, sizeof(out->key_sha256));
	v = claims_parse_payload(j.payload, j.payload_len, k, policy, out);
out:
	jws_clear(&j);
	if (v != EID_VERDICT_OK)
		memset(out, 0, sizeof(*out));
	return v;
}

enum eid_verdict
eid_verify_token(const struct eid_keyset *ks, const char *token, size_t len,
    const struct eid_policy *policy, struct eid_assertion *out)
{
	return eid_verify_token_hashed(ks, token, len, NULL, policy, out);
}

/*
 * Two contexts, so that the hash of the signing input can be forked off
 * the token's without hashing its bytes twice; reused from token to
 * token, so that hashing allocates no context.
 */
struct eid_hasher {
	EVP_MD		*sha256;
	EVP_MD_CTX	*ctx;
	EVP_MD_CTX	*fork;
};

struct eid_hasher *
eid_hasher_new(void)
{
	struct eid_hasher	*hs;

	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return NULL;
	/* Fetched once: SHA256() would look it up on every call. */
	if ((hs->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (hs->ctx = EVP_MD_CTX_new()) == NULL ||
	    (hs->fork = EVP_MD_CTX_new()) == NULL) {
		eid_hasher_free(hs);
		ERR_clear_error();
		return NULL;
	}
	return hs;
}

void
eid_hasher_free(struct eid_hasher *hs)
{
	if (hs == NULL)
		return;
	EVP_MD_CTX_free(hs->fork);
	EVP_MD_CTX_free(hs->ctx);
	EVP_MD_free(hs->sha256);
	free(hs);
}

int
eid_token_hash(struct eid_hasher *hs, const char *token, size_t len,
    struct eid_token_hash *out)
{
	const char	*d1, *d2 = NULL;
	size_t		 si = 0;

	if (out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if (hs == NULL || token == NULL)
		return -1;
	if ((d1 = memchr(token, '.', len)) != NULL)
		d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token));
	if (d2 != NULL)
		si = (size_t)(d2 - token);
	if (EVP_DigestInit_ex(hs->ctx, hs->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(hs->ctx, token, si) != 1)
		goto fail;
	if (si > 0 && (EVP_MD_CTX_copy_ex(hs->fork, hs->ctx) != 1 ||
	    EVP_DigestFinal_ex(hs->fork, out->signing_sha256, NULL) != 1))
		goto fail;
	if (EVP_DigestUpdate(hs->ctx, token + si, len - si) != 1 ||
	    EVP_DigestFinal_ex(hs->ctx, out->token_sha256, NULL) != 1)
		goto fail;
	out->token = token;
	out->len = len;
	out->signing_len = si;
	return 0;
fail:
	ERR_clear_error();
	memset(out, 0, sizeof(*out));
	return -1;
}

enum eid_verdict
eid_check_assertion(const struct eid_assertion *a,
    const struct eid_request *req, const struct eid_policy *policy,
    int64_t now)
{
	enum eid_verdict	 v = EID_VERDICT_INTERNAL;
	int64_t			 l;
	unsigned int		 i;
	bool			 aud_ok = false;

	if (a == NULL || req == NULL || !verify_policy_is_valid(policy) ||
	    now < 0 || now > TIME_MAX_S || a->alg == EID_ALG_NONE)
		return v;
	l = policy->leeway_s;

	/* A signing certificate outside its validity signs nothing. */
	if (now < a->key_not_before || now > a->key_not_after)
		return EID_VERDICT_UNTRUSTED_ISSUER;
	/* RFC 7519 4.1.4: the current time must be before exp (+ leeway). */
	if (a->exp <= now - l)
		return EID_VERDICT_EXPIRED;
	if ((a->has_nbf && a->nbf > now + l) || a->iat > now + l)
		return EID_VERDICT_NOT_YET_VALID;

	if (req->audience != NULL && req->audience[0] != '\0')
		for (i = 0; i < a->aud_count && i < EID_AUD_MAX_COUNT; i++)
			if (strcmp(a->aud[i], req->audience) == 0)
				aud_ok = true;
	if (!aud_ok)
		return EID_VERDICT_WRONG_AUDIENCE;
	if (a->level < req->min_level)
		return EID_VERDICT_INSUFFICIENT_LEVEL;
	if (req->nonce != NULL && (!a->has_nonce ||
	    strcmp(a->nonce, req->nonce) != 0))
		return EID_VERDICT_NONCE_MISMATCH;
	v = EID_VERDICT_OK;
	return v;
}

enum eid_verdict
eid_verify(const struct eid_keyset *ks, const char *token, size_t len,
    const struct eid_request *req, const struct eid_policy *policy,
    int64_t now, struct eid_assertion *out)
{
	enum eid_verdict	 v;

	v = eid_verify_token(ks, token, len, policy, out);
	if (v != EID_VERDICT_OK)
		return v;
	v = eid_check_assertion(out, req, policy, now);
	if (v != EID_VERDICT_OK)
		memset(out, 0, sizeof(*out));
	return v;
}
