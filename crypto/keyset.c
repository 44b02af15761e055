/*
 * crypto/keyset.c -- the trust store: issuers, their anchors and their
 * signing keys, built once and frozen into an immutable, reference-counted
 * key set (DESIGN.md section 5).
 *
 * All parsing and all certificate validation happen here, at load time;
 * verification only looks a kid up in a sorted array.  A key belongs to
 * exactly one issuer and is pinned to exactly one algorithm.  Chaining to
 * an anchor is necessary but not sufficient: a key is trusted because the
 * operator configured it for that issuer, and the chain check proves the
 * configured certificate is the one the national PKI issued.
 *
 * This file reads files (configuration time only) and never logs.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "eid/jose.h"
#include "crypto.h"

struct issuer {
	char		*iss;
	X509_STORE	*anchors;
	size_t		 nanchors;
};

struct eid_keyset_builder {
	int64_t		 now;
	struct issuer	*issuers;
	size_t		 nissuers;
	struct key	*keys;
	size_t		 nkeys;
	size_t		 capkeys;
	bool		 built;
};

static void
keyset_key_clear(struct key *k)
{
	EVP_MD_CTX_free(k->vctx);
	EVP_PKEY_CTX_free(k->pctx);
	EVP_PKEY_free(k->pkey);
	free(k->iss);
	free(k->cert_der);
	memset(k, 0, sizeof(*k));
}

struct eid_keyset_builder *
eid_keyset_builder_new(int64_t now)
{
	struct eid_keyset_builder	*b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->now = now;
	return b;
}

void
eid_keyset_builder_free(struct eid_keyset_builder *b)
{
	size_t	 i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nissuers; i++) {
		free(b->issuers[i].iss);
		X509_STORE_free(b->issuers[i].anchors);
	}
	for (i = 0; i < b->nkeys; i++)
		keyset_key_clear(&b->keys[i]);
	free(b->issuers);
	free(b->keys);
	free(b);
}

static bool
keyset_iss_is_valid(const char *iss)
{
	size_t	 n;

	return iss != NULL && (n = strlen(iss)) > 0 && n <= EID_ISS_MAX;
}

static struct issuer *
keyset_issuer(struct eid_keyset_builder *b, const char *iss, bool create)
{
	struct issuer	*is;
	size_t		 i;

	for (i = 0; i < b->nissuers; i++)
		if (strcmp(b->issuers[i].iss, iss) == 0)
			return &b->issuers[i];
	if (!create)
		return NULL;
	is = realloc(b->issuers, (b->nissuers + 1) * sizeof(*is));
	if (is == NULL)
		return NULL;
	b->issuers = is;
	is = &b->issuers[b->nissuers];
	memset(is, 0, sizeof(*is));
	if ((is->iss = strdup(iss)) == NULL ||
	    (is->anchors = X509_STORE_new()) == NULL) {
		free(is->iss);
		return NULL;
	}
	b->nissuers++;
	return is;
}

/* Read a whole configuration file of at most KEYFILE_MAX_BYTES. */
static char *
keyset_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;
	int	 saved;

	if ((fp = fopen(path, "rb")) == NULL) {
		saved = errno;
		verify_seterr(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return NULL;
	}
	if ((buf = malloc(KEYFILE_MAX_BYTES + 1)) == NULL) {
		fclose(fp);
		verify_seterr(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	n = fread(buf, 1, KEYFILE_MAX_BYTES + 1, fp);
	if (ferror(fp) || n > KEYFILE_MAX_BYTES) {
		verify_seterr(err, errlen, "%s: %s", path, ferror(fp) ?
		    "read error" : "larger than 1 MiB");
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Parse every certificate of a PEM buffer; at least one. */
static STACK_OF(X509) *
keyset_pem_certs(const char *pem, size_t len, char *err, size_t errlen)
{
	STACK_OF(X509)	*sk;
	BIO		*bio;
	X509		*x;

	if (len > KEYFILE_MAX_BYTES || len > INT_MAX) {
		verify_seterr(err, errlen, "PEM larger than 1 MiB");
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL)
		return NULL;
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		sk_X509_free(sk);
		return NULL;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= CERT_CHAIN_MAX ||
		    sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			BIO_free(bio);
			verify_seterr(err, errlen, "more than %d certificates",
			    CERT_CHAIN_MAX);
			return NULL;
		}
	}
	BIO_free(bio);
	ERR_clear_error();
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		verify_seterr(err, errlen, "no PEM certificate found");
		return NULL;
	}
	return sk;
}

enum eid_err
eid_keyset_add_anchors_pem(struct eid_keyset_builder *b, const char *iss,
    const char *pem, size_t len, char *err, size_t errlen)
{
	STACK_OF(X509)	*sk;
	struct issuer	*is;
	X509		*x;
	int		 i;

	if (b == NULL || b->built || !keyset_iss_is_valid(iss) || pem == NULL) {
		verify_seterr(err, errlen, "invalid argument");
		return EID_ERR_INVAL;
	}
	if ((sk = keyset_pem_certs(pem, len, err, errlen)) == NULL)
		return EID_ERR_PARSE;
	for (i = 0; i < sk_X509_num(sk); i++) {
		x = sk_X509_value(sk, i);
		if (X509_check_ca(x) == 0) {
			verify_seterr(err, errlen, "trust anchor %d is not a "
			    "CA certificate", i + 1);
			sk_X509_pop_free(sk, X509_free);
			return EID_ERR_TRUST;
		}
	}
	if ((is = keyset_issuer(b, iss, true)) == NULL) {
		sk_X509_pop_free(sk, X509_free);
		verify_seterr(err, errlen, "out of memory");
		return EID_ERR_NOMEM;
	}
	for (i = 0; i < sk_X509_num(sk); i++) {
		/* X509_STORE_add_cert takes its own reference. */
		if (X509_STORE_add_cert(is->anchors, sk_X509_value(sk, i)) != 1)
			ERR_clear_error();	/* a duplicate anchor is fine */
		else
			is->nanchors++;
	}
	sk_X509_pop_free(sk, X509_free);
	return EID_OK;
}

enum eid_err
eid_keyset_add_anchors_file(struct eid_keyset_builder *b, const char *iss,
    const char *path, char *err, size_t errlen)
{
	char		*buf, sub[256];
	size_t		 len;
	enum eid_err	 rc;

	if ((buf = keyset_read_file(path, &len, err, errlen)) == NULL)
		return EID_ERR_IO;
	rc = eid_keyset_add_anchors_pem(b, iss, buf, len, sub, sizeof(sub));
	if (rc != EID_OK)
		verify_seterr(err, errlen, "%s: %s", path, sub);
	free(buf);
	return rc;
}

/* ASN1_TIME to Unix seconds. */
static bool
keyset_asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return false;
	*out = claims_days_from_civil((int64_t)tm.tm_year + 1900,
	    (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) * 86400 +
	    tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	return true;
}

/*
 * Validate a signing certificate: chain to the issuer's anchors at "now"
 * with strict X.509 checks (unknown critical extensions, explicit curve
 * parameters and malformed encodings all fail), no CA, digitalSignature
 * allowed.
 */
static enum eid_err
keyset_check_cert(struct eid_keyset_builder *b, struct issuer *is, X509 *leaf,
    STACK_OF(X509) *untrusted, char *err, size_t errlen)
{
	X509_STORE_CTX		*ctx = NULL;
	X509_VERIFY_PARAM	*param;
	enum eid_err		 rc = EID_ERR_TRUST;
	int			 verr;
	uint32_t		 ku;

	if (is == NULL || is->nanchors == 0) {
		verify_seterr(err, errlen, "issuer has no trust anchor "
		    "(configure anchors before certificates)");
		return EID_ERR_TRUST;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, is->anchors, leaf, untrusted) != 1) {
		verify_seterr(err, errlen, "out of memory");
		rc = EID_ERR_NOMEM;
		goto out;
	}
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, (time_t)b->now);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
	X509_VERIFY_PARAM_set_depth(param, CERT_CHAIN_MAX);
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		verify_seterr(err, errlen, "certificate does not validate: %s",
		    X509_verify_cert_error_string(verr));
		goto out;
	}
	if (X509_check_ca(leaf) != 0) {
		verify_seterr(err, errlen, "signing certificate is a CA");
		goto out;
	}
	ku = X509_get_key_usage(leaf);
	if ((X509_get_extension_flags(leaf) & EXFLAG_KUSAGE) &&
	    !(ku & KU_DIGITAL_SIGNATURE)) {
		verify_seterr(err, errlen, "signing certificate keyUsage "
		    "lacks digitalSignature");
		goto out;
	}
	rc = EID_OK;
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* Append a key; takes ownership of everything in *k on success. */
static enum eid_err
keyset_push(struct eid_keyset_builder *b, struct key *k, char *err,
    size_t errlen)
{
	struct key	*nk;
	size_t		 i, cap;

	for (i = 0; i < b->nkeys; i++)
		if (strcmp(b->keys[i].kid, k->kid) == 0) {
			verify_seterr(err, errlen, "kid \"%s\" configured twice",
			    k->kid);
			return EID_ERR_DUPLICATE;
		}
	if (b->nkeys == b->capkeys) {
		cap = b->capkeys ? b->capkeys * 2 : 8;
		if ((nk = realloc(b->keys, cap * sizeof(*nk))) == NULL) {
			verify_seterr(err, errlen, "out of memory");
			return EID_ERR_NOMEM;
		}
		b->keys = nk;
		b->capkeys = cap;
	}
	b->keys[b->nkeys++] = *k;
	return EID_OK;
}

