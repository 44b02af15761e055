/*
 * tests/helpers.c -- see helpers.h.  Test-only code: it may stop the test
 * on setup errors, which production code never does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "helpers.h"

const struct eid_policy th_policy = {
	EID_POLICY_LEEWAY_DEFAULT, EID_POLICY_LIFETIME_DEFAULT
};

int64_t
th_now(void)
{
	static int64_t	 now;

	if (now == 0)
		now = (int64_t)time(NULL);
	return now;
}

const char *
th_certs_dir(void)
{
	const char	*d = getenv("EID_CERTS");

	return d != NULL && *d != '\0' ? d : "certs/dev";
}

const char *
th_vectors_dir(void)
{
	const char	*d = getenv("EID_VECTORS");

	return d != NULL && *d != '\0' ? d : "tests/vectors";
}

const char *
th_path(const char *dir, const char *name)
{
	static char	 buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

char *
th_read_file(const char *path, size_t *len)
{
	FILE	*fp;
	char	*buf = NULL;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			if (len != NULL)
				*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
}

json_t *
th_load_json(const char *path)
{
	json_error_t	 err;
	json_t		*j;

	j = json_load_file(path, 0, &err);
	if (j == NULL)
		fail_msg("%s: %s", path, err.text);
	return j;
}

unsigned char *
th_hex(const char *hex, size_t *len)
{
	size_t		 n = strlen(hex), i;
	unsigned char	*out;
	unsigned int	 b;

	assert_true(n % 2 == 0);
	out = malloc(n / 2 + 1);
	assert_non_null(out);
	for (i = 0; i < n / 2; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = (unsigned char)b;
	}
	*len = n / 2;
	return out;
}

EVP_PKEY *
th_load_key(const char *path)
{
	FILE		*fp;
	EVP_PKEY	*k;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	if (k == NULL) {
		rewind(fp);
		k = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	}
	fclose(fp);
	return k;
}

static const char *
th_alg_file(enum eid_alg alg)
{
	switch (alg) {
	case EID_ALG_ES256:
		return "idp-es256";
	case EID_ALG_ES384:
		return "idp-es384";
	case EID_ALG_RS256:
		return "idp-rs256";
	case EID_ALG_PS256:
		return "idp-ps256";
	case EID_ALG_EDDSA:
		return "idp-eddsa";
	case EID_ALG_NONE:
		break;
	}
	return NULL;
}

struct eid_keyset *
th_dev_keyset(int64_t now)
{
	static const enum eid_alg algs[] = {
		EID_ALG_ES256, EID_ALG_ES384, EID_ALG_RS256, EID_ALG_PS256,
		EID_ALG_EDDSA
	};
	struct eid_keyset_builder	*b;
	struct eid_keyset		*ks = NULL;
	char				 err[512], name[64];
	enum eid_alg			 pin;
	size_t				 i;

	b = eid_keyset_builder_new(now);
	assert_non_null(b);
	if (eid_keyset_add_anchors_file(b, TH_ISS,
	    th_path(th_certs_dir(), "root-ca.crt"), err, sizeof(err)) != EID_OK)
		fail_msg("anchors: %s", err);
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		snprintf(name, sizeof(name), "%s.chain.pem",
		    th_alg_file(algs[i]));
		pin = algs[i] == EID_ALG_RS256 || algs[i] == EID_ALG_PS256 ?
		    algs[i] : EID_ALG_NONE;
		if (eid_keyset_add_cert_file(b, TH_ISS,
		    th_path(th_certs_dir(), name), pin, err,
		    sizeof(err)) != EID_OK)
			fail_msg("cert %s: %s", name, err);
	}
	if (eid_keyset_build(b, &ks, err, sizeof(err)) != EID_OK)
		fail_msg("build: %s", err);
	eid_keyset_builder_free(b);
	return ks;
}

EVP_PKEY *
th_dev_key(enum eid_alg alg)
{
	char		 name[64];
	EVP_PKEY	*k;

	snprintf(name, sizeof(name), "%s.key", th_alg_file(alg));
	k = th_load_key(th_path(th_certs_dir(), name));
	if (k == NULL)
		fail_msg("cannot load %s", name);
	return k;
}

const char *
th_dev_kid(enum eid_alg alg)
{
	static char	 kids[6][EID_THUMBPRINT_LEN + 1];
	EVP_PKEY	*k;

	if (kids[alg][0] == '\0') {
		k = th_dev_key(alg);
		assert_int_equal(eid_jwk_thumbprint(k, kids[alg],
		    sizeof(kids[alg])), EID_OK);
		EVP_PKEY_free(k);
	}
	return kids[alg];
}

char *
th_sign(EVP_PKEY *k, enum eid_alg alg, const char *header,
    const char *payload)
{
	char	*t = NULL;

	assert_int_equal(eid_jws_sign(k, alg, header, strlen(header), payload,
	    strlen(payload), &t), EID_OK);
	return t;
}

json_t *
th_claims(void)
{
	json_t	*c;

	c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:i}",
	    "iss", TH_ISS, "sub", "001090012345", "aud", "dichvucong",
	    "iat", (json_int_t)(TH_NOW - 60), "exp", (json_int_t)(TH_NOW + 600),
	    "jti", "test-jti-0001", "name", "Nguy\xe1\xbb\x85n V\xc4\x83n An",
	    "birthdate", "1990-05-17", "gender", "male", "eid_level", 2);
	assert_non_null(c);
	return c;
}

char *
th_dump(json_t *j)
{
	char	*s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	assert_non_null(s);
	return s;
}

char *
th_header(enum eid_alg alg, const char *kid)
{
	json_t	*h;
	char	*s;

	h = json_pack("{s:s, s:s, s:s}", "alg", eid_alg_name(alg), "kid", kid,
	    "typ", "JWT");
	assert_non_null(h);
	s = th_dump(h);
	json_decref(h);
	return s;
}

char *
th_run_mint(const char *args, int *status)
{
	const char	*b = getenv("EID_BUILD");
	char		 cmd[8192], *out = NULL, buf[4096];
	size_t		 cap = 0, len = 0, n;
	FILE		*p;

	snprintf(cmd, sizeof(cmd), "'%s/bin/eid-mint' --certs '%s' %s "
	    "2>/dev/null", b != NULL && *b ? b : "build", th_certs_dir(), args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		memcpy(out + len, buf, n);
		len += n;
	}
	if (out == NULL)
		out = calloc(1, 1);
	assert_non_null(out);
	out[len] = '\0';
	*status = pclose(p);
	return out;
}
