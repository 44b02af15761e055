/*
 * daemon/cfg.c -- the configuration file: read with libconfig, checked
 * against one option table, returned as an immutable struct cfg.
 *
 * libconfig only tokenizes (docs/adr/0005-libconfig.md); this file owns
 * the meaning: every scalar option is a row of cfg_opts (name, type,
 * default, bounds, unit, help), which drives parsing, validation and the
 * normalized print of `eidd -t -v`.  Unknown options are errors, so a
 * typo never silently leaves a default in force.  Relative file names are
 * taken relative to the configuration file's directory.  Errors read
 * "file:line: option: problem".  Files are checked for readability here;
 * whether keys and certificates are acceptable is snap.c's business.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "eidd.h"

enum cfg_type {
	CFG_INT,
	CFG_STR,
	CFG_BOOL,
	CFG_FILE,	/* a string naming a readable file */
	CFG_PATH	/* a string naming a file or directory */
};

struct cfg_opt {
	const char	*name;		/* dotted path */
	enum cfg_type	 type;
	size_t		 off;
	int64_t		 def;
	int64_t		 min;
	int64_t		 max;
	const char	*sdef;		/* string default, NULL: required */
	const char	*unit;
	const char	*help;
};

#define O(f)	offsetof(struct cfg, f)

/* Every scalar option.  Groups and lists are parsed below. */
static const struct cfg_opt cfg_opts[] = {
	{ "listen", CFG_STR, O(listen), 0, 0, 0, "127.0.0.1:7443", NULL,
	    "address:port of the API listener (port 0: any free port)" },
	{ "workers", CFG_INT, O(workers), 0, 0, EIDD_WORKERS_MAX, NULL,
	    "threads", "worker threads; 0 means one per core" },
	{ "state_dir", CFG_PATH, O(state_dir), 0, 0, 0, "/var/lib/eidd", NULL,
	    "directory of the store" },
	{ "user", CFG_STR, O(user), 0, 0, 0, "", NULL,
	    "started as root: the user to become after startup" },
	{ "log_level", CFG_STR, O(log_level), 0, 0, 0, "info", NULL,
	    "error, warn, info or debug" },
	{ "tls.certificate", CFG_FILE, O(tls_cert), 0, 0, 0, NULL, NULL,
	    "server certificate chain, PEM" },
	{ "tls.key", CFG_FILE, O(tls_key), 0, 0, 0, NULL, NULL,
	    "server private key, PEM" },
	{ "tls.client_ca", CFG_FILE, O(tls_client_ca), 0, 0, 0, NULL, NULL,
	    "CA certificates that client certificates must chain to" },
	{ "tls.allow_tls12", CFG_BOOL, O(tls12), 0, 0, 1, NULL, NULL,
	    "also accept TLS 1.2 (ECDHE with AEAD only)" },
	{ "http.listen", CFG_STR, O(http_listen), 0, 0, 0, "", NULL,
	    "address:port of the HTTPS/JSON gateway; empty: none" },
	{ "http.require_client_cert", CFG_BOOL, O(http_require_cert), 1, 0, 1,
	    NULL, NULL, "mutual TLS on the gateway (only /metrics, /healthz "
	    "and /readyz may be served without, see open_monitoring)" },
	{ "http.open_monitoring", CFG_BOOL, O(http_open_monitoring), 0, 0, 1,
	    NULL, NULL, "serve /metrics, /healthz, /readyz to clients "
	    "without a certificate (e.g. on a loopback address)" },
	{ "http.max_body_bytes", CFG_INT, O(http_max_body), 65536, 1024,
	    EIDD_FRAME_MAX, NULL, "bytes", "largest request body" },
	{ "http.request_timeout_ms", CFG_INT, O(http_timeout_ms), 10000, 100,
	    600000, NULL, "ms", "deadline to receive a whole request" },
	{ "http.max_connections", CFG_INT, O(http_max_conns), 1024, 1,
	    1000000, NULL, "connections", "open gateway connections; more "
	    "wait in the kernel's accept queue" },
	{ "limits.max_frame_bytes", CFG_INT, O(max_frame_bytes), 65536,
	    EIDD_FRAME_MIN, EIDD_FRAME_MAX, NULL, "bytes",
	    "largest request frame" },
	{ "limits.max_connections", CFG_INT, O(max_connections), 10000, 1,
	    1000000, NULL, "connections", "open connections, all workers" },
	{ "limits.max_handshakes", CFG_INT, O(max_handshakes), 2500, 1,
	    1000000, NULL, "connections", "connections still in the TLS "
	    "handshake, all workers; at it, one going nowhere is pushed out "
	    "or the new one refused" },
	{ "limits.source_connections_per_s", CFG_INT, O(source_conn_rate),
	    200, 0, 1000000, NULL, "connections/s", "new connections a "
	    "second from one address (IPv6: its /64), all workers; past it "
	    "and the burst, refused at accept; 0: no limit" },
	{ "limits.source_connections_burst", CFG_INT, O(source_conn_burst),
	    2000, 1, 1000000, NULL, "connections", "new connections from "
	    "one address at once beyond that rate" },
	{ "limits.handshake_timeout_ms", CFG_INT, O(handshake_timeout_ms),
	    10000, 100, 600000, NULL, "ms",
	    "deadline from accept to a finished TLS handshake" },
	{ "limits.idle_timeout_ms", CFG_INT, O(idle_timeout_ms), 60000, 100,
	    86400000, NULL, "ms",
	    "close a connection silent for this long, or one whose "
	    "started frame is not complete within it" },
	{ "limits.drain_timeout_ms", CFG_INT, O(drain_timeout_ms), 10000, 0,
	    600000, NULL, "ms", "longest wait for clients at shutdown" },
	{ "limits.requests_per_read", CFG_INT, O(requests_per_read), 64, 1,
	    4096, NULL, "requests",
	    "requests handled per read pass before others get a turn "
	    "(a batch counts its items)" },
	{ "limits.output_high_watermark", CFG_INT, O(output_high_watermark),
	    1048576, 4096, 268435456, NULL, "bytes",
	    "stop reading a connection whose unsent output passes this" },
	{ "store.cache_map_bytes", CFG_INT, O(cache_map_bytes),
	    INT64_C(1073741824), 1048576, INT64_C(1099511627776), NULL, "bytes",
	    "LMDB map of the verified-token cache; full means eviction" },
	{ "store.state_map_bytes", CFG_INT, O(state_map_bytes),
	    INT64_C(268435456), 32768, INT64_C(1099511627776), NULL, "bytes",
	    "LMDB map of revocations and consumed ids; full refuses new ones" },
	{ "store.sweep_interval_s", CFG_INT, O(sweep_interval_s), 60, 0, 86400,
	    NULL, "s", "how often expired entries are removed; 0: never" },
	{ "store.cache_probation", CFG_INT, O(cache_probation), 65536, 0,
	    4194304, NULL, "tokens",
	    "first-seen tokens kept in memory, written to the cache only "
	    "when used again; 0: every verified token is written" },
	{ "verify.leeway_s", CFG_INT, O(leeway_s), EID_POLICY_LEEWAY_DEFAULT,
	    0, 3600, NULL, "s", "clock leeway for exp, nbf and iat" },
	{ "verify.max_lifetime_s", CFG_INT, O(max_lifetime_s),
	    EID_POLICY_LIFETIME_DEFAULT, 60, 366 * 86400, NULL, "s",
	    "longest exp - iat accepted" },
};