/* SHA-256 of the DER SubjectPublicKeyInfo. */
static int
keyset_spki_hash(EVP_PKEY *pkey, unsigned char out[32])
{
	unsigned char	*der = NULL;
	int		 n;

	if ((n = i2d_PUBKEY(pkey, &der)) <= 0)
		return -1;
	SHA256(der, (size_t)n, out);
	OPENSSL_free(der);
	return 0;
}

/*
 * Make a key from a validated or bare public key.  leaf may be NULL.  The
 * key reference is taken (up-ref'd) only on success.
 */
static enum eid_err
keyset_add_key(struct eid_keyset_builder *b, const char *iss,
    const char *kid, enum eid_alg alg, EVP_PKEY *pkey, X509 *leaf, char *err,
    size_t errlen)
{
	struct key	 k;
	unsigned char	*p;
	enum eid_err	 rc;
	int		 n;

	memset(&k, 0, sizeof(k));
	k.not_before = INT64_MIN;
	k.not_after = INT64_MAX;
	if ((rc = jwk_key_policy(pkey, &alg, err, errlen)) != EID_OK)
		return rc;
	k.alg = alg;
	if (keyset_spki_hash(pkey, k.spki_sha256) != 0) {
		verify_seterr(err, errlen, "cannot encode the public key");
		return EID_ERR_CRYPTO;
	}
	if ((k.sig_len = sig_length(pkey, alg)) == 0) {
		verify_seterr(err, errlen, "key size not supported");
		return EID_ERR_KEY;
	}
	if (kid != NULL && kid[0] != '\0') {
		if (strlen(kid) > EID_KID_MAX) {
			verify_seterr(err, errlen, "kid longer than %d bytes",
			    EID_KID_MAX);
			return EID_ERR_INVAL;
		}
		memcpy(k.kid, kid, strlen(kid) + 1);
	} else if ((rc = eid_jwk_thumbprint(pkey, k.kid, sizeof(k.kid))) !=
	    EID_OK) {
		verify_seterr(err, errlen, "cannot compute key thumbprint");
		return rc;
	}
	if (leaf != NULL) {
		if (!keyset_asn1_time(X509_get0_notBefore(leaf),
		    &k.not_before) ||
		    !keyset_asn1_time(X509_get0_notAfter(leaf), &k.not_after)) {
			verify_seterr(err, errlen, "unreadable validity dates");
			return EID_ERR_PARSE;
		}
		if ((n = i2d_X509(leaf, NULL)) <= 0 || n > CERT_DER_MAX) {
			verify_seterr(err, errlen, "certificate larger than %d "
			    "bytes", CERT_DER_MAX);
			return EID_ERR_PARSE;
		}
		if ((k.cert_der = malloc((size_t)n)) == NULL) {
			verify_seterr(err, errlen, "out of memory");
			return EID_ERR_NOMEM;
		}
		p = k.cert_der;
		if (i2d_X509(leaf, &p) != n) {
			free(k.cert_der);
			verify_seterr(err, errlen, "cannot encode certificate");
			return EID_ERR_CRYPTO;
		}
		k.cert_der_len = (size_t)n;
	}
	if ((k.iss = strdup(iss)) == NULL) {
		free(k.cert_der);
		verify_seterr(err, errlen, "out of memory");
		return EID_ERR_NOMEM;
	}
	k.pkey = pkey;
	if ((rc = keyset_push(b, &k, err, errlen)) != EID_OK) {
		k.pkey = NULL;
		keyset_key_clear(&k);
		return rc;
	}
	EVP_PKEY_up_ref(pkey);
	return EID_OK;
}

