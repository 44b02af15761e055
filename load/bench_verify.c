/*
 * load/bench_verify.c -- eid-bench-verify, the benchmark behind "make
 * bench-verify": the single-thread rate of the library's whole
 * verification, eid_verify() (parse, signature, claims and per-request
 * checks), next to the rate of OpenSSL's bare verify (load/raw.c: hash
 * and EVP_PKEY_verify, or EVP_DigestVerify for EdDSA) of the same signing
 * input and signature, for each algorithm of the profile.
 *
 * This file owns the method (interleaved rounds, medians of per-CPU-second
 * rates), the goals of the library against raw OpenSSL, and the
 * bench-verify section of docs/PERFORMANCE.md between its two marker
 * lines.  It mints its tokens in-process through the public API
 * (eid/jose.h) and never includes crypto/'s private header, so it
 * measures exactly what a caller of the library gets.  It is a benchmark,
 * not a test: a missed goal is reported and the exit status stays 0; only
 * a setup failure (a key that will not load, a token the library does not
 * accept) ends it with 1, and bad usage with 2.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "eid/jose.h"
#include "eid/verify.h"

#include "common.h"
#include "raw.h"

#define BENCH_PROG		"eid-bench-verify"

#define BENCH_EXIT_USAGE	2

#define BENCH_ROUNDS_DEFAULT	7
#define BENCH_ROUNDS_MAX	1000
#define BENCH_SECONDS_DEFAULT	0.3
#define BENCH_SECONDS_MIN	0.01
#define BENCH_SECONDS_MAX	60.0

/*
 * The clock is read once per batch, not per verify, so that neither side
 * pays for it; a batch lasts about this long, which also bounds how far a
 * round overshoots its length.
 */
#define BENCH_BATCH_NS		2000000LL

/* --update refuses to rewrite a file larger than this. */
#define BENCH_DOC_MAX		(1024 * 1024)

#define BENCH_MARK_BEGIN	"<!-- bench-verify:begin -->"
#define BENCH_MARK_END		"<!-- bench-verify:end -->"

enum bench_method {
	BENCH_LIB = 0,		/* eid_verify() */
	BENCH_RAW,		/* raw_verify(): prepared context */
	BENCH_RAW_INIT,		/* EVP_DigestVerifyInit per token */
	BENCH_NMETHODS
};

/* One algorithm of the profile and its goal. */
struct bench_alg {
	enum eid_alg	 alg;		/* common_devkey_base() names its key */
	enum eid_alg	 pin;		/* for eid_keyset_add_cert_file */
	double		 goal;		/* least library/raw ratio */
};

/*
 * RSA gets a lower goal: its verify is so cheap (a public exponent of
 * 65537) that the library's fixed cost per token weighs more against it.
 */
static const struct bench_alg bench_algs[] = {
	{ EID_ALG_ES256, EID_ALG_NONE, 0.90 },
	{ EID_ALG_ES384, EID_ALG_NONE, 0.90 },
	{ EID_ALG_RS256, EID_ALG_RS256, 0.80 },
	{ EID_ALG_PS256, EID_ALG_PS256, 0.80 },
	{ EID_ALG_EDDSA, EID_ALG_NONE, 0.90 },
};
#define BENCH_NALGS	(sizeof(bench_algs) / sizeof(bench_algs[0]))

/* Median and spread of one (algorithm, method) over the rounds. */
struct bench_stat {
	double		 median;
	double		 min;
	double		 max;
};

/* Everything one algorithm needs in the timed loops, and its results. */
struct bench_case {
	const struct bench_alg *ba;
	struct raw	 raw;		/* the token, and OpenSSL's verify */
	uint64_t	 batch[BENCH_NMETHODS];
	double		*cpu_rate[BENCH_NMETHODS];	/* per round */
	double		*wall_rate[BENCH_NMETHODS];
	struct bench_stat cpu[BENCH_NMETHODS];
	struct bench_stat wall[BENCH_NMETHODS];
	double		 ratio;		/* of the CPU medians */
	double		 wall_ratio;
	bool		 met;
};