#define CFG_NOPTS	(sizeof(cfg_opts) / sizeof(cfg_opts[0]))

/* Groups and lists parsed by hand, and the options they may hold. */
static const char *const cfg_groups[] = { "tls", "http", "limits", "store",
	"verify", NULL };
static const char *const cfg_lists[] = { "issuers", "principals", NULL };

struct cfg_ctx {
	const char	*file;
	char		*dir;		/* directory of file, for relative names */
	char		*err;
	size_t		 errlen;
};

static int
cfg_fail(struct cfg_ctx *x, int line, const char *opt, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
cfg_fail(struct cfg_ctx *x, int line, const char *opt, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(x->err, x->errlen, "%s:%d: %s: %s", x->file, line, opt, msg);
	return -1;
}

/* libconfig 1.5's own limit on nested @include. */
#define CFG_INCLUDE_DEPTH	10

/*
 * libconfig 1.5 opens an @include with fopen(), and its scanner calls
 * exit() when a read fails: an @include of a directory (or of "", which
 * names the include directory) ended the daemon, on a reload too.  So,
 * before libconfig reads anything, the configuration and every file it
 * includes must be regular files.  @include lines are found as the
 * scanner finds them: at a line's start, after blanks, then a quoted
 * name, relative to the configuration's directory at any depth.  An
 * @include inside a comment is checked too (refused only if it names
 * something unreadable or not a file).  line: where path was included
 * (0: the configuration itself).
 */
static int
cfg_check_includes(struct cfg_ctx *x, const char *path, int line, int depth)
{
	char		 full[PATH_MAX], *buf = NULL;
	const char	*p, *q;
	struct stat	 st;
	size_t		 cap = 0;
	ssize_t		 len;
	FILE		*fp;
	int		 n = 0, at, r = 0;

	if (depth > CFG_INCLUDE_DEPTH)
		return cfg_fail(x, line, "@include", "nested more than %d deep",
		    CFG_INCLUDE_DEPTH);
	if (stat(path, &st) != 0 || (fp = fopen(path, "r")) == NULL)
		return line == 0 ?
		    cfg_fail(x, 0, "file", "cannot read: %s", strerror(errno)) :
		    cfg_fail(x, line, "@include", "%s: cannot read: %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode)) {
		fclose(fp);
		return cfg_fail(x, line, line == 0 ? "file" : "@include",
		    "%s: not a regular file", path);
	}
	while (r == 0 && (len = getline(&buf, &cap, fp)) != -1) {
		n++;
		/* Where the error points: this line, or the top @include. */
		at = line == 0 ? n : line;
		/* libconfig reads names as C strings: a NUL would cut one. */
		if (memchr(buf, '\0', (size_t)len) != NULL) {
			r = cfg_fail(x, at, "file", "a NUL byte%s%s",
			    line == 0 ? "" : " in ", line == 0 ? "" : path);
			break;
		}
		for (p = buf; *p == ' ' || *p == '\t'; p++)
			;
		if (strncmp(p, "@include", 8) != 0 || (p[8] != ' ' &&
		    p[8] != '\t'))
			continue;
		for (p += 8; *p == ' ' || *p == '\t'; p++)
			;
		/* Not a quoted name: libconfig's syntax error says so. */
		if (*p++ != '"')
			continue;
		if ((q = strpbrk(p, "\"\n")) == NULL || *q != '"') {
			r = cfg_fail(x, at, "@include", "the name must end on "
			    "its line");
			break;
		}
		if (memchr(p, '\\', (size_t)(q - p)) != NULL) {
			r = cfg_fail(x, at, "@include",
			    "a backslash in a file name is not supported");
			break;
		}
		if ((p[0] == '/' || x->dir == NULL ?
		    snprintf(full, sizeof(full), "%.*s", (int)(q - p), p) :
		    snprintf(full, sizeof(full), "%s/%.*s", x->dir,
		    (int)(q - p), p)) >= (int)sizeof(full)) {
			r = cfg_fail(x, at, "@include", "file name too long");
			break;
		}
		r = cfg_check_includes(x, full, at, depth + 1);
	}
	free(buf);
	fclose(fp);
	return r;
}

static char *
cfg_strdup(const char *s)
{
	char	*d = strdup(s);

	if (d == NULL)
		fatalx("nomem", "where=cfg");
	return d;
}

/* Resolve a file name against the configuration's directory. */
static char *
cfg_path(struct cfg_ctx *x, const char *name)
{
	char	*p;
	size_t	 n;

	if (name[0] == '/' || x->dir == NULL)
		return cfg_strdup(name);
	n = strlen(x->dir) + strlen(name) + 2;
	if ((p = malloc(n)) == NULL)
		fatalx("nomem", "where=cfg");
	snprintf(p, n, "%s/%s", x->dir, name);
	return p;
}

static int
cfg_check_file(struct cfg_ctx *x, int line, const char *opt,
    const char *path)
{
	if (access(path, R_OK) != 0)
		return cfg_fail(x, line, opt, "%s: %s", path, strerror(errno));
	return 0;
}

/*
 * A file holding a secret must belong to root or to us and be closed to
 * group and others (OpenBSD's check_file_secrecy).  Started as root,
 * eidd loads it before it becomes `user` (sandbox_linux.c), so "us" is
 * root or that user, and no one else: a key another local user owns is
 * a key that user can replace.  tls.c checks the descriptor it reads the
 * key from with this too, so that the file checked is the file read.
 */
int
cfg_secret_ok(const struct stat *st, const char *user, char *why,
    size_t whylen)
{
	struct passwd	*pw;
	uid_t		 svc = 0;
	bool		 named = geteuid() == 0 && user != NULL &&
			    user[0] != '\0';

	if (named) {
		if ((pw = getpwnam(user)) == NULL) {
			snprintf(why, whylen, "owner not checked: user %s does "
			    "not exist", user);
			return -1;
		}
		svc = pw->pw_uid;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != svc) {
		snprintf(why, whylen, "owned by uid %u, not root or %s%s",
		    (unsigned)st->st_uid, named ? "user " : "this user",
		    named ? user : "");
		return -1;
	}
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(why, whylen, "readable by group or others (mode "
		    "%03o): chmod 600 it", (unsigned)(st->st_mode & 0777));
		return -1;
	}
	return 0;
}

