/*
 * crypto/sig.c -- the signature primitive under every JWS algorithm.
 *
 * This is the only file that calls OpenSSL's verify functions.  It knows
 * the JOSE encodings (RFC 7518 section 3, RFC 8037): ECDSA signatures are
 * R || S of a fixed width and are turned into DER here, with no
 * allocation; RSA-PSS is forced to MGF1-SHA-256 with a 32-byte salt,
 * because OpenSSL 3 accepts any salt length unless told (SECURITY.md
 * finding 1).  Callers have already checked the exact signature length.
 *
 * ES256, ES384, RS256 and PS256 hash the signing input and verify the
 * digest (EVP_PKEY_verify), so that a caller who has already taken its
 * SHA-256 -- the daemon, whose cache key is the token's SHA-256 and
 * shares the prefix (eid_token_hash) -- does not hash the bytes twice.
 * EdDSA hashes inside and verifies the message (EVP_DigestVerify).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "crypto.h"

/* DER INTEGER of a fixed-width big-endian value; returns bytes written. */
static size_t
sig_der_int(unsigned char *out, const unsigned char *v, size_t n)
{
	size_t	 o = 0;

	/* Minimal encoding: drop leading zeros, keep one byte for zero. */
	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	out[o++] = 0x02;
	if (v[0] & 0x80) {
		out[o++] = (unsigned char)(n + 1);
		out[o++] = 0x00;
	} else
		out[o++] = (unsigned char)n;
	memcpy(out + o, v, n);
	return o + n;
}

/*
 * R || S (each half bytes, half <= 48) to a DER ECDSA-Sig-Value.  The
 * largest output, for P-384, is 2 + 2 * (3 + 48) = 104 bytes, so the
 * SEQUENCE length always fits the short form.
 */
static size_t
sig_p1363_to_der(const unsigned char *sig, size_t half, unsigned char *der)
{
	size_t	 n;

	n = sig_der_int(der + 2, sig, half);
	n += sig_der_int(der + 2 + n, sig + half, half);
	der[0] = 0x30;
	der[1] = (unsigned char)n;
	return n + 2;
}

static int	sig_padding(EVP_PKEY_CTX *, enum eid_alg, const EVP_MD *);

size_t
sig_length(const EVP_PKEY *pkey, enum eid_alg alg)
{
	int	 size;

	switch (alg) {
	case EID_ALG_ES256:
		return 64;
	case EID_ALG_ES384:
		return 96;
	case EID_ALG_EDDSA:
		return 64;
	case EID_ALG_RS256:
	case EID_ALG_PS256:
		size = EVP_PKEY_get_size(pkey);
		if (size <= 0 || size > SIG_MAX_BYTES)
			return 0;
		return (size_t)size;
	case EID_ALG_NONE:
		break;
	}
	return 0;
}

/*
 * Set up ctx to verify with pkey under alg, for EVP_DigestVerify(): the
 * digest, and for RSA the padding the algorithm names.  Returns 1 on
 * success.  Only EdDSA, which hashes inside, takes this path per token;
 * the others hash first and verify the digest (sig_pkey_init).
 */
static int
sig_init(EVP_MD_CTX *ctx, EVP_PKEY *pkey, enum eid_alg alg, const EVP_MD *md)
{
	EVP_PKEY_CTX	*pctx = NULL;

	/* Ed25519 hashes internally: no digest is named. */
	if (alg == EID_ALG_EDDSA)
		md = NULL;
	else if (md == NULL)
		return 0;
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, pkey) != 1)
		return 0;
	return sig_padding(pctx, alg, md);
}

/*
 * The RSA padding alg names, on a context already set up to verify:
 * PKCS#1 v1.5 for RS256; for PS256 MGF1 with the same digest and a salt
 * exactly as long as the digest, which OpenSSL 3 would not otherwise
 * insist on (SECURITY.md finding 1).  Returns 1 on success.
 */
static int
sig_padding(EVP_PKEY_CTX *pctx, enum eid_alg alg, const EVP_MD *md)
{
	if (alg == EID_ALG_RS256)
		return EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) > 0;
	if (alg == EID_ALG_PS256)
		return EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) > 0 &&
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
	return 1;
}

/*
 * Set up pctx for EVP_PKEY_verify() of a digest made with md: the
 * signature digest (so that a digest of another length is refused) and
 * the RSA padding.  Returns 1 on success.
 */
static int
sig_pkey_init(EVP_PKEY_CTX *pctx, enum eid_alg alg, const EVP_MD *md)
{
	if (md == NULL || EVP_PKEY_verify_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, md) <= 0)
		return 0;
	return sig_padding(pctx, alg, md);
}

