/*
 * crypto/sign.c -- compact JWS signing for token producers: eid-mint and
 * the tests.  The verifier never calls this file; it lives in the library
 * so that producers encode exactly what sig.c and verify.c decode.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "eid/jose.h"
#include "crypto.h"

/* DER ECDSA-Sig-Value to R || S, each half bytes wide. */
static enum eid_err
sign_der_to_p1363(const unsigned char *der, size_t len, size_t half,
    unsigned char *out)
{
	ECDSA_SIG		*es;
	const BIGNUM		*r, *s;
	const unsigned char	*p = der;
	enum eid_err		 rc = EID_ERR_CRYPTO;

	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return EID_ERR_CRYPTO;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, out, (int)half) == (int)half &&
	    BN_bn2binpad(s, out + half, (int)half) == (int)half)
		rc = EID_OK;
	ECDSA_SIG_free(es);
	return rc;
}

enum eid_err
eid_jws_sign(struct evp_pkey_st *priv, enum eid_alg alg, const char *header,
    size_t hlen, const char *payload, size_t plen, char **token)
{
	EVP_MD_CTX	*mctx = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	const EVP_MD	*md = NULL;
	unsigned char	 sig[SIG_MAX_BYTES + 16], raw[96];
	unsigned char	*s = sig;
	size_t		 siglen = sizeof(sig), inlen, total, o;
	char		*t = NULL;
	enum eid_err	 rc = EID_ERR_CRYPTO;

	if (priv == NULL || header == NULL || payload == NULL ||
	    token == NULL || hlen > EID_TOKEN_MAX || plen > EID_TOKEN_MAX)
		return EID_ERR_INVAL;
	*token = NULL;
	switch (alg) {
	case EID_ALG_ES256:
	case EID_ALG_RS256:
	case EID_ALG_PS256:
		md = EVP_sha256();
		break;
	case EID_ALG_ES384:
		md = EVP_sha384();
		break;
	case EID_ALG_EDDSA:
		break;
	case EID_ALG_NONE:
	default:
		return EID_ERR_INVAL;
	}
	total = EID_B64URL_LEN(hlen) + 1 + EID_B64URL_LEN(plen) + 1 +
	    EID_B64URL_LEN(SIG_MAX_BYTES) + 1;
	if ((t = malloc(total)) == NULL)
		return EID_ERR_NOMEM;
	o = eid_b64url_encode(header, hlen, t, total);
	t[o++] = '.';
	o += eid_b64url_encode(payload, plen, t + o, total - o);
	inlen = o;
	t[o++] = '.';

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, &pctx, md, NULL, priv) != 1)
		goto out;
	if (alg == EID_ALG_PS256 && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) <= 0 || EVP_PKEY_CTX_set_rsa_pss_saltlen(
	    pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0))
		goto out;
	if (alg == EID_ALG_RS256 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
		goto out;
	if (EVP_DigestSign(mctx, sig, &siglen, (const unsigned char *)t,
	    inlen) != 1)
		goto out;
	if (alg == EID_ALG_ES256 || alg == EID_ALG_ES384) {
		if ((rc = sign_der_to_p1363(sig, siglen, alg == EID_ALG_ES256 ?
		    32 : 48, raw)) != EID_OK)
			goto out;
		s = raw;
		siglen = alg == EID_ALG_ES256 ? 64 : 96;
	}
	if (siglen > SIG_MAX_BYTES) {
		rc = EID_ERR_RANGE;
		goto out;
	}
	eid_b64url_encode(s, siglen, t + o, total - o);
	*token = t;
	t = NULL;
	rc = EID_OK;
out:
	EVP_MD_CTX_free(mctx);
	free(t);
	ERR_clear_error();
	return rc;
}