enum eid_err
eid_keyset_add_cert_pem(struct eid_keyset_builder *b, const char *iss,
    const char *pem, size_t len, enum eid_alg alg, char *err, size_t errlen)
{
	STACK_OF(X509)	*sk;
	X509		*leaf;
	EVP_PKEY	*pkey;
	enum eid_err	 rc;

	if (b == NULL || b->built || !keyset_iss_is_valid(iss) || pem == NULL) {
		verify_seterr(err, errlen, "invalid argument");
		return EID_ERR_INVAL;
	}
	if ((sk = keyset_pem_certs(pem, len, err, errlen)) == NULL)
		return EID_ERR_PARSE;
	/* The leaf comes first; the rest are untrusted intermediates. */
	leaf = sk_X509_shift(sk);
	rc = keyset_check_cert(b, keyset_issuer(b, iss, false), leaf, sk, err,
	    errlen);
	if (rc == EID_OK) {
		if ((pkey = X509_get0_pubkey(leaf)) == NULL) {
			verify_seterr(err, errlen, "unreadable public key");
			rc = EID_ERR_KEY;
		} else
			rc = keyset_add_key(b, iss, NULL, alg, pkey, leaf, err,
			    errlen);
	}
	X509_free(leaf);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return rc;
}

enum eid_err
eid_keyset_add_cert_file(struct eid_keyset_builder *b, const char *iss,
    const char *path, enum eid_alg alg, char *err, size_t errlen)
{
	char		*buf, sub[256];
	size_t		 len;
	enum eid_err	 rc;

	if ((buf = keyset_read_file(path, &len, err, errlen)) == NULL)
		return EID_ERR_IO;
	rc = eid_keyset_add_cert_pem(b, iss, buf, len, alg, sub, sizeof(sub));
	if (rc != EID_OK)
		verify_seterr(err, errlen, "%s: %s", path, sub);
	free(buf);
	return rc;
}

