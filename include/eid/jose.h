/*
 * eid/jose.h -- JOSE helpers of the verifier library that token producers
 * and tools share with it: strict base64url (RFC 7515 section 2), the
 * RFC 7638 JWK thumbprint and the public JWK of a key.  Nothing here is on
 * the verification path's critical decisions; it exists so that eid-mint
 * and tests encode exactly what the verifier decodes.
 */
#ifndef EID_JOSE_H
#define EID_JOSE_H

#include <stddef.h>

#include "eid/verify.h"

/* Characters needed to base64url-encode n bytes, without padding or NUL. */
#define EID_B64URL_LEN(n)	(((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/* Length of an RFC 7638 SHA-256 thumbprint in base64url, without NUL. */
#define EID_THUMBPRINT_LEN	43

/*
 * Encode len bytes as unpadded base64url into out (outlen bytes, NUL
 * added).  Returns the encoded length, or (size_t)-1 if out is too small.
 */
size_t		 eid_b64url_encode(const void *in, size_t len, char *out,
		    size_t outlen);

/*
 * Decode unpadded, canonical base64url: only [A-Za-z0-9_-], no '=', no
 * whitespace, a length that is not 1 mod 4, and zero unused low bits in
 * the last character.  Returns the decoded length, or (size_t)-1 if the
 * input is not canonical or out (outlen bytes) is too small.
 */
size_t		 eid_b64url_decode(const char *in, size_t len, void *out,
		    size_t outlen);

/*
 * Decode canonical standard base64 with padding (x5c, RFC 7515 section
 * 4.1.6; HdrHistogram's encodings): only [A-Za-z0-9+/], a length that is
 * a multiple of four, at most two '=' at the very end, and zero unused
 * low bits.  Returns the decoded length, or (size_t)-1 if the input is
 * not canonical or out (outlen bytes) is too small.
 */
size_t		 eid_b64_decode(const char *in, size_t len, void *out,
		    size_t outlen);

/*
 * The RFC 7638 thumbprint of a public key (EC P-256/P-384, RSA, Ed25519)
 * as base64url into out (at least EID_THUMBPRINT_LEN + 1 bytes).
 */
enum eid_err	 eid_jwk_thumbprint(const struct evp_pkey_st *, char *out,
		    size_t outlen);

/*
 * The public JWK of a key as a JSON object text, with "kid" (NULL: the
 * thumbprint), "alg", "use":"sig".  *json is malloc'd; the caller frees it.
 */
enum eid_err	 eid_jwk_export(const struct evp_pkey_st *, enum eid_alg,
		    const char *kid, char **json);

/*
 * Sign a compact JWS: header and payload are taken as the exact bytes to
 * encode (normally JSON texts), the signature is made with the private
 * key under alg in its JOSE encoding (R || S for ECDSA, PSS with a 32-byte
 * salt).  *token is malloc'd and NUL-terminated; the caller frees it.
 * For producers and tests: the daemon never signs.
 */
enum eid_err	 eid_jws_sign(struct evp_pkey_st *priv, enum eid_alg alg,
		    const char *header, size_t hlen, const char *payload,
		    size_t plen, char **token);

#endif /* EID_JOSE_H */
