/*
 * tests/fuzz/fuzz_config.c -- libFuzzer harness for eidd's configuration
 * parser: the input is a whole configuration file, read by cfg_load()
 * exactly as `eidd -t` and a SIGHUP reload read it (libconfig, the option
 * table, the issuers and principals), then printed as `eidd -t -v` does.
 *
 * The file is written to a private temporary tree, so that the parser's
 * own code path (a file name, its directory for relative names, bytes
 * after a NUL) is the one under test and daemon/cfg.c needs no string
 * entry point.  The tree mirrors the repository's etc/ and certs/:
 *
 *	TMP/etc/fuzz.conf	the input
 *	TMP/certs		-> $PWD/certs	("../certs/dev/..." in etc/)
 *	TMP/etc/certs		-> $PWD/certs	("etc/../certs/...", the golden)
 *	TMP/etc/etc/		empty
 *
 * cfg_load() only probes the files it names (access(2), stat(2)) and
 * opens what an @include names for reading; it creates nothing and loads
 * no key.  The key, certificate and JWKS loading of `eidd -t` (snap.c)
 * is deliberately left out: it is not this parser, and it is where side
 * effects would begin.  stdin is /dev/null, so an @include of it cannot
 * block.  Run from the repository root.  The tree is made under $TMPDIR
 * (run_config.sh: build/fuzz/tmp-config) and removed at a normal exit.
 * LeakSanitizer checks every input for leaks, excusing only libconfig
 * 1.5's own (tests/fuzz/config.lsan.supp).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eidd.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 fz_root[PATH_MAX];
static char	 fz_conf[PATH_MAX];
static FILE	*fz_null;

static void
fz_path(char *buf, const char *rel)
{
	if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", fz_root, rel) >=
	    PATH_MAX)
		abort();
}

static void
fz_cleanup(void)
{
	static const char *const links[] = { "etc/certs", "certs",
		"etc/fuzz.conf", NULL };
	static const char *const dirs[] = { "etc/etc", "etc", NULL };
	char	 p[PATH_MAX];
	int	 i;

	if (fz_root[0] == '\0')
		return;
	for (i = 0; links[i] != NULL; i++) {
		fz_path(p, links[i]);
		(void)unlink(p);
	}
	for (i = 0; dirs[i] != NULL; i++) {
		fz_path(p, dirs[i]);
		(void)rmdir(p);
	}
	(void)rmdir(fz_root);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char	*tmp = getenv("TMPDIR");
	char		 cwd[PATH_MAX], certs[PATH_MAX], p[PATH_MAX];

	(void)argc;
	(void)argv;
	log_init(LOG_LVL_ERR);
	if (freopen("/dev/null", "r", stdin) == NULL ||
	    (fz_null = fopen("/dev/null", "w")) == NULL)
		abort();
	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(fz_root, sizeof(fz_root),
	    "%s/eidd-fuzz-config-XXXXXX", tmp) >= sizeof(fz_root) ||
	    mkdtemp(fz_root) == NULL) {
		fprintf(stderr, "fuzz_config: mkdtemp: %s\n", strerror(errno));
		abort();
	}
	atexit(fz_cleanup);
	if (getcwd(cwd, sizeof(cwd)) == NULL ||
	    (size_t)snprintf(certs, sizeof(certs), "%s/certs", cwd) >=
	    sizeof(certs))
		abort();
	fz_path(p, "etc");
	if (mkdir(p, 0700) != 0)
		abort();
	fz_path(p, "etc/etc");
	if (mkdir(p, 0700) != 0)
		abort();
	fz_path(p, "certs");
	if (symlink(certs, p) != 0)
		abort();
	fz_path(p, "etc/certs");
	if (symlink(certs, p) != 0)
		abort();
	fz_path(fz_conf, "etc/fuzz.conf");
	return 0;
}

static void
fz_write(const uint8_t *data, size_t size)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = open(fz_conf, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	while (size > 0) {
		if ((n = write(fd, data, size)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			abort();
		}
		data += n;
		size -= (size_t)n;
	}
	if (close(fd) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg	*c;
	char		 err[1024];

	if (size > 65536)
		return 0;
	fz_write(data, size);
	err[0] = '\0';
	if ((c = cfg_load(fz_conf, err, sizeof(err))) == NULL) {
		/* Every refusal says why, in "file:line: option: problem". */
		if (strncmp(err, fz_conf, strlen(fz_conf)) != 0 ||
		    err[strlen(fz_conf)] != ':')
			abort();
		return 0;
	}
	/* What the daemon relies on once a configuration is accepted. */
	if (c->workers < 1 || c->workers > EIDD_WORKERS_MAX ||
	    c->nissuers == 0 || c->nprincipals == 0 ||
	    strchr(c->listen, ':') == NULL)
		abort();
	cfg_print(c, fz_null);
	cfg_free(c);
	return 0;
}