/*
 * A JWK's x5c: standard base64 DER certificates, leaf first.  The leaf
 * must validate like a configured certificate and hold the JWK's key.
 */
static enum eid_err
keyset_jwk_x5c(struct eid_keyset_builder *b, const char *iss, json_t *x5c,
    EVP_PKEY *pkey, X509 **leafp, char *err, size_t errlen)
{
	STACK_OF(X509)		*sk = NULL;
	X509			*x = NULL, *leaf = NULL;
	unsigned char		*der = NULL;
	const unsigned char	*p;
	json_t			*e;
	size_t			 i, n;
	enum eid_err		 rc = EID_ERR_PARSE;

	*leafp = NULL;
	if ((sk = sk_X509_new_null()) == NULL ||
	    (der = malloc(CERT_DER_MAX)) == NULL) {
		rc = EID_ERR_NOMEM;
		goto out;
	}
	json_array_foreach(x5c, i, e) {
		if (!json_is_string(e) || (n = eid_b64_decode(
		    json_string_value(e), json_string_length(e), der,
		    CERT_DER_MAX)) == (size_t)-1) {
			verify_seterr(err, errlen, "x5c[%zu] is not base64 DER "
			    "of at most %d bytes", i, CERT_DER_MAX);
			goto out;
		}
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)n)) == NULL ||
		    p != der + n) {
			verify_seterr(err, errlen, "x5c[%zu] is not a "
			    "certificate", i);
			X509_free(x);
			goto out;
		}
		if (i == 0)
			leaf = x;
		else if (sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			rc = EID_ERR_NOMEM;
			goto out;
		}
	}
	if (leaf == NULL)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(leaf), pkey) != 1) {
		verify_seterr(err, errlen, "x5c leaf does not hold the JWK key");
		rc = EID_ERR_KEY;
		goto out;
	}
	if ((rc = keyset_check_cert(b, keyset_issuer(b, iss, false), leaf, sk,
	    err, errlen)) != EID_OK)
		goto out;
	*leafp = leaf;
	leaf = NULL;