/* cfg_secret_ok() of path; `user` comes before tls.key in cfg_opts[]. */
static int
cfg_check_secret(struct cfg_ctx *x, int line, const char *opt,
    const char *path, const char *user)
{
	struct stat	 st;
	char		 why[256];

	if (stat(path, &st) != 0)
		return cfg_fail(x, line, opt, "%s: %s", path, strerror(errno));
	if (cfg_secret_ok(&st, user, why, sizeof(why)) != 0)
		return cfg_fail(x, line, opt, "%s: %s", path, why);
	return 0;
}

static const struct cfg_opt *
cfg_opt_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < CFG_NOPTS; i++)
		if (strcmp(cfg_opts[i].name, name) == 0)
			return &cfg_opts[i];
	return NULL;
}

static bool
cfg_in(const char *const *list, const char *s)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* Every member of the root and of the known groups must be known. */
static int
cfg_check_names(struct cfg_ctx *x, config_t *lc)
{
	config_setting_t	*root = config_root_setting(lc), *s, *g;
	char			 full[256];
	int			 i, j;

	for (i = 0; (s = config_setting_get_elem(root, (unsigned)i)) != NULL;
	    i++) {
		const char *n = config_setting_name(s);

		if (cfg_in(cfg_lists, n))
			continue;
		if (cfg_in(cfg_groups, n)) {
			if (!config_setting_is_group(s))
				return cfg_fail(x,
				    config_setting_source_line(s), n,
				    "must be a group { ... }");
			for (j = 0; (g = config_setting_get_elem(s,
			    (unsigned)j)) != NULL; j++) {
				snprintf(full, sizeof(full), "%s.%s", n,
				    config_setting_name(g));
				if (cfg_opt_find(full) == NULL)
					return cfg_fail(x,
					    config_setting_source_line(g), full,
					    "unknown option");
			}
			continue;
		}
		if (cfg_opt_find(n) == NULL)
			return cfg_fail(x, config_setting_source_line(s), n,
			    "unknown option");
	}
	return 0;
}

