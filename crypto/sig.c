/*
 * crypto/sig.c -- the signature primitive under every JWS algorithm.
 *
 * This is the only file that calls OpenSSL's verify functions.  It knows
 * the JOSE encodings (RFC 7518 section 3, RFC 8037): ECDSA signatures are
 * R || S of a fixed width and are turned into DER here, with no
 * allocation; RSA-PSS is forced to MGF1-SHA-256 with a 32-byte salt,
 * because OpenSSL 3 accepts any salt length unless told (SECURITY.md
 * finding 1).  Callers have already checked the exact signature length.
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
 * Set up ctx to verify with pkey under alg: digest, and for RSA the
 * padding the algorithm names.  Returns 1 on success.
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

EVP_MD_CTX *
sig_prepare(EVP_PKEY *pkey, enum eid_alg alg, const EVP_MD *md)
{
	EVP_MD_CTX	*ctx;

	ERR_clear_error();
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    sig_init(ctx, pkey, alg, md) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_clear_error();
	return ctx;
}

enum eid_verdict
sig_verify(const EVP_MD_CTX *tmpl, EVP_PKEY *pkey, enum eid_alg alg,
    const EVP_MD *md, const unsigned char *msg, size_t msglen,
    const unsigned char *sig, size_t siglen)
{
	enum eid_verdict	 v = EID_VERDICT_INTERNAL;
	EVP_MD_CTX		*mctx = NULL;
	unsigned char		 der[2 + 2 * (3 + 48)];
	const unsigned char	*s = sig;
	size_t			 slen = siglen;
	int			 rc;

	if (pkey == NULL || siglen != sig_length(pkey, alg) || siglen == 0)
		return EID_VERDICT_BAD_SIGNATURE;

	switch (alg) {
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

	ERR_clear_error();
	if ((mctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	/*
	 * Copying a context prepared at load skips the provider fetches of
	 * EVP_DigestVerifyInit (about 6 us of a 33 us RS256 verify here).
	 * The template is only read, so threads may copy it at once.
	 */
	if (tmpl != NULL) {
		if (EVP_MD_CTX_copy_ex(mctx, tmpl) != 1)
			goto out;
	} else if (sig_init(mctx, pkey, alg, md) != 1)
		goto out;
	/*
	 * EVP_DigestVerify returns 1 for a good signature, 0 for a bad one
	 * and a negative value for other failures; only 1 is success.
	 */
	rc = EVP_DigestVerify(mctx, s, slen, msg, msglen);
	if (rc == 1)
		v = EID_VERDICT_OK;
	else
		v = EID_VERDICT_BAD_SIGNATURE;
out:
	EVP_MD_CTX_free(mctx);
	/* A bad signature leaves errors queued; they mean nothing more. */
	ERR_clear_error();
	return v;
}