out:
	X509_free(leaf);
	sk_X509_pop_free(sk, X509_free);
	free(der);
	ERR_clear_error();
	return rc;
}

enum eid_err
eid_keyset_add_jwks(struct eid_keyset_builder *b, const char *iss,
    const char *json, size_t len, char *err, size_t errlen)
{
	json_error_t		 jerr;
	json_t			*root, *keys, *jwk, *x5c;
	EVP_PKEY		*pkey;
	X509			*leaf;
	enum eid_alg		 alg;
	char			 kid[EID_KID_MAX + 1], sub[256];
	size_t			 i, first;
	enum eid_err		 rc = EID_OK;

	if (b == NULL || b->built || !keyset_iss_is_valid(iss) ||
	    json == NULL || len > KEYFILE_MAX_BYTES) {
		verify_seterr(err, errlen, "invalid argument");
		return EID_ERR_INVAL;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		verify_seterr(err, errlen, "JWKS line %d: %s", jerr.line,
		    jerr.text);
		return EID_ERR_PARSE;
	}
	if ((keys = json_object_get(root, "keys")) == NULL ||
	    !json_is_array(keys) || json_array_size(keys) == 0) {
		verify_seterr(err, errlen, "JWKS has no \"keys\" array");
		json_decref(root);
		return EID_ERR_PARSE;
	}
	/* All or nothing: on failure, drop the keys this call added. */
	first = b->nkeys;
	json_array_foreach(keys, i, jwk) {
		rc = jwk_import(jwk, &pkey, &alg, kid, &x5c, sub, sizeof(sub));
		if (rc != EID_OK)
			break;
		leaf = NULL;
		if (x5c != NULL)
			rc = keyset_jwk_x5c(b, iss, x5c, pkey, &leaf, sub,
			    sizeof(sub));
		if (rc == EID_OK)
			rc = keyset_add_key(b, iss, kid, alg, pkey, leaf, sub,
			    sizeof(sub));
		X509_free(leaf);
		EVP_PKEY_free(pkey);
		if (rc != EID_OK)
			break;
	}
	if (rc != EID_OK) {
		verify_seterr(err, errlen, "JWKS key %zu: %s", i, sub);
		while (b->nkeys > first)
			keyset_key_clear(&b->keys[--b->nkeys]);
	}
	json_decref(root);
	return rc;
}

enum eid_err
eid_keyset_add_jwks_file(struct eid_keyset_builder *b, const char *iss,
    const char *path, char *err, size_t errlen)
{
	char		*buf, sub[256];
	size_t		 len;
	enum eid_err	 rc;

	if ((buf = keyset_read_file(path, &len, err, errlen)) == NULL)
		return EID_ERR_IO;
	rc = eid_keyset_add_jwks(b, iss, buf, len, sub, sizeof(sub));
	if (rc != EID_OK)
		verify_seterr(err, errlen, "%s: %s", path, sub);
	free(buf);
	return rc;
}

enum eid_err
eid_keyset_add_pkey(struct eid_keyset_builder *b, const char *iss,
    const char *kid, enum eid_alg alg, struct evp_pkey_st *pkey, char *err,
    size_t errlen)
{
	if (b == NULL || b->built || !keyset_iss_is_valid(iss) ||
	    pkey == NULL) {
		verify_seterr(err, errlen, "invalid argument");
		return EID_ERR_INVAL;
	}
	return keyset_add_key(b, iss, kid, alg, pkey, NULL, err, errlen);
}

