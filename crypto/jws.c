/*
 * crypto/jws.c -- compact JWS serialization (RFC 7515 section 7.1) under
 * the eid profile's header rules, and the check of a parsed JWS against
 * one key.
 *
 * Order (RFC 7515 section 5.2, RFC 8725): split into exactly three
 * segments; decode the signature (bounded first) and the payload, with
 * the strict decoder, which refuses any character outside the alphabet,
 * so that every character of both is checked before any JSON is read;
 * then decode and check the header (or find it in the memo, below).  No
 * signature work is spent on a token that fails any of these, and the
 * payload is not parsed here at all: claims are read only after
 * jws_check() succeeded.  A token refused for both its header and an
 * undecodable signature or payload is therefore MALFORMED.
 *
 * Headers that passed are remembered per thread (jws_memo): an issuer
 * signs with a handful of distinct headers, so nearly every token repeats
 * one, and its JSON need not be parsed again (about a quarter of the
 * JSON work of a verification).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "eid/jose.h"
#include "crypto.h"

/*
 * Header members refused whatever their value: crit (no extension is
 * understood), anything that would make a verifier fetch or trust a key
 * from the token, RFC 7797 unencoded payloads, JWE members, and cty
 * (nested JWTs are not supported).
 */
static const char *const jws_header_refused[] = {
	"crit", "jku", "jwk", "x5u", "b64", "zip", "enc", "epk", "cty", NULL
};

/*
 * A header's verdict and fields are a function of its base64url bytes
 * alone (the checks here read no key and no clock), so a header seen
 * before, byte for byte, gives the same result without decoding it.
 * Only headers that passed and carry no x5c are kept (the certificate
 * is not worth holding); a few slots per thread, replaced in turn, so a
 * peer sending many distinct headers only costs the parse it saves.
 */
#define JWS_MEMO_SLOTS		4
#define JWS_MEMO_SEG_MAX	192	/* base64url bytes of one header */

struct jws_memo {
	size_t		 len;		/* 0: empty slot */
	char		 seg[JWS_MEMO_SEG_MAX];
	enum eid_alg	 alg;
	bool		 has_kid;
	char		 kid[EID_KID_MAX + 1];
};

static _Thread_local struct jws_memo	jws_memo[JWS_MEMO_SLOTS];
static _Thread_local unsigned		jws_memo_next;

static bool
jws_memo_get(const char *seg, size_t len, struct jws *j)
{
	const struct jws_memo	*m;
	size_t			 i;

	for (i = 0; i < JWS_MEMO_SLOTS; i++) {
		m = &jws_memo[i];
		if (m->len == len && memcmp(m->seg, seg, len) == 0) {
			j->alg = m->alg;
			j->has_kid = m->has_kid;
			memcpy(j->kid, m->kid, sizeof(j->kid));
			return true;
		}
	}
	return false;
}

static void
jws_memo_put(const char *seg, size_t len, const struct jws *j)
{
	struct jws_memo	*m;

	if (len == 0 || len > JWS_MEMO_SEG_MAX || j->x5c_der != NULL)
		return;
	m = &jws_memo[jws_memo_next++ % JWS_MEMO_SLOTS];
	memcpy(m->seg, seg, len);
	m->len = len;
	m->alg = j->alg;
	m->has_kid = j->has_kid;
	memcpy(m->kid, j->kid, sizeof(m->kid));
}

/* typ is a media type: case-insensitive, "application/" optional. */
static bool
jws_typ_is_allowed(const char *typ)
{
	if (strncasecmp(typ, "application/", 12) == 0)
		typ += 12;
	return strcasecmp(typ, "JWT") == 0 || strcasecmp(typ, "eid+jwt") == 0;
}

/* Decode the first x5c certificate (standard base64 DER). */
static enum eid_verdict
jws_x5c(json_t *x5c, struct jws *j)
{
	json_t		*e;
	size_t		 i, n;

	if (!json_is_array(x5c) || json_array_size(x5c) == 0 ||
	    json_array_size(x5c) > CERT_CHAIN_MAX)
		return EID_VERDICT_MALFORMED;
	json_array_foreach(x5c, i, e)
		if (!json_is_string(e))
			return EID_VERDICT_MALFORMED;
	e = json_array_get(x5c, 0);
	if (json_string_length(e) > EID_B64URL_LEN(CERT_DER_MAX) + 4)
		return EID_VERDICT_MALFORMED;
	if ((j->x5c_der = malloc(CERT_DER_MAX)) == NULL)
		return EID_VERDICT_INTERNAL;
	n = eid_b64_decode(json_string_value(e), json_string_length(e),
	    j->x5c_der, CERT_DER_MAX);
	if (n == (size_t)-1 || n == 0)
		return EID_VERDICT_MALFORMED;
	j->x5c_der_len = n;
	return EID_VERDICT_OK;
}