static int
cfg_scalar(struct cfg_ctx *x, config_t *lc, struct cfg *c,
    const struct cfg_opt *o)
{
	config_setting_t	*s = config_lookup(lc, o->name);
	char			**sp = (char **)(void *)((char *)c + o->off);
	int			 line = s != NULL ? config_setting_source_line(s) : 0;
	long long		 v;

	switch (o->type) {
	case CFG_INT:
		v = o->def;
		if (s != NULL) {
			if (config_setting_type(s) != CONFIG_TYPE_INT &&
			    config_setting_type(s) != CONFIG_TYPE_INT64)
				return cfg_fail(x, line, o->name,
				    "must be an integer");
			v = config_setting_get_int64(s);
		}
		if (v < o->min || v > o->max)
			return cfg_fail(x, line, o->name,
			    "%lld is out of range %lld..%lld%s%s", v,
			    (long long)o->min, (long long)o->max,
			    o->unit != NULL ? " " : "",
			    o->unit != NULL ? o->unit : "");
		if (o->off == O(workers))
			c->workers = c->workers_cfg = (int)v;
		else
			*(int64_t *)(void *)((char *)c + o->off) = v;
		return 0;
	case CFG_BOOL:
		if (s != NULL && config_setting_type(s) != CONFIG_TYPE_BOOL)
			return cfg_fail(x, line, o->name,
			    "must be true or false");
		*(bool *)(void *)((char *)c + o->off) = s != NULL ?
		    config_setting_get_bool(s) != 0 : o->def != 0;
		return 0;
	case CFG_STR:
	case CFG_FILE:
	case CFG_PATH:
		if (s == NULL) {
			if (o->sdef == NULL)
				return cfg_fail(x, 0, o->name,
				    "required option missing");
			/* A default is a name like any other. */
			*sp = o->type == CFG_STR ? cfg_strdup(o->sdef) :
			    cfg_path(x, o->sdef);
			return 0;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING ||
		    (config_setting_get_string(s)[0] == '\0' &&
		    o->off != O(http_listen) && o->off != O(user)))
			return cfg_fail(x, line, o->name,
			    "must be a non-empty string");
		if (o->type != CFG_STR) {
			*sp = cfg_path(x, config_setting_get_string(s));
			if (o->type == CFG_PATH)
				return 0;
			if (cfg_check_file(x, line, o->name, *sp) != 0)
				return -1;
			return o->off == O(tls_key) ?
			    cfg_check_secret(x, line, o->name, *sp, c->user) :
			    0;
		}
		*sp = cfg_strdup(config_setting_get_string(s));
		return 0;
	}
	return -1;
}