int
sig_prepare(struct key *k)
{
	EVP_PKEY_CTX	*pctx;

	if (k->alg == EID_ALG_EDDSA) {
		if ((k->vctx = EVP_MD_CTX_new()) != NULL &&
		    sig_init(k->vctx, k->pkey, k->alg, k->md) != 1) {
			EVP_MD_CTX_free(k->vctx);
			k->vctx = NULL;
		}
	} else if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey,
	    NULL)) != NULL) {
		if (sig_pkey_init(pctx, k->alg, k->md) == 1)
			k->pctx = pctx;
		else
			EVP_PKEY_CTX_free(pctx);
	}
	ERR_clear_error();
	return k->vctx != NULL || k->pctx != NULL ? 0 : -1;
}

/*
 * The verify helpers return 1 for a good signature, 0 for any other
 * answer of OpenSSL's verify (it answers 0 for a bad signature and a
 * negative value for some malformed ones: both are bad signatures), and
 * -1 when no context could be set up.
 */

/* EdDSA: Ed25519 over the message itself. */
static int
sig_verify_message(const struct key *k, const unsigned char *msg,
    size_t msglen, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*mctx;
	int		 rc = -1;

	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	/*
	 * Copying a context prepared at load skips the provider fetches of
	 * EVP_DigestVerifyInit.  The template is only read, so threads may
	 * copy it at once.
	 */
	if (k->vctx != NULL ? EVP_MD_CTX_copy_ex(mctx, k->vctx) == 1 :
	    sig_init(mctx, k->pkey, k->alg, k->md) == 1)
		rc = EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1;
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* The others: the digest of the message, verified. */
static int
sig_verify_digest(const struct key *k, const unsigned char *digest,
    size_t dlen, const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX	*pctx;
	int		 rc = -1;

	/* A context prepared at load, duplicated: no provider fetches. */
	if (k->pctx != NULL)
		pctx = EVP_PKEY_CTX_dup(k->pctx);
	else if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey,
	    NULL)) != NULL && sig_pkey_init(pctx, k->alg, k->md) != 1) {
		EVP_PKEY_CTX_free(pctx);
		pctx = NULL;
	}
	if (pctx != NULL)
		rc = EVP_PKEY_verify(pctx, sig, siglen, digest, dlen) == 1;
	EVP_PKEY_CTX_free(pctx);
	return rc;
}

enum eid_verdict
sig_verify(const struct key *k, const unsigned char *msg, size_t msglen,
    const unsigned char *msg_sha256, const unsigned char *sig, size_t siglen)
{
	unsigned char		 der[2 + 2 * (3 + 48)];
	unsigned char		 md[EVP_MAX_MD_SIZE];
	const unsigned char	*s = sig, *d = msg_sha256;
	size_t			 slen = siglen;
	unsigned int		 dlen = 32;
	int			 rc;

	if (k == NULL || k->pkey == NULL || siglen == 0 ||
	    siglen != sig_length(k->pkey, k->alg))
		return EID_VERDICT_BAD_SIGNATURE;

	switch (k->alg) {
	case EID_ALG_ES256:
	case EID_ALG_ES384:
		slen = sig_p1363_to_der(sig, siglen / 2, der);
		s = der;
		break;
	case EID_ALG_EDDSA:
	case EID_ALG_RS256:
	case EID_ALG_PS256:
		break;
	case EID_ALG_NONE:
	default:
		return EID_VERDICT_INTERNAL;
	}

	if (k->alg == EID_ALG_EDDSA)
		rc = sig_verify_message(k, msg, msglen, s, slen);
	else if (k->md == NULL)
		rc = -1;
	else {
		/* A digest the caller took counts only if it is k's. */
		if (d == NULL || !k->md_is_sha256) {
			d = md;
			if (EVP_Digest(msg, msglen, md, &dlen, k->md,
			    NULL) != 1)
				dlen = 0;
		}
		rc = dlen == 0 ? -1 : sig_verify_digest(k, d, dlen, s, slen);
	}
	if (rc == 1)
		return EID_VERDICT_OK;
	/*
	 * A bad signature leaves errors queued; they mean nothing more.
	 * (Only return values are read here, so nothing is cleared before:
	 * in OpenSSL 3 each clear looks up the thread's error state.)
	 */
	ERR_clear_error();
	return rc == 0 ? EID_VERDICT_BAD_SIGNATURE : EID_VERDICT_INTERNAL;
}