static int
keyset_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->kid,
	    ((const struct key *)b)->kid);
}

enum eid_err
eid_keyset_build(struct eid_keyset_builder *b, struct eid_keyset **out,
    char *err, size_t errlen)
{
	struct eid_keyset	*ks;
	size_t			 i;

	if (b == NULL || out == NULL || b->built) {
		verify_seterr(err, errlen, "invalid argument");
		return EID_ERR_INVAL;
	}
	*out = NULL;
	if (b->nkeys == 0) {
		verify_seterr(err, errlen, "no signing key configured");
		return EID_ERR_INVAL;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		verify_seterr(err, errlen, "out of memory");
		return EID_ERR_NOMEM;
	}
	/*
	 * Fetch the digests once: an implicit fetch per verification costs a
	 * provider lookup and lock in OpenSSL 3.
	 */
	ks->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	ks->sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
	if (ks->sha256 == NULL || ks->sha384 == NULL) {
		EVP_MD_free(ks->sha256);
		EVP_MD_free(ks->sha384);
		free(ks);
		verify_seterr(err, errlen, "SHA-256/384 not available");
		return EID_ERR_CRYPTO;
	}
	ks->keys = b->keys;
	ks->nkeys = b->nkeys;
	b->keys = NULL;
	b->nkeys = b->capkeys = 0;
	b->built = true;
	for (i = 0; i < ks->nkeys; i++) {
		ks->keys[i].md = ks->keys[i].alg == EID_ALG_ES384 ?
		    ks->sha384 : ks->sha256;
		ks->keys[i].md_is_sha256 = ks->keys[i].md == ks->sha256;
		/* Without a template, verification initialises per call. */
		(void)sig_prepare(&ks->keys[i]);
	}
	qsort(ks->keys, ks->nkeys, sizeof(*ks->keys), keyset_cmp);
	atomic_init(&ks->refs, 1);
	*out = ks;
	return EID_OK;
}

struct eid_keyset *
eid_keyset_ref(struct eid_keyset *ks)
{
	if (ks != NULL)
		atomic_fetch_add_explicit(&ks->refs, 1, memory_order_relaxed);
	return ks;
}

void
eid_keyset_unref(struct eid_keyset *ks)
{
	size_t	 i;

	if (ks == NULL)
		return;
	if (atomic_fetch_sub_explicit(&ks->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < ks->nkeys; i++)
		keyset_key_clear(&ks->keys[i]);
	free(ks->keys);
	EVP_MD_free(ks->sha256);
	EVP_MD_free(ks->sha384);
	free(ks);
}

bool
eid_keyset_has_key(const struct eid_keyset *ks,
    const struct eid_assertion *a)
{
	const struct key	*k;

	if (ks == NULL || a == NULL || (k = keyset_find(ks, a->kid,
	    strnlen(a->kid, sizeof(a->kid)))) == NULL)
		return false;
	return k->alg == a->alg && strcmp(k->iss, a->iss) == 0 &&
	    memcmp(k->spki_sha256, a->key_sha256, sizeof(a->key_sha256)) == 0;
}

const struct key *
keyset_find(const struct eid_keyset *ks, const char *kid, size_t kidlen)
{
	size_t	 lo = 0, hi = ks->nkeys, mid;
	int	 c;

	if (kidlen == 0 || kidlen > EID_KID_MAX)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strncmp(kid, ks->keys[mid].kid, kidlen);
		if (c == 0 && ks->keys[mid].kid[kidlen] != '\0')
			c = -1;
		if (c == 0)
			return &ks->keys[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t
eid_keyset_count(const struct eid_keyset *ks)
{
	return ks == NULL ? 0 : ks->nkeys;
}

bool
eid_keyset_key_info(const struct eid_keyset *ks, size_t i,
    struct eid_key_info *info)
{
	const struct key	*k;

	if (ks == NULL || info == NULL || i >= ks->nkeys)
		return false;
	k = &ks->keys[i];
	info->kid = k->kid;
	info->iss = k->iss;
	info->alg = k->alg;
	info->not_before = k->not_before;
	info->not_after = k->not_after;
	info->from_certificate = k->cert_der != NULL;
	return true;
}
