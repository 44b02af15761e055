/*
 * load/common.c -- see common.h.  It owns the format of the message a
 * tool dies with, which scripts and the tests of the three tools read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/err.h>

#include "common.h"

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
common_certs_dir(void)
{
	const char	*env = getenv("EID_CERTS");

	return env != NULL && env[0] != '\0' ? env : COMMON_CERTS_DEFAULT;
}