/* A list of strings (array or list); *out malloc'd. */
static int
cfg_strings(struct cfg_ctx *x, config_setting_t *parent, const char *name,
    const char *opt, bool files, bool required, char ***out, size_t *n)
{
	config_setting_t	*s = config_setting_get_member(parent, name), *e;
	int			 i, cnt, line;

	*out = NULL;
	*n = 0;
	line = config_setting_source_line(s != NULL ? s : parent);
	if (s == NULL) {
		if (required)
			return cfg_fail(x, line, opt, "required option missing");
		return 0;
	}
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return cfg_fail(x, line, opt, "must be a list [ \"...\" ]");
	cnt = config_setting_length(s);
	if (cnt == 0 && required)
		return cfg_fail(x, line, opt, "must not be empty");
	if ((*out = calloc((size_t)cnt + 1, sizeof(char *))) == NULL)
		fatalx("nomem", "where=cfg");
	for (i = 0; i < cnt; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    config_setting_get_string(e)[0] == '\0')
			return cfg_fail(x, line, opt,
			    "element %d must be a non-empty string", i + 1);
		(*out)[i] = files ? cfg_path(x, config_setting_get_string(e)) :
		    cfg_strdup(config_setting_get_string(e));
		(*n)++;
		if (files && cfg_check_file(x, line, opt, (*out)[i]) != 0)
			return -1;
	}
	return 0;
}

/* A required non-empty string member of a list element. */
static int
cfg_member(struct cfg_ctx *x, config_setting_t *e, const char *name,
    const char *opt, char **out)
{
	const char	*v;

	if (config_setting_lookup_string(e, name, &v) != CONFIG_TRUE ||
	    v[0] == '\0')
		return cfg_fail(x, config_setting_source_line(e), opt,
		    "%s: required non-empty string", name);
	*out = cfg_strdup(v);
	return 0;
}

static int
cfg_only_members(struct cfg_ctx *x, config_setting_t *e, const char *opt,
    const char *const *allowed)
{
	config_setting_t	*m;
	int			 i;

	if (!config_setting_is_group(e))
		return cfg_fail(x, config_setting_source_line(e), opt,
		    "each element must be a group { ... }");
	for (i = 0; (m = config_setting_get_elem(e, (unsigned)i)) != NULL; i++)
		if (!cfg_in(allowed, config_setting_name(m)))
			return cfg_fail(x, config_setting_source_line(m), opt,
			    "%s: unknown option", config_setting_name(m));
	return 0;
}

static int
cfg_issuer_certs(struct cfg_ctx *x, config_setting_t *e,
    struct cfg_issuer *is)
{
	static const char *const allowed[] = { "file", "alg", NULL };
	config_setting_t	*l = config_setting_get_member(e, "certificates");
	config_setting_t	*ce;
	const char		*alg;
	int			 i, n;

	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l))
		return cfg_fail(x, config_setting_source_line(l),
		    "issuers.certificates", "must be a list ( { ... } )");
	n = config_setting_length(l);
	if ((is->certs = calloc((size_t)n + 1, sizeof(*is->certs))) == NULL)
		fatalx("nomem", "where=cfg");
	for (i = 0; i < n; i++) {
		ce = config_setting_get_elem(l, (unsigned)i);
		if (cfg_only_members(x, ce, "issuers.certificates",
		    allowed) != 0)
			return -1;
		if (cfg_member(x, ce, "file", "issuers.certificates",
		    &is->certs[i].file) != 0)
			return -1;
		is->ncerts++;
		alg = NULL;
		config_setting_lookup_string(ce, "alg", &alg);
		is->certs[i].alg = EID_ALG_NONE;
		if (alg != NULL && (is->certs[i].alg = eid_alg_from_name(alg)) ==
		    EID_ALG_NONE)
			return cfg_fail(x, config_setting_source_line(ce),
			    "issuers.certificates.alg", "%s: not one of ES256, "
			    "ES384, RS256, PS256, EdDSA", alg);
		{
			char *p = cfg_path(x, is->certs[i].file);

			free(is->certs[i].file);
			is->certs[i].file = p;
		}
		if (cfg_check_file(x, config_setting_source_line(ce),
		    "issuers.certificates.file", is->certs[i].file) != 0)
			return -1;
	}
	return 0;
}

