/*
 * load/raw.c -- OpenSSL's bare verify of one token (see raw.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "eid/jose.h"
#include "eid/verify.h"

#include "common.h"
#include "raw.h"

/*
 * A key holding only the public half, decoded from SPKI DER as a verifier
 * would hold it: verifying with the private key object could take another
 * code path than the library's public key does.
 */
static EVP_PKEY *
raw_pubkey(EVP_PKEY *priv, const char *path)
{
	unsigned char		*der = NULL;
	const unsigned char	*p;
	EVP_PKEY		*pub;
	int			 n;

	if ((n = i2d_PUBKEY(priv, &der)) <= 0)
		common_fatal("%s: cannot encode the public key", path);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	if (pub == NULL)
		common_fatal("%s: cannot decode the public key", path);
	return pub;
}

/* R || S, as JOSE carries it, to the DER ECDSA-Sig-Value OpenSSL takes. */
static void
raw_sig_to_der(struct raw *r, const unsigned char *rs, size_t len)
{
	ECDSA_SIG	*es;
	BIGNUM		*br, *bs;
	unsigned char	*p = r->sig;
	int		 n;

	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rs, (int)(len / 2), NULL)) == NULL ||
	    (bs = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL)) == NULL ||
	    ECDSA_SIG_set0(es, br, bs) != 1)
		common_fatal("%s: ECDSA signature", eid_alg_name(r->alg));
	if ((n = i2d_ECDSA_SIG(es, NULL)) <= 0 || n > RAW_SIG_MAX ||
	    i2d_ECDSA_SIG(es, &p) != n)
		common_fatal("%s: ECDSA signature DER", eid_alg_name(r->alg));
	r->sig_len = (size_t)n;
	ECDSA_SIG_free(es);
}

/* The RSA padding of the algorithm: 0 on success. */
static int
raw_padding(const struct raw *r, EVP_PKEY_CTX *pctx)
{
	if (r->alg == EID_ALG_RS256) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
			return -1;
	} else if (r->alg == EID_ALG_PS256) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PSS_PADDING) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
		    RSA_PSS_SALTLEN_DIGEST) <= 0 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, r->md) <= 0)
			return -1;
	}
	return 0;
}

/*
 * Set up a verify context the way a typical application does, and
 * crypto/sig.c does for EdDSA: digest, and the RSA padding of the
 * algorithm (PSS: salt = digest length, MGF1 with the same digest).
 * Returns 0 on success.
 */
static int
raw_ctx_init(const struct raw *r, EVP_MD_CTX *mctx)
{
	EVP_PKEY_CTX	*pctx = NULL;

	if (EVP_DigestVerifyInit(mctx, &pctx, r->md, NULL, r->pub) != 1)
		return -1;
	return raw_padding(r, pctx);
}

/*
 * The context crypto/sig.c prepares for the algorithms that hash first:
 * EVP_PKEY_verify() of a digest of r->md, with the RSA padding.
 */