static enum eid_verdict
jws_header(json_t *h, struct jws *j)
{
	const char *const	*r;
	json_t			*v;

	if (!json_is_object(h))
		return EID_VERDICT_MALFORMED;
	/* "none", HS*, unknown, missing or non-string alg: one answer. */
	if ((v = json_object_get(h, "alg")) == NULL || !json_is_string(v) ||
	    (j->alg = eid_alg_from_name(json_string_value(v))) ==
	    EID_ALG_NONE)
		return EID_VERDICT_UNSUPPORTED_ALG;
	for (r = jws_header_refused; *r != NULL; r++)
		if (json_object_get(h, *r) != NULL)
			return EID_VERDICT_MALFORMED;
	if ((v = json_object_get(h, "kid")) != NULL) {
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > EID_KID_MAX)
			return EID_VERDICT_MALFORMED;
		memcpy(j->kid, json_string_value(v), json_string_length(v) + 1);
		j->has_kid = true;
	}
	if ((v = json_object_get(h, "typ")) != NULL &&
	    (!json_is_string(v) || !jws_typ_is_allowed(json_string_value(v))))
		return EID_VERDICT_MALFORMED;
	if ((v = json_object_get(h, "x5c")) != NULL)
		return jws_x5c(v, j);
	return EID_VERDICT_OK;
}

enum eid_verdict
jws_parse(const char *token, size_t len, struct jws *j)
{
	json_error_t	 jerr;
	json_t		*h;
	const char	*d1, *d2, *seg_p, *seg_s;
	size_t		 hlen, plen, slen, n;
	enum eid_verdict v;

	memset(j, 0, offsetof(struct jws, sig));
	j->sig_len = j->payload_len = 0;
	if (token == NULL)
		return EID_VERDICT_INTERNAL;
	j->token = token;

	/* Exactly three segments, header and payload not empty. */
	if (len == 0 || len > EID_TOKEN_MAX)
		return EID_VERDICT_MALFORMED;
	if ((d1 = memchr(token, '.', len)) == NULL ||
	    (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token))) == NULL ||
	    memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
		return EID_VERDICT_MALFORMED;
	hlen = (size_t)(d1 - token);
	seg_p = d1 + 1;
	plen = (size_t)(d2 - seg_p);
	seg_s = d2 + 1;
	slen = len - (size_t)(seg_s - token);
	j->signed_len = (size_t)(d2 - token);
	if (hlen == 0 || plen == 0)
		return EID_VERDICT_MALFORMED;

	/*
	 * The signature segment is bounded before decoding; its exact
	 * length is the key's business (jws_check).  The decoder is strict:
	 * one character outside the alphabet, or unused bits set, refuses
	 * the token, so no separate pass over the characters is needed.
	 */
	if (slen > EID_B64URL_LEN(SIG_MAX_BYTES) ||
	    (j->sig_len = eid_b64url_decode(seg_s, slen, j->sig,
	    sizeof(j->sig))) == (size_t)-1) {
		j->sig_len = 0;
		return EID_VERDICT_MALFORMED;
	}
	if ((j->payload_len = eid_b64url_decode(seg_p, plen, j->payload,
	    sizeof(j->payload))) == (size_t)-1) {
		j->payload_len = 0;
		return EID_VERDICT_MALFORMED;
	}

	/*
	 * Header: strict base64url, then strict JSON without duplicates.  A
	 * memo hit is byte for byte a header that passed all of this.  The
	 * header is decoded after the payload, in the same buffer: the two
	 * decode to at most 3/4 of the token, which the buffer holds.
	 */
	if (jws_memo_get(token, hlen, j))
		return EID_VERDICT_OK;
	if ((n = eid_b64url_decode(token, hlen, j->payload + j->payload_len,
	    sizeof(j->payload) - j->payload_len)) == (size_t)-1) {
		v = EID_VERDICT_MALFORMED;
		goto refused;
	}
	h = json_loadb((const char *)j->payload + j->payload_len, n,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (h == NULL) {
		v = json_error_code(&jerr) == json_error_out_of_memory ?
		    EID_VERDICT_INTERNAL : EID_VERDICT_MALFORMED;
		goto refused;
	}
	v = jws_header(h, j);
	json_decref(h);
	if (v != EID_VERDICT_OK)
		goto refused;
	jws_memo_put(token, hlen, j);
	return EID_VERDICT_OK;
refused:
	/* A refused token leaves nothing decoded behind. */
	j->sig_len = j->payload_len = 0;
	return v;
}

enum eid_verdict
jws_check(const struct jws *j, const struct key *k,
    const unsigned char *signing_sha256)
{
	if (j == NULL || k == NULL)
		return EID_VERDICT_INTERNAL;
	/* The key decides the algorithm, never the header. */
	if (k->alg != j->alg)
		return EID_VERDICT_UNSUPPORTED_ALG;
	/*
	 * An x5c header adds no trust: its leaf must be, byte for byte, the
	 * configured certificate of the key (SECURITY.md finding 4).  A
	 * chain to the national root alone proves nothing.
	 */
	if (j->x5c_der != NULL && (k->cert_der == NULL ||
	    j->x5c_der_len != k->cert_der_len ||
	    memcmp(j->x5c_der, k->cert_der, k->cert_der_len) != 0))
		return EID_VERDICT_UNTRUSTED_ISSUER;
	/* A wrong length is a bad signature, never converted as it came. */
	if (j->sig_len != k->sig_len)
		return EID_VERDICT_BAD_SIGNATURE;
	/* Signed over the received ASCII of header.payload, not re-encoded. */
	return sig_verify(k, (const unsigned char *)j->token, j->signed_len,
	    signing_sha256, j->sig, j->sig_len);
}

void
jws_clear(struct jws *j)
{
	if (j == NULL)
		return;
	free(j->x5c_der);
	j->x5c_der = NULL;
	j->x5c_der_len = 0;
}