static int
cfg_issuers(struct cfg_ctx *x, config_t *lc, struct cfg *c)
{
	static const char *const allowed[] = { "iss", "anchors",
		"certificates", "jwks", NULL };
	config_setting_t	*l = config_lookup(lc, "issuers"), *e;
	struct cfg_issuer	*is;
	int			 i, n;
	size_t			 j;

	if (l == NULL || !config_setting_is_list(l) ||
	    (n = config_setting_length(l)) == 0)
		return cfg_fail(x, l != NULL ? config_setting_source_line(l) :
		    0, "issuers", "required: a list ( { iss = ...; ... } )");
	if ((c->issuers = calloc((size_t)n, sizeof(*c->issuers))) == NULL)
		fatalx("nomem", "where=cfg");
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(l, (unsigned)i);
		is = &c->issuers[i];
		c->nissuers++;
		is->line = config_setting_source_line(e);
		if (cfg_only_members(x, e, "issuers", allowed) != 0 ||
		    cfg_member(x, e, "iss", "issuers.iss", &is->iss) != 0 ||
		    cfg_strings(x, e, "anchors", "issuers.anchors", true, false,
		    &is->anchors, &is->nanchors) != 0 ||
		    cfg_issuer_certs(x, e, is) != 0 ||
		    cfg_strings(x, e, "jwks", "issuers.jwks", true, false,
		    &is->jwks, &is->njwks) != 0)
			return -1;
		if (is->ncerts == 0 && is->njwks == 0)
			return cfg_fail(x, is->line, "issuers",
			    "%s: no certificates and no jwks", is->iss);
		if (is->ncerts > 0 && is->nanchors == 0)
			return cfg_fail(x, is->line, "issuers.anchors",
			    "%s: certificates need trust anchors", is->iss);
		for (j = 0; j < (size_t)i; j++)
			if (strcmp(c->issuers[j].iss, is->iss) == 0)
				return cfg_fail(x, is->line, "issuers.iss",
				    "%s: configured twice", is->iss);
	}
	return 0;
}

static int
cfg_principals(struct cfg_ctx *x, config_t *lc, struct cfg *c)
{
	static const char *const allowed[] = { "name", "subject", "role",
		"audiences", NULL };
	config_setting_t	*l = config_lookup(lc, "principals"), *e;
	struct cfg_principal	*p;
	char			*role = NULL;
	int			 i, n;
	size_t			 j;

	if (l == NULL || !config_setting_is_list(l) ||
	    (n = config_setting_length(l)) == 0)
		return cfg_fail(x, l != NULL ? config_setting_source_line(l) :
		    0, "principals", "required: a list ( { name = ...; ... } )");
	if ((c->principals = calloc((size_t)n, sizeof(*c->principals))) ==
	    NULL)
		fatalx("nomem", "where=cfg");
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(l, (unsigned)i);
		p = &c->principals[i];
		c->nprincipals++;
		p->line = config_setting_source_line(e);
		if (cfg_only_members(x, e, "principals", allowed) != 0 ||
		    cfg_member(x, e, "name", "principals.name", &p->name) != 0 ||
		    cfg_member(x, e, "subject", "principals.subject",
		    &p->subject) != 0 ||
		    cfg_member(x, e, "role", "principals.role", &role) != 0)
			goto fail;
		if (strcmp(role, "relying-party") == 0)
			p->role = CFG_ROLE_RELYING_PARTY;
		else if (strcmp(role, "admin") == 0)
			p->role = CFG_ROLE_ADMIN;
		else {
			cfg_fail(x, p->line, "principals.role",
			    "%s: must be relying-party or admin", role);
			goto fail;
		}
		free(role);
		role = NULL;
		if (cfg_strings(x, e, "audiences", "principals.audiences",
		    false, p->role == CFG_ROLE_RELYING_PARTY, &p->audiences,
		    &p->naudiences) != 0)
			goto fail;
		if (p->naudiences > EIDD_AUD_PER_PRINCIPAL) {
			cfg_fail(x, p->line, "principals.audiences",
			    "more than %d", EIDD_AUD_PER_PRINCIPAL);
			goto fail;
		}
		for (j = 0; j < p->naudiences; j++)
			if (strlen(p->audiences[j]) > EID_AUD_MAX) {
				cfg_fail(x, p->line, "principals.audiences",
				    "longer than %d bytes", EID_AUD_MAX);
				goto fail;
			}
		for (j = 0; j < (size_t)i; j++)
			if (strcmp(c->principals[j].name, p->name) == 0 ||
			    strcmp(c->principals[j].subject, p->subject) == 0) {
				cfg_fail(x, p->line, "principals",
				    "%s: name or subject configured twice",
				    p->name);
				goto fail;
			}
	}
	return 0;