struct bench_conf {
	const char	*certs;
	int		 rounds;
	double		 seconds;
	const char	*update;	/* NULL: no file */
	enum eid_alg	 only;		/* --alg; EID_ALG_NONE: all */
	bool		 json;
	char		*command;	/* argv joined, malloc'd */
};

struct bench {
	struct bench_conf conf;
	struct eid_keyset *ks;
	const char	*keysource;	/* "jwks" or "certificates" */
	struct eid_policy policy;
	struct eid_request req;
	int64_t		 now;
	struct bench_case cases[BENCH_NALGS];
	size_t		 ncases;
	char		 cpu_model[128];
	long		 cores;
	char		 date[32];
	bool		 all_met;
};

static void	 bench_fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static void	 bench_usage(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
/* Human-readable text: stdout normally, stderr under --json. */
static void	 bench_say(const struct bench *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/*
 * common_fatal(), with stdout flushed first: in a merged log the message
 * comes after what the report has printed so far.
 */
static void
bench_fatal(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	va_start(ap, fmt);
	common_vfatal(fmt, ap);
}

static void
bench_usage(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", BENCH_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s [--certs DIR] [--rounds N] "
	    "[--seconds S] [--alg ALG] [--update FILE] [--json]\n",
	    BENCH_PROG);
	exit(BENCH_EXIT_USAGE);
}

static void
bench_say(const struct bench *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vfprintf(b->conf.json ? stderr : stdout, fmt, ap);
	va_end(ap);
}

static int64_t
bench_clock_ns(clockid_t id)
{
	struct timespec	 ts;

	if (clock_gettime(id, &ts) != 0)
		bench_fatal("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --- options ---------------------------------------------------------- */

/*
 * "--name value" or "--name=value"; returns the value and advances *i,
 * or NULL if argv[*i] is not this option.
 */
static const char *
bench_optarg(int argc, char **argv, int *i, const char *name)
{
	const char	*v;
	bool		 missing;

	v = common_optarg(argc, argv, i, name, &missing);
	if (missing)
		bench_usage("%s needs a value", name);
	return v;
}

static void
bench_conf_parse(struct bench_conf *c, int argc, char **argv)
{
	const char	*v;
	char		*end;
	size_t		 len = 0;
	long		 l;
	int		 i;

	c->certs = common_certs_dir();
	c->rounds = BENCH_ROUNDS_DEFAULT;
	c->seconds = BENCH_SECONDS_DEFAULT;
	c->update = NULL;
	c->json = false;

	for (i = 1; i < argc; i++) {
		if ((v = bench_optarg(argc, argv, &i, "--certs")) != NULL)
			c->certs = v;
		else if ((v = bench_optarg(argc, argv, &i, "--rounds")) !=
		    NULL) {
			errno = 0;
			l = strtol(v, &end, 10);
			if (errno != 0 || end == v || *end != '\0' || l < 1 ||
			    l > BENCH_ROUNDS_MAX)
				bench_usage("--rounds: not 1..%d: %s",
				    BENCH_ROUNDS_MAX, v);
			c->rounds = (int)l;
		} else if ((v = bench_optarg(argc, argv, &i, "--seconds")) !=
		    NULL) {
			errno = 0;
			c->seconds = strtod(v, &end);
			if (errno != 0 || end == v || *end != '\0' ||
			    !(c->seconds >= BENCH_SECONDS_MIN &&
			    c->seconds <= BENCH_SECONDS_MAX))
				bench_usage("--seconds: not %g..%g: %s",
				    BENCH_SECONDS_MIN, BENCH_SECONDS_MAX, v);
		} else if ((v = bench_optarg(argc, argv, &i, "--update")) !=
		    NULL) {
			if (v[0] == '\0')
				bench_usage("--update: empty file name");
			c->update = v;
		} else if ((v = bench_optarg(argc, argv, &i, "--alg")) !=
		    NULL) {
			if ((c->only = eid_alg_from_name(v)) == EID_ALG_NONE)
				bench_usage("--alg: not an algorithm of the "
				    "profile: %s", v);
		} else if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			bench_usage("single-thread verify rate of libeidverify "
			    "against raw OpenSSL");
		else
			bench_usage("unknown argument: %s", argv[i]);
	}

	/* A table of one algorithm would overwrite the others' rows. */
	if (c->update != NULL && c->only != EID_ALG_NONE)
		bench_usage("--update needs every algorithm, not --alg");

	/* The command as run, for the record in the report. */
	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((c->command = malloc(len + 1)) == NULL)
		bench_fatal("out of memory");
	c->command[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(c->command, " ");
		strcat(c->command, argv[i]);
	}
}

/* --- setup ------------------------------------------------------------ */

/*
 * The development JWKS is what a deployment would configure; when "make
 * certs" has not produced it yet, the same keys come from their
 * certificates under the development root.
 */
static void
bench_keyset_load(struct bench *b)
{
	struct eid_keyset_builder *kb;
	const struct bench_alg	*ba;
	char			 path[4096], err[256];
	enum eid_err		 rc;
	size_t			 i;

	if ((kb = eid_keyset_builder_new(b->now)) == NULL)
		bench_fatal("out of memory");
	common_path(path, sizeof(path), b->conf.certs, "jwks", ".json");
	if (access(path, R_OK) == 0) {
		b->keysource = "jwks";
		if ((rc = eid_keyset_add_jwks_file(kb, RAW_ISS, path, err,
		    sizeof(err))) != EID_OK)
			bench_fatal("%s: %s: %s", path, eid_strerror(rc), err);
	} else {
		b->keysource = "certificates";
		common_path(path, sizeof(path), b->conf.certs, "root-ca",
		    ".crt");
		if ((rc = eid_keyset_add_anchors_file(kb, RAW_ISS, path,
		    err, sizeof(err))) != EID_OK)
			bench_fatal("%s: %s: %s", path, eid_strerror(rc), err);
		for (i = 0; i < BENCH_NALGS; i++) {
			ba = &bench_algs[i];
			common_path(path, sizeof(path), b->conf.certs,
			    common_devkey_base(ba->alg), ".chain.pem");
			if ((rc = eid_keyset_add_cert_file(kb, RAW_ISS, path,
			    ba->pin, err, sizeof(err))) != EID_OK)
				bench_fatal("%s: %s: %s", path,
				    eid_strerror(rc), err);
		}
	}
	if ((rc = eid_keyset_build(kb, &b->ks, err, sizeof(err))) != EID_OK)
		bench_fatal("key set: %s: %s", eid_strerror(rc), err);
	eid_keyset_builder_free(kb);
}

/* OpenSSL's default passphrase prompt, unlike common_key_read(). */
static EVP_PKEY *
bench_key_load(const char *path)
{
	EVP_PKEY	*k;
	FILE		*fp;

	if ((fp = fopen(path, "r")) == NULL)
		bench_fatal("%s: %s", path, strerror(errno));
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (k == NULL)
		bench_fatal("%s: not a PEM private key", path);
	return k;
}

/* Sign the one token of an algorithm and prepare both sides' inputs. */
static void
bench_case_init(struct bench *b, struct bench_case *c,
    const struct bench_alg *ba)
{
	EVP_PKEY	*priv;
	char		 path[4096];
	int		 m;

	memset(c, 0, sizeof(*c));
	c->ba = ba;
	common_path(path, sizeof(path), b->conf.certs,
	    common_devkey_base(ba->alg), ".key");
	priv = bench_key_load(path);
	raw_init(&c->raw, ba->alg, priv, path, b->now);
	EVP_PKEY_free(priv);

	for (m = 0; m < BENCH_NMETHODS; m++) {
		c->cpu_rate[m] = calloc((size_t)b->conf.rounds,
		    sizeof(double));
		c->wall_rate[m] = calloc((size_t)b->conf.rounds,
		    sizeof(double));
		if (c->cpu_rate[m] == NULL || c->wall_rate[m] == NULL)
			bench_fatal("out of memory");
	}
}

static void
bench_case_free(struct bench_case *c)
{
	int	 m;

	raw_free(&c->raw);
	for (m = 0; m < BENCH_NMETHODS; m++) {
		free(c->cpu_rate[m]);
		free(c->wall_rate[m]);
	}
}

/* --- the two measured operations -------------------------------------- */

static int
bench_lib_once(const struct bench *b, const struct bench_case *c)
{
	struct eid_assertion	 a;

	return eid_verify(b->ks, c->raw.token, c->raw.token_len, &b->req, &b->policy,
	    b->now, &a) == EID_VERDICT_OK ? 0 : -1;
}

/*
 * n operations back to back.  Every result is checked, so a verify that
 * starts failing mid-run (an expired token, a broken build) ends the
 * benchmark instead of timing the fast path of a rejection.
 */
static void
bench_batch(const struct bench *b, const struct bench_case *c,
    enum bench_method m, uint64_t n)
{
	uint64_t	 i;

	if (m == BENCH_LIB) {
		for (i = 0; i < n; i++)
			if (bench_lib_once(b, c) != 0)
				bench_fatal("%s: eid_verify stopped returning "
				    "OK", eid_alg_name(c->ba->alg));
	} else {
		for (i = 0; i < n; i++)
			if ((m == BENCH_RAW ? raw_verify(&c->raw) :
			    raw_verify_init(&c->raw)) != 0)
				bench_fatal("%s: raw OpenSSL verify stopped "
				    "returning 1", eid_alg_name(c->ba->alg));
	}
}

/* --- measurement ------------------------------------------------------ */

/* Check both sides once; a token the library refuses is a setup error. */
static void
bench_case_check(const struct bench *b, const struct bench_case *c)
{
	struct eid_assertion	 a;
	enum eid_verdict	 v;

	v = eid_verify(b->ks, c->raw.token, c->raw.token_len, &b->req, &b->policy,
	    b->now, &a);
	if (v != EID_VERDICT_OK)
		bench_fatal("%s: eid_verify of the minted token returned %s, "
		    "not OK (key set from %s in %s)", eid_alg_name(c->ba->alg),
		    eid_verdict_name(v), b->keysource, b->conf.certs);
	ERR_clear_error();
	if (raw_verify(&c->raw) != 0 || raw_verify_init(&c->raw) != 0)
		bench_fatal("%s: raw OpenSSL verify of the minted token "
		    "failed", eid_alg_name(c->ba->alg));
}

/*
 * Find a batch size of about BENCH_BATCH_NS by doubling; the doubling is
 * also the warm-up (caches, lazily initialised OpenSSL state).
 */
static void
bench_calibrate(const struct bench *b, struct bench_case *c,
    enum bench_method m)
{
	int64_t		 t0, dt;
	uint64_t	 n = 1;

	for (;;) {
		t0 = bench_clock_ns(CLOCK_MONOTONIC);
		bench_batch(b, c, m, n);
		dt = bench_clock_ns(CLOCK_MONOTONIC) - t0;
		if (dt >= BENCH_BATCH_NS || n >= (UINT64_C(1) << 30))
			break;
		n *= 2;
	}
	c->batch[m] = n;
}

static void
bench_round(const struct bench *b, struct bench_case *c,
    enum bench_method m, int round)
{
	int64_t		 w0, c0, w, deadline, cpu;
	uint64_t	 n = 0;

	w0 = bench_clock_ns(CLOCK_MONOTONIC);
	c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	deadline = w0 + (int64_t)(b->conf.seconds * 1e9);
	do {
		bench_batch(b, c, m, c->batch[m]);
		n += c->batch[m];
		w = bench_clock_ns(CLOCK_MONOTONIC);
	} while (w < deadline);
	cpu = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	/* A thread that ran can hardly have used no CPU; guard anyway. */
	if (cpu <= 0)
		cpu = 1;
	c->cpu_rate[m][round] = (double)n * 1e9 / (double)cpu;
	c->wall_rate[m][round] = (double)n * 1e9 / (double)(w - w0);
}

static int
bench_cmp_double(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void
bench_stat(const double *v, int n, struct bench_stat *st)
{
	double	*s;

	if ((s = malloc((size_t)n * sizeof(*s))) == NULL)
		bench_fatal("out of memory");
	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), bench_cmp_double);
	st->min = s[0];
	st->max = s[n - 1];
	st->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
}

/*
 * Rounds are interleaved (every algorithm and both methods in each
 * round) and the order of the two methods alternates between rounds, so
 * a burst of load from elsewhere, or a frequency change, falls on both
 * sides of a ratio alike instead of on whichever ran during it.
 */
static void
bench_run(struct bench *b)
{
	struct bench_case	*c;
	enum bench_method	 m;
	size_t			 i;
	int			 r, k;

	for (i = 0; i < b->ncases; i++)
		for (k = 0; k < BENCH_NMETHODS; k++)
			bench_calibrate(b, &b->cases[i],
			    (enum bench_method)k);
	for (r = 0; r < b->conf.rounds; r++) {
		for (i = 0; i < b->ncases; i++)
			for (k = 0; k < BENCH_NMETHODS; k++) {
				m = (enum bench_method)((k + r + (int)i) %
				    BENCH_NMETHODS);
				bench_round(b, &b->cases[i], m, r);
			}
		if (!b->conf.json && isatty(fileno(stderr)))
			fprintf(stderr, "\rround %d/%d", r + 1,
			    b->conf.rounds);
	}
	if (!b->conf.json && isatty(fileno(stderr)))
		fputc('\n', stderr);

	b->all_met = true;
	for (i = 0; i < b->ncases; i++) {
		c = &b->cases[i];
		for (k = 0; k < BENCH_NMETHODS; k++) {
			bench_stat(c->cpu_rate[k], b->conf.rounds, &c->cpu[k]);
			bench_stat(c->wall_rate[k], b->conf.rounds,
			    &c->wall[k]);
		}
		c->ratio = c->cpu[BENCH_LIB].median / c->cpu[BENCH_RAW].median;
		c->wall_ratio = c->wall[BENCH_LIB].median /
		    c->wall[BENCH_RAW].median;
		c->met = c->ratio >= c->ba->goal;
		if (!c->met)
			b->all_met = false;
	}
}

/* --- the record: machine, date ---------------------------------------- */

static void
bench_machine(struct bench *b)
{
	FILE		*fp;
	char		 line[512], *p, *e;
	struct tm	 tm;
	time_t		 t;

	snprintf(b->cpu_model, sizeof(b->cpu_model), "unknown CPU");
	if ((fp = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			if (strncmp(line, "model name", 10) != 0 ||
			    (p = strchr(line, ':')) == NULL)
				continue;
			for (p++; *p == ' ' || *p == '\t'; p++)
				;
			if ((e = strchr(p, '\n')) != NULL)
				*e = '\0';
			snprintf(b->cpu_model, sizeof(b->cpu_model), "%s", p);
			break;
		}
		fclose(fp);
	}
	b->cores = sysconf(_SC_NPROCESSORS_ONLN);
	t = time(NULL);
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(b->date, sizeof(b->date), "%Y-%m-%d %H:%M UTC",
	    &tm) == 0)
		snprintf(b->date, sizeof(b->date), "unknown date");
}

/* --- reports ---------------------------------------------------------- */

static void
bench_print(const struct bench *b)
{
	const struct bench_case	*c;
	size_t			 i;

	bench_say(b, "%s: %d interleaved rounds of %.2f s per algorithm "
	    "and method, one thread\n", BENCH_PROG, b->conf.rounds,
	    b->conf.seconds);
	bench_say(b, "library: eid_verify() against a key set from %s; "
	    "raw: EVP_Digest + EVP_PKEY_verify (EdDSA: EVP_DigestVerify) "
	    "on a pre-parsed key and prepared context; +init: "
	    "EVP_DigestVerifyInit per token\n",
	    b->keysource);
	bench_say(b, "rates are verifies per CPU-second of this thread "
	    "(CLOCK_THREAD_CPUTIME_ID), median [min-max] of the rounds\n\n");
	bench_say(b, "%-6s %26s %26s %9s %6s %5s %4s %8s %9s %11s\n", "alg",
	    "library/s", "raw OpenSSL/s", "+init/s", "ratio", "goal", "met",
	    "+us/tok", "wallratio", "ratio+init");
	for (i = 0; i < b->ncases; i++) {
		c = &b->cases[i];
		bench_say(b, "%-6s %8.0f [%7.0f-%7.0f] %8.0f [%7.0f-%7.0f] "
		    "%9.0f %6.3f %5.2f %4s %8.2f %9.3f %11.3f\n",
		    eid_alg_name(c->ba->alg),
		    c->cpu[BENCH_LIB].median, c->cpu[BENCH_LIB].min,
		    c->cpu[BENCH_LIB].max, c->cpu[BENCH_RAW].median,
		    c->cpu[BENCH_RAW].min, c->cpu[BENCH_RAW].max,
		    c->cpu[BENCH_RAW_INIT].median, c->ratio,
		    c->ba->goal, c->met ? "yes" : "NO",
		    1e6 / c->cpu[BENCH_LIB].median -
		    1e6 / c->cpu[BENCH_RAW].median, c->wall_ratio,
		    c->cpu[BENCH_LIB].median / c->cpu[BENCH_RAW_INIT].median);
	}
	bench_say(b, "\n+us/tok: CPU microseconds the library spends per "
	    "token beyond the raw verify\n");
	bench_say(b, "machine: %s, %ld cores; %s; %s\n", b->cpu_model,
	    b->cores, b->date, OpenSSL_version(OPENSSL_VERSION));
	for (i = 0; i < b->ncases; i++) {
		c = &b->cases[i];
		if (!c->met)
			bench_say(b, "goal missed: %s library/raw %.3f < "
			    "%.2f\n", eid_alg_name(c->ba->alg), c->ratio,
			    c->ba->goal);
	}
	if (b->all_met)
		bench_say(b, "all goals met\n");
}

static json_t *
bench_json_stat(const struct bench_stat *cpu, const struct bench_stat *wall)
{
	return json_pack("{s:f, s:f, s:f, s:f}", "median", cpu->median,
	    "min", cpu->min, "max", cpu->max, "wall_median", wall->median);
}

static void
bench_json(const struct bench *b)
{
	const struct bench_case	*c;
	json_t			*o, *res, *e;
	size_t			 i;

	if ((res = json_array()) == NULL)
		bench_fatal("out of memory");
	for (i = 0; i < b->ncases; i++) {
		c = &b->cases[i];
		e = json_pack("{s:s, s:o, s:o, s:o, s:f, s:f, s:f, s:f, s:b}",
		    "alg", eid_alg_name(c->ba->alg),
		    "library", bench_json_stat(&c->cpu[BENCH_LIB],
		    &c->wall[BENCH_LIB]),
		    "raw", bench_json_stat(&c->cpu[BENCH_RAW],
		    &c->wall[BENCH_RAW]),
		    "raw_init_per_token", bench_json_stat(
		    &c->cpu[BENCH_RAW_INIT], &c->wall[BENCH_RAW_INIT]),
		    "ratio", c->ratio, "wall_ratio", c->wall_ratio,
		    "overhead_us", 1e6 / c->cpu[BENCH_LIB].median -
		    1e6 / c->cpu[BENCH_RAW].median,
		    "goal", c->ba->goal, "met", c->met);
		if (e == NULL || json_array_append_new(res, e) != 0)
			bench_fatal("out of memory");
	}
	o = json_pack("{s:i, s:f, s:s, s:s, s:{s:s, s:I}, s:s, s:s, s:s, "
	    "s:o, s:b}",
	    "rounds", b->conf.rounds, "seconds_per_round", b->conf.seconds,
	    "rate_unit", "verifies per thread CPU-second",
	    "keyset", b->keysource,
	    "machine", "cpu", b->cpu_model, "cores", (json_int_t)b->cores,
	    "date", b->date, "openssl", OpenSSL_version(OPENSSL_VERSION),
	    "command", b->conf.command, "results", res,
	    "all_goals_met", b->all_met);
	if (o == NULL)
		bench_fatal("out of memory");
	if (json_dumpf(o, stdout, JSON_PRESERVE_ORDER | JSON_COMPACT) != 0)
		bench_fatal("stdout: cannot write");
	putchar('\n');
	json_decref(o);
}

/* A rate in groups of three digits, "12 345", readable in any renderer. */
static void
bench_fmt_rate(char *out, size_t outlen, double rate)
{
	char		 digits[32];
	size_t		 n, i, o = 0;

	n = (size_t)snprintf(digits, sizeof(digits), "%.0f", rate);
	if (n >= sizeof(digits) || n * 2 >= outlen) {
		snprintf(out, outlen, "%.0f", rate);
		return;
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && (n - i) % 3 == 0)
			out[o++] = ' ';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* The section between the markers, markers excluded.  Malloc'd. */
static char *
bench_section(const struct bench *b)
{
	const struct bench_case	*c;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;
	char			 med[BENCH_NMETHODS][32], lo[BENCH_NMETHODS][32],
				 hi[BENCH_NMETHODS][32];
	size_t			 i;
	int			 k;

	if ((fp = open_memstream(&buf, &len)) == NULL)
		bench_fatal("out of memory");
	fprintf(fp, "| algorithm | library verifies/s | raw OpenSSL "
	    "verifies/s | ratio | goal | met? | raw, init per token/s | "
	    "ratio to it |\n");
	fprintf(fp, "|---|--:|--:|--:|--:|:-:|--:|--:|\n");
	for (i = 0; i < b->ncases; i++) {
		c = &b->cases[i];
		for (k = 0; k < BENCH_NMETHODS; k++) {
			bench_fmt_rate(med[k], sizeof(med[k]),
			    c->cpu[k].median);
			bench_fmt_rate(lo[k], sizeof(lo[k]), c->cpu[k].min);
			bench_fmt_rate(hi[k], sizeof(hi[k]), c->cpu[k].max);
		}
		fprintf(fp, "| %s | %s (%s–%s) | %s (%s–%s) | %.2f | "
		    "≥ %.2f | %s | %s | %.2f |\n", eid_alg_name(c->ba->alg),
		    med[BENCH_LIB], lo[BENCH_LIB], hi[BENCH_LIB],
		    med[BENCH_RAW], lo[BENCH_RAW], hi[BENCH_RAW], c->ratio,
		    c->ba->goal, c->met ? "yes" : "**no**",
		    med[BENCH_RAW_INIT], c->cpu[BENCH_LIB].median /
		    c->cpu[BENCH_RAW_INIT].median);
	}
	fprintf(fp, "\nRates are verifies per CPU-second of the benchmark "
	    "thread (CLOCK_THREAD_CPUTIME_ID): the median of %d interleaved "
	    "rounds of %.2f s, with the rounds' min–max in parentheses; the "
	    "ratio is library median / raw median.  Library: `eid_verify()` "
	    "with the key set built from the development %s.  Raw: "
	    "`EVP_Digest` of the signing input and `EVP_PKEY_verify` of the "
	    "digest (EdDSA: `EVP_DigestVerify`) on a pre-parsed key and a "
	    "prepared context duplicated per token, the calls `crypto/sig.c` "
	    "makes, same signing input and "
	    "signature; the goals are judged against it.  Raw, init per "
	    "token: the same with `EVP_DigestVerifyInit` per token, as most "
	    "applications call it.\n\n", b->conf.rounds, b->conf.seconds,
	    strcmp(b->keysource, "jwks") == 0 ? "JWKS" : "certificates");
	fprintf(fp, "Machine: %s, %ld cores; date: %s; %s; command: `%s`.\n",
	    b->cpu_model, b->cores, b->date,
	    OpenSSL_version(OPENSSL_VERSION), b->conf.command);
	if (fclose(fp) != 0 || buf == NULL)
		bench_fatal("out of memory");
	return buf;
}

/* The whole file, NUL-terminated, or NULL if it does not exist. */
static char *
bench_read_file(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	size_t	 n;

	if ((fp = fopen(path, "r")) == NULL) {
		if (errno == ENOENT)
			return NULL;
		bench_fatal("%s: %s", path, strerror(errno));
	}
	if ((buf = malloc(BENCH_DOC_MAX + 1)) == NULL)
		bench_fatal("out of memory");
	n = fread(buf, 1, BENCH_DOC_MAX + 1, fp);
	if (ferror(fp))
		bench_fatal("%s: read error", path);
	fclose(fp);
	if (n > BENCH_DOC_MAX)
		bench_fatal("%s: larger than %d bytes", path, BENCH_DOC_MAX);
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

/* A marker counts only as a whole line of its own. */
static char *
bench_find_line(char *text, const char *line)
{
	char	*p = text;
	size_t	 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return p;
		p += n;
	}
	return NULL;
}

/*
 * Replace the text between the marker lines, keeping everything else of
 * the file byte for byte.  The new file is written beside the old one and
 * renamed over it, so a reader (or a crash) sees the old file or the new
 * one, never half of either.
 */
static void
bench_update(const struct bench *b, const char *path)
{
	char		*old, *section, *tmp, *begin, *end, *body;
	const char	*pre, *post;
	size_t		 oldlen = 0, prelen, n;
	struct stat	 st;
	mode_t		 mode = 0644;
	FILE		*fp;
	int		 fd;

	section = bench_section(b);
	old = bench_read_file(path, &oldlen);
	if (old != NULL && stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	if (old != NULL && (begin = bench_find_line(old,
	    BENCH_MARK_BEGIN)) != NULL) {
		body = begin + strlen(BENCH_MARK_BEGIN);
		if (*body == '\n')
			body++;
		if ((end = bench_find_line(body, BENCH_MARK_END)) == NULL)
			bench_fatal("%s: \"%s\" without \"%s\" after it", path,
			    BENCH_MARK_BEGIN, BENCH_MARK_END);
		pre = old;
		prelen = (size_t)(body - old);
		post = end;
	} else {
		pre = old != NULL ? old : "";
		prelen = oldlen;
		post = NULL;
	}

	n = strlen(path) + sizeof(".XXXXXX");
	if ((tmp = malloc(n)) == NULL)
		bench_fatal("out of memory");
	snprintf(tmp, n, "%s.XXXXXX", path);
	if ((fd = mkstemp(tmp)) == -1)
		bench_fatal("%s: %s", tmp, strerror(errno));
	if ((fp = fdopen(fd, "w")) == NULL)
		bench_fatal("%s: %s", tmp, strerror(errno));
	fwrite(pre, 1, prelen, fp);
	if (post != NULL) {
		fputs(section, fp);
		fputs(post, fp);
	} else {
		/* No markers yet: append a section that has them. */
		if (prelen > 0 && pre[prelen - 1] != '\n')
			fputc('\n', fp);
		fprintf(fp, "%s## Verification rate (bench-verify)\n\n"
		    "%s\n%s%s\n", prelen > 0 ? "\n" : "", BENCH_MARK_BEGIN,
		    section, BENCH_MARK_END);
	}
	if (fflush(fp) != 0 || ferror(fp) || fchmod(fd, mode) != 0 ||
	    fsync(fd) != 0) {
		unlink(tmp);
		bench_fatal("%s: %s", tmp, strerror(errno));
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		bench_fatal("%s: %s", path, strerror(errno));
	}
	bench_say(b, "updated %s\n", path);
	free(tmp);
	free(old);
	free(section);
}

int
main(int argc, char **argv)
{
	struct bench	 b;
	size_t		 i;

	common_setprog(BENCH_PROG);
	memset(&b, 0, sizeof(b));
	bench_conf_parse(&b.conf, argc, argv);
	b.now = (int64_t)time(NULL);
	b.policy.leeway_s = EID_POLICY_LEEWAY_DEFAULT;
	b.policy.max_lifetime_s = EID_POLICY_LIFETIME_DEFAULT;
	b.req.audience = RAW_AUD;
	b.req.min_level = 2;
	b.req.nonce = NULL;

	bench_keyset_load(&b);
	for (i = 0; i < BENCH_NALGS; i++) {
		if (b.conf.only != EID_ALG_NONE &&
		    bench_algs[i].alg != b.conf.only)
			continue;
		bench_case_init(&b, &b.cases[b.ncases], &bench_algs[i]);
		bench_case_check(&b, &b.cases[b.ncases]);
		b.ncases++;
	}
	bench_machine(&b);

	bench_run(&b);

	bench_print(&b);
	if (b.conf.update != NULL)
		bench_update(&b, b.conf.update);
	if (b.conf.json)
		bench_json(&b);

	for (i = 0; i < b.ncases; i++)
		bench_case_free(&b.cases[i]);
	eid_keyset_unref(b.ks);
	free(b.conf.command);
	return 0;
}