static EVP_PKEY_CTX *
raw_pctx_new(const struct raw *r)
{
	EVP_PKEY_CTX	*pctx;

	if ((pctx = EVP_PKEY_CTX_new_from_pkey(NULL, r->pub, NULL)) == NULL)
		return NULL;
	if (EVP_PKEY_verify_init(pctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(pctx, r->md) <= 0 ||
	    raw_padding(r, pctx) != 0) {
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	return pctx;
}

void
raw_init(struct raw *r, enum eid_alg alg, EVP_PKEY *priv, const char *path,
    int64_t now)
{
	char		 kid[EID_THUMBPRINT_LEN + 1];
	char		 header[256], payload[512];
	unsigned char	 sig[RAW_SIG_MAX];
	const char	*dot;
	size_t		 n;
	enum eid_err	 rc;
	int		 hlen, plen;

	memset(r, 0, sizeof(*r));
	r->alg = alg;
	common_key_kid(priv, path, kid, sizeof(kid));
	hlen = snprintf(header, sizeof(header),
	    "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
	    eid_alg_name(alg), kid);
	plen = snprintf(payload, sizeof(payload),
	    "{\"iss\":\"%s\",\"sub\":\"001090012345\",\"aud\":\"%s\","
	    "\"iat\":%lld,\"exp\":%lld,\"jti\":\"bench-1\","
	    "\"name\":\"Nguyễn Văn An\",\"birthdate\":\"1990-05-17\","
	    "\"gender\":\"male\",\"eid_level\":2}",
	    RAW_ISS, RAW_AUD, (long long)(now - 60), (long long)(now + 600));
	if (hlen < 0 || (size_t)hlen >= sizeof(header) || plen < 0 ||
	    (size_t)plen >= sizeof(payload))
		common_fatal("%s: cannot format the token", path);
	if ((rc = eid_jws_sign(priv, alg, header, (size_t)hlen, payload,
	    (size_t)plen, &r->token)) != EID_OK)
		common_fatal("%s: sign %s: %s", path, eid_alg_name(alg),
		    eid_strerror(rc));
	r->token_len = strlen(r->token);
	r->pub = raw_pubkey(priv, path);

	/* The raw side verifies the very bytes the library verifies. */
	if ((dot = strrchr(r->token, '.')) == NULL)
		common_fatal("%s: signed token has no signature", path);
	r->signed_len = (size_t)(dot - r->token);
	n = eid_b64url_decode(dot + 1, strlen(dot + 1), sig, sizeof(sig));
	if (n == (size_t)-1)
		common_fatal("%s: cannot decode the signature", path);
	switch (alg) {
	case EID_ALG_ES256:
	case EID_ALG_ES384:
		raw_sig_to_der(r, sig, n);
		break;
	case EID_ALG_RS256:
	case EID_ALG_PS256:
	case EID_ALG_EDDSA:
		memcpy(r->sig, sig, n);
		r->sig_len = n;
		break;
	case EID_ALG_NONE:
		common_fatal("no algorithm");
	}
	/* Ed25519 hashes internally and takes no digest. */
	if (alg != EID_ALG_EDDSA && (r->md = EVP_MD_fetch(NULL,
	    alg == EID_ALG_ES384 ? "SHA384" : "SHA256", NULL)) == NULL)
		common_fatal("%s: cannot fetch the digest", eid_alg_name(alg));
	if (alg == EID_ALG_EDDSA ? (r->tmpl = EVP_MD_CTX_new()) == NULL ||
	    raw_ctx_init(r, r->tmpl) != 0 : (r->ptmpl = raw_pctx_new(r)) == NULL)
		common_fatal("%s: cannot prepare a verify context",
		    eid_alg_name(alg));
}

void
raw_free(struct raw *r)
{
	free(r->token);
	EVP_MD_CTX_free(r->tmpl);
	EVP_PKEY_CTX_free(r->ptmpl);
	EVP_MD_free(r->md);
	EVP_PKEY_free(r->pub);
	memset(r, 0, sizeof(*r));
}

/*
 * The least an application calling OpenSSL directly does per token, with
 * the key parsed, the digest fetched and the verify context initialised
 * once: hash, duplicate the prepared context, verify the digest (EdDSA:
 * copy the prepared context, verify).  These are the calls crypto/sig.c
 * makes, and nothing else, so a ratio against it is the library's (or the
 * daemon's) own overhead and not a trick one side knows and the other
 * does not.  The daemon hashes the signing input once for its cache key
 * and the signature (eid_token_hash); this side hashes it here, as an
 * application verifying a token must.
 */
int
raw_verify(const struct raw *r)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	EVP_PKEY_CTX	*pctx;
	EVP_MD_CTX	*mctx;
	int		 rc = -1;

	if (r->ptmpl != NULL) {
		if (EVP_Digest(r->token, r->signed_len, md, &mdlen, r->md,
		    NULL) != 1 || (pctx = EVP_PKEY_CTX_dup(r->ptmpl)) == NULL)
			return -1;
		if (EVP_PKEY_verify(pctx, r->sig, r->sig_len, md, mdlen) == 1)
			rc = 0;
		EVP_PKEY_CTX_free(pctx);
		return rc;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_MD_CTX_copy_ex(mctx, r->tmpl) != 1)
		goto out;
	if (EVP_DigestVerify(mctx, r->sig, r->sig_len,
	    (const unsigned char *)r->token, r->signed_len) == 1)
		rc = 0;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

int
raw_verify_init(const struct raw *r)
{
	EVP_MD_CTX	*mctx;
	int		 rc = -1;

	if ((mctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (raw_ctx_init(r, mctx) == 0 && EVP_DigestVerify(mctx, r->sig,
	    r->sig_len, (const unsigned char *)r->token, r->signed_len) == 1)
		rc = 0;
	EVP_MD_CTX_free(mctx);
	return rc;
}