fail:
	free(role);
	return -1;
}

struct cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	config_t		 lc;
	struct cfg		*c;
	struct cfg_ctx		 x;
	const char		*slash;
	enum log_level		 lvl;
	size_t			 i;
	long			 ncpu;

	memset(&x, 0, sizeof(x));
	x.file = path;
	x.err = err;
	x.errlen = errlen;
	if ((slash = strrchr(path, '/')) != NULL) {
		if ((x.dir = strndup(path, (size_t)(slash - path))) == NULL)
			fatalx("nomem", "where=cfg");
		if (x.dir[0] == '\0') {
			free(x.dir);
			x.dir = cfg_strdup("/");
		}
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatalx("nomem", "where=cfg");
	c->path = cfg_strdup(path);
	config_init(&lc);
	/* @include "file" too is relative to the configuration's directory. */
	if (x.dir != NULL)
		config_set_include_dir(&lc, x.dir);
	if (cfg_check_includes(&x, path, 0, 0) != 0)
		goto fail;
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
			cfg_fail(&x, 0, "file", "cannot read: %s",
			    strerror(errno));
		else
			cfg_fail(&x, config_error_line(&lc), "syntax", "%s",
			    config_error_text(&lc));
		goto fail;
	}
	if (cfg_check_names(&x, &lc) != 0)
		goto fail;
	for (i = 0; i < CFG_NOPTS; i++)
		if (cfg_scalar(&x, &lc, c, &cfg_opts[i]) != 0)
			goto fail;
	if (!log_level_parse(c->log_level, &lvl)) {
		cfg_fail(&x, 0, "log_level", "%s: not error, warn, info or "
		    "debug", c->log_level);
		goto fail;
	}
	if (c->http_listen[0] != '\0' && strchr(c->http_listen, ':') ==
	    NULL) {
		cfg_fail(&x, 0, "http.listen", "%s: must be address:port",
		    c->http_listen);
		goto fail;
	}
	if (c->http_open_monitoring && c->http_require_cert) {
		cfg_fail(&x, 0, "http.open_monitoring", "needs "
		    "http.require_client_cert = false (every other path still "
		    "requires a certificate)");
		goto fail;
	}
	if (strchr(c->listen, ':') == NULL) {
		cfg_fail(&x, 0, "listen", "%s: must be address:port",
		    c->listen);
		goto fail;
	}
	if (c->leeway_s * 2 >= c->max_lifetime_s) {
		cfg_fail(&x, 0, "verify.leeway_s",
		    "must be less than half of verify.max_lifetime_s");
		goto fail;
	}
	if (c->workers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		c->workers = ncpu < 1 ? 1 : ncpu > EIDD_WORKERS_MAX ?
		    EIDD_WORKERS_MAX : (int)ncpu;
	}
	if (cfg_issuers(&x, &lc, c) != 0 || cfg_principals(&x, &lc, c) != 0)
		goto fail;
	config_destroy(&lc);
	free(x.dir);
	return c;
fail:
	config_destroy(&lc);
	free(x.dir);
	cfg_free(c);
	return NULL;
}

static void
cfg_free_strings(char **v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

void
cfg_free(struct cfg *c)
{
	size_t	 i, j;

	if (c == NULL)
		return;
	for (i = 0; i < CFG_NOPTS; i++)
		if (cfg_opts[i].type != CFG_INT && cfg_opts[i].type != CFG_BOOL)
			free(*(char **)(void *)((char *)c + cfg_opts[i].off));
	for (i = 0; i < c->nissuers; i++) {
		free(c->issuers[i].iss);
		cfg_free_strings(c->issuers[i].anchors,
		    c->issuers[i].nanchors);
		cfg_free_strings(c->issuers[i].jwks, c->issuers[i].njwks);
		for (j = 0; j < c->issuers[i].ncerts; j++)
			free(c->issuers[i].certs[j].file);
		free(c->issuers[i].certs);
	}
	free(c->issuers);
	for (i = 0; i < c->nprincipals; i++) {
		free(c->principals[i].name);
		free(c->principals[i].subject);
		cfg_free_strings(c->principals[i].audiences,
		    c->principals[i].naudiences);
	}
	free(c->principals);
	free(c->path);
	free(c);
}

/*
 * s as a libconfig string literal: quotes and backslashes escaped, control
 * bytes as \xHH, so that the printout reads back as the same value and
 * puts nothing raw on a terminal.
 */
static void
cfg_print_str(FILE *fp, const char *s)
{
	const unsigned char	*p;

	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

static void
cfg_print_strings(FILE *fp, const char *indent, const char *name,
    char *const *v, size_t n)
{
	size_t	 i;

	fprintf(fp, "%s%s = [", indent, name);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : " ", fp);
		cfg_print_str(fp, v[i]);
	}
	fprintf(fp, "%s];\n", n ? " " : " ");
}

