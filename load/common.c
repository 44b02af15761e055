/*
 * load/common.c -- see common.h.  It owns the format of the message a
 * tool dies with and the messages of the failures it dies on here, which
 * scripts and the tests of the three tools read, and the file names of
 * the development signing keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "eid/jose.h"
#include "eid/verify.h"

#include "common.h"

const struct common_devkey common_devkeys[COMMON_NDEVKEYS] = {
	{ EID_ALG_ES256, "idp-es256" },
	{ EID_ALG_ES384, "idp-es384" },
	{ EID_ALG_RS256, "idp-rs256" },
	{ EID_ALG_PS256, "idp-ps256" },
	{ EID_ALG_EDDSA, "idp-eddsa" },
};

/* Set once by main() before any thread starts, read-only after. */
static const char *common_prog;

void
common_setprog(const char *prog)
{
	common_prog = prog;
}

void
common_vfatal(const char *fmt, va_list ap)
{
	unsigned long	 e;
	char		 buf[256];

	if (common_prog != NULL)
		fprintf(stderr, "%s: ", common_prog);
	vfprintf(stderr, fmt, ap);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, ": %s", buf);
	}
	fputc('\n', stderr);
	exit(COMMON_EXIT_FAILURE);
}

void
common_fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	common_vfatal(fmt, ap);
}

const char *
common_optarg(int argc, char **argv, int *i, const char *name,
    bool *missing)
{
	size_t	 n = strlen(name);

	*missing = false;
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

const char *
common_certs_dir(void)
{
	const char	*env = getenv("EID_CERTS");

	return env != NULL && env[0] != '\0' ? env : COMMON_CERTS_DEFAULT;
}

void
common_path(char *out, size_t outlen, const char *dir, const char *name,
    const char *suffix)
{
	int	 n;

	n = snprintf(out, outlen, "%s/%s%s", dir, name, suffix);
	if (n < 0 || (size_t)n >= outlen)
		common_fatal("%s: path too long", dir);
}

const char *
common_devkey_base(enum eid_alg alg)
{
	size_t	 i;

	for (i = 0; i < COMMON_NDEVKEYS; i++)
		if (common_devkeys[i].alg == alg)
			return common_devkeys[i].base;
	common_fatal("no development key for %s", eid_alg_name(alg));
}

/* PEM's passphrase callback, refusing: a development key has none. */
static int
common_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

EVP_PKEY *
common_key_read(const char *path)
{
	EVP_PKEY	*k;
	FILE		*fp;

	if ((fp = fopen(path, "r")) == NULL)
		common_fatal("%s: %s", path, strerror(errno));
	k = PEM_read_PrivateKey(fp, NULL, common_no_passphrase, NULL);
	fclose(fp);
	if (k == NULL)
		common_fatal("%s: not a PEM private key", path);
	return k;
}

void
common_key_kid(const EVP_PKEY *key, const char *path, char *kid,
    size_t kidlen)
{
	enum eid_err	 rc;

	if ((rc = eid_jwk_thumbprint(key, kid, kidlen)) != EID_OK)
		common_fatal("%s: thumbprint: %s", path, eid_strerror(rc));
}
