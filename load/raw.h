/*
 * load/raw.h -- OpenSSL's bare verify of one token, the yardstick of the
 * benchmarks: eid-bench-verify compares the library with it, eid-load
 * (--raw-cpu) the daemon.  One token of an algorithm is signed with its
 * development key, and the verify context is prepared once, as
 * crypto/sig.c prepares it; raw_verify() then costs what an application
 * calling OpenSSL directly pays per token at the least.
 */
#ifndef EID_LOAD_RAW_H
#define EID_LOAD_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "eid/verify.h"

/* Largest raw signature handed to OpenSSL: RSA-4096, or DER P-384. */
#define RAW_SIG_MAX		512

/* The issuer and audience of the token raw_init() signs. */
#define RAW_ISS			"https://vneid.example"
#define RAW_AUD			"dichvucong"

struct evp_pkey_st;
struct evp_pkey_ctx_st;
struct evp_md_ctx_st;
struct evp_md_st;

struct raw {
	enum eid_alg	 alg;
	char		*token;		/* malloc'd by eid_jws_sign */
	size_t		 token_len;
	size_t		 signed_len;	/* bytes of "header.payload" */
	struct evp_pkey_st *pub;	/* the public half only */
	struct evp_md_st *md;		/* fetched; NULL for EdDSA */
	struct evp_md_ctx_st *tmpl;	/* EdDSA: context prepared once */
	struct evp_pkey_ctx_st *ptmpl;	/* the others: prepared once */
	unsigned char	 sig[RAW_SIG_MAX]; /* as OpenSSL wants it */
	size_t		 sig_len;
};

/*
 * Sign a token of alg with priv (read from path, which names it in
 * messages), valid from now - 60 to now + 600, and prepare its verify.
 * Dies through common_fatal() on any failure.
 */
void	 raw_init(struct raw *r, enum eid_alg alg, struct evp_pkey_st *priv,
	    const char *path, int64_t now);
void	 raw_free(struct raw *r);

/*
 * Verify as crypto/sig.c does, from contexts prepared once: for EdDSA
 * copy the context and EVP_DigestVerify(); for the others hash the
 * signing input (EVP_Digest), duplicate the context and EVP_PKEY_verify()
 * the digest.  0 if the signature verifies.
 */
int	 raw_verify(const struct raw *r);

/* EVP_DigestVerifyInit per token instead, as a typical application does. */
int	 raw_verify_init(const struct raw *r);

#endif /* EID_LOAD_RAW_H */