void
cfg_print(const struct cfg *c, FILE *fp)
{
	const struct cfg_opt	*o;
	const char		*dot;
	size_t			 i, j;
	char			 g[32], cur[32] = "";

	fprintf(fp, "# %s, normalized\n", c->path);
	for (i = 0; i < CFG_NOPTS; i++) {
		o = &cfg_opts[i];
		dot = strchr(o->name, '.');
		snprintf(g, sizeof(g), "%.*s", dot ? (int)(dot - o->name) : 0,
		    o->name);
		if (strcmp(g, cur) != 0) {
			if (cur[0] != '\0')
				fprintf(fp, "};\n");
			if (g[0] != '\0')
				fprintf(fp, "%s = {\n", g);
			memcpy(cur, g, sizeof(cur));
		}
		fprintf(fp, "%s%s = ", g[0] ? "  " : "", dot ? dot + 1 :
		    o->name);
		switch (o->type) {
		case CFG_INT:
			fprintf(fp, "%lld;", o->off == O(workers) ?
			    (long long)c->workers_cfg : (long long)
			    *(const int64_t *)(const void *)((const char *)c +
			    o->off));
			break;
		case CFG_BOOL:
			fprintf(fp, "%s;", *(const bool *)(const void *)
			    ((const char *)c + o->off) ? "true" : "false");
			break;
		case CFG_STR:
		case CFG_FILE:
		case CFG_PATH:
			cfg_print_str(fp, *(char *const *)(const void *)
			    ((const char *)c + o->off));
			fputc(';', fp);
			break;
		}
		fprintf(fp, "%*s# %s%s%s\n", 1, "", o->help,
		    o->unit ? ", " : "", o->unit ? o->unit : "");
	}
	if (cur[0] != '\0')
		fprintf(fp, "};\n");
	fprintf(fp, "issuers = (\n");
	for (i = 0; i < c->nissuers; i++) {
		const struct cfg_issuer *is = &c->issuers[i];

		fputs("  {\n    iss = ", fp);
		cfg_print_str(fp, is->iss);
		fputs(";\n", fp);
		cfg_print_strings(fp, "    ", "anchors", is->anchors,
		    is->nanchors);
		fprintf(fp, "    certificates = (");
		for (j = 0; j < is->ncerts; j++) {
			fprintf(fp, "%s\n      { file = ", j ? "," : "");
			cfg_print_str(fp, is->certs[j].file);
			fputc(';', fp);
			if (is->certs[j].alg != EID_ALG_NONE)
				fprintf(fp, " alg = \"%s\";",
				    eid_alg_name(is->certs[j].alg));
			fprintf(fp, " }");
		}
		fprintf(fp, "%s);\n", is->ncerts ? "\n    " : " ");
		cfg_print_strings(fp, "    ", "jwks", is->jwks, is->njwks);
		fprintf(fp, "  }%s\n", i + 1 < c->nissuers ? "," : "");
	}
	fprintf(fp, ");\nprincipals = (\n");
	for (i = 0; i < c->nprincipals; i++) {
		const struct cfg_principal *p = &c->principals[i];

		fputs("  {\n    name = ", fp);
		cfg_print_str(fp, p->name);
		fputs(";\n    subject = ", fp);
		cfg_print_str(fp, p->subject);
		fprintf(fp, ";\n    role = \"%s\";\n",
		    p->role == CFG_ROLE_ADMIN ? "admin" : "relying-party");
		cfg_print_strings(fp, "    ", "audiences", p->audiences,
		    p->naudiences);
		fprintf(fp, "  }%s\n", i + 1 < c->nprincipals ? "," : "");
	}
	fprintf(fp, ");\n");
}
