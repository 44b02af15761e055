/*
 * load/merge.c -- see merge.h.  A load test of a national service needs
 * more than one generator machine, and their reports must be added up
 * right: counts add, rates of runs that overlapped add, and a tail
 * latency is a percentile of all the answers together, which no average
 * of the runs' p99s gives.  Each report carries its window's latencies as
 * an HdrHistogram (hdr.h), so the merged percentiles are as precise as
 * each run's own.
 *
 * Reports are files and so untrusted: each is bounded in size, every
 * member used is checked for its type and range, and a report that
 * fails is named in a one-line error (exit 2) before anything is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
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

#include "common.h"
#include "hdr.h"
#include "hist.h"
#include "merge.h"

#define MERGE_PROG		"eid-load"
/* A report of an hour's run is well under 2 MiB (its timeline). */
#define MERGE_MAX_FILE		(16 * 1024 * 1024)
/* Unix milliseconds and counts beyond this are not a report's. */
#define MERGE_MAX_MS		(INT64_C(1) << 53)
#define MERGE_MAX_REPORTS	1024
#define MERGE_EXIT_ERRORS	1
#define MERGE_EXIT_USAGE	2
/* Below this share of common window, the runs were not one load. */
#define MERGE_OVERLAP_WARN	0.9

/* The counters that add up, in the order of a report. */
static const char *const merge_counts[] = {
	"requests", "frames", "answers", "errors", "mismatches", "cache_hits"
};
#define MERGE_NCOUNTS	(sizeof(merge_counts) / sizeof(merge_counts[0]))
/* The objects of counts that add up key by key. */
static const char *const merge_maps[] = {
	"errors_by_kind", "verdicts", "expected_verdicts"
};
#define MERGE_NMAPS	(sizeof(merge_maps) / sizeof(merge_maps[0]))

struct merge {
	const char	*json;		/* --json */
	const char	*hist;		/* --hist */
	const char	*name;		/* --name */
	const char	**files;
	size_t		 nfiles;
	json_t		**reports;	/* what "merged" lists of each */
	struct stat	*ids;		/* each file's device and inode */
	struct hist	*lat;
	struct hist	*hs;		/* --reconnect's handshakes */
	uint64_t	 counts[MERGE_NCOUNTS];
	uint64_t	 handshakes;
	uint64_t	 hs_failures;
	uint64_t	 hs_failures_warm;
	double		 hs_rate;
	json_t		*maps[MERGE_NMAPS];
	double		 rate;
	double		 duration;	/* the longest run's */
	double		 start, end;	/* the windows' union, Unix time */
	double		 last_start;	/* the part all of them share */
	double		 first_end;
	bool		 windows;	/* every report has its window */
	bool		 nowindow;	/* one had none */
	const char	*latency_of, *latency_from;
	uint64_t	 warmup_errors;
};

static void
merge_usage(FILE *fp)
{
	fprintf(fp, "usage: %s --merge [--json FILE] [--hist FILE] "
	    "[--name NAME] REPORT...\n\n"
	    "Merge the JSON reports (--json) of eid-load runs that loaded a "
	    "service at the\nsame time, from several machines: counts and "
	    "rates add up, and the latency\npercentiles come from the runs' "
	    "histograms merged.\n\n"
	    "  --json FILE    write the merged report as JSON (\"-\": "
	    "standard output)\n"
	    "  --hist FILE    write the merged latency distribution in "
	    "HdrHistogram's .hgrm form\n"
	    "  --name NAME    label of the merged report\n\n"
	    "Exit status: 0 when no run had an error or mismatch, 1 if one "
	    "had, 2 on a usage\nerror or a report that cannot be merged.\n",
	    MERGE_PROG);
}

static void __attribute__((format(printf, 1, 2), noreturn))
merge_fail(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "%s: ", MERGE_PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(MERGE_EXIT_USAGE);
}

/* "--opt VALUE" or "--opt=VALUE" at argv[*i]; NULL if not opt. */
static const char *
merge_optarg(int argc, char **argv, int *i, const char *opt)
{
	const char	*v;
	bool		 missing;

	v = common_optarg(argc, argv, i, opt, &missing);
	if (missing)
		merge_fail("%s needs a value (see %s --merge --help)", opt,
		    MERGE_PROG);
	return v;
}

static void
merge_args(int argc, char **argv, struct merge *m)
{
	const char	*v;
	bool		 opts = true;
	int		 i;

	if ((m->files = calloc((size_t)argc, sizeof(*m->files))) == NULL)
		merge_fail("out of memory");
	for (i = 1; i < argc; i++) {
		if (opts && strcmp(argv[i], "--") == 0) {
			opts = false;
		} else if (opts && (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)) {
			merge_usage(stdout);
			exit(0);
		} else if (opts && (v = merge_optarg(argc, argv, &i,
		    "--json")) != NULL) {
			m->json = v;
		} else if (opts && (v = merge_optarg(argc, argv, &i,
		    "--hist")) != NULL) {
			m->hist = v;
		} else if (opts && (v = merge_optarg(argc, argv, &i,
		    "--name")) != NULL) {
			m->name = v;
		} else if (opts && argv[i][0] == '-' && argv[i][1] != '\0') {
			merge_fail("unknown option with --merge: %s (see %s "
			    "--merge --help)", argv[i], MERGE_PROG);
		} else {
			m->files[m->nfiles++] = argv[i];
		}
	}
	if (m->nfiles == 0)
		merge_fail("--merge needs at least one report (see %s "
		    "--merge --help)", MERGE_PROG);
	if (m->nfiles > MERGE_MAX_REPORTS)
		merge_fail("--merge takes at most %d reports",
		    MERGE_MAX_REPORTS);
	if ((m->json != NULL && m->hist != NULL && strcmp(m->json, "-") ==
	    0 && strcmp(m->hist, "-") == 0))
		merge_fail("--json and --hist cannot both be standard output");
}

/*
 * The report in path, or a one-line failure: a regular file (a FIFO
 * would block; opened without waiting to find out), not one given
 * before, and read to at most MERGE_MAX_FILE bytes whatever its size
 * says, since a file may grow while it is read.  st gets its identity.
 */
static json_t *
merge_load(const char *path, struct stat *st, const struct stat *seen,
    size_t nseen)
{
	json_error_t	 jerr;
	json_t		*r;
	char		*buf;
	size_t		 len = 0, i;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1)
		merge_fail("%s: %s", path, strerror(errno));
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
		merge_fail("%s: not a regular file", path);
	for (i = 0; i < nseen; i++)
		if (seen[i].st_dev == st->st_dev &&
		    seen[i].st_ino == st->st_ino)
			merge_fail("%s: given twice: its runs would count "
			    "twice", path);
	if ((buf = malloc(MERGE_MAX_FILE + 1)) == NULL)
		merge_fail("out of memory");
	while (len <= MERGE_MAX_FILE && (n = read(fd, buf + len,
	    MERGE_MAX_FILE + 1 - len)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			merge_fail("%s: %s", path, strerror(errno));
		len += (size_t)n;
	}
	close(fd);
	if (len > MERGE_MAX_FILE)
		merge_fail("%s: larger than %d MiB, not a report", path,
		    MERGE_MAX_FILE / (1024 * 1024));
	r = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (r == NULL)
		merge_fail("%s: line %d: %s", path, jerr.line, jerr.text);
	if (!json_is_object(r) || !json_is_string(json_object_get(r,
	    "tool")) || strcmp(json_string_value(json_object_get(r, "tool")),
	    MERGE_PROG) != 0)
		merge_fail("%s: not an eid-load report", path);
	return r;
}

/* A member that must be a non-negative integer. */
static uint64_t
merge_count(const char *path, json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		merge_fail("%s: \"%s\" is not a count", path, key);
	return (uint64_t)json_integer_value(v);
}

/* Add v to *sum; the sum must stay a JSON integer (at most 2^63 - 1). */
static void
merge_add(const char *path, const char *key, uint64_t *sum, uint64_t v)
{
	if (v > (uint64_t)INT64_MAX - *sum)
		merge_fail("%s: \"%s\" adds up past 2^63", path, key);
	*sum += v;
}

/* A member that must be a finite number, at least 0. */
static double
merge_number(const char *path, json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);
	double	 d;

	if (!json_is_number(v) || !isfinite(d = json_number_value(v)) ||
	    d < 0)
		merge_fail("%s: \"%s\" is not a number of at least 0", path,
		    key);
	return d;
}

/*
 * A member that must be one of two strings, and the same in every
 * report; returns the constant that matches, so that nothing points into
 * a report once it is freed.
 */
static const char *
merge_same(const char *path, json_t *r, const char *key, const char *a,
    const char *b, const char *prev)
{
	json_t		*v = json_object_get(r, key);
	const char	*s, *c;

	if (!json_is_string(v))
		merge_fail("%s: \"%s\" is not a string", path, key);
	s = json_string_value(v);
	if (strcmp(s, a) == 0)
		c = a;
	else if (strcmp(s, b) == 0)
		c = b;
	else
		merge_fail("%s: \"%s\" is neither \"%s\" nor \"%s\"", path,
		    key, a, b);
	if (prev != NULL && c != prev)
		merge_fail("%s: latency %s \"%s\", another report's \"%s\": "
		    "such latencies do not merge", path, key + 8, c, prev);
	return c;
}

/* Add an object of counts to the merged one, key by key. */
static void
merge_map(const char *path, json_t *r, const char *key, json_t *sum)
{
	json_t		*o = json_object_get(r, key), *v, *s;
	const char	*k;
	uint64_t	 t;

	if (!json_is_object(o))
		merge_fail("%s: \"%s\" is not an object", path, key);
	json_object_foreach(o, k, v) {
		/* Names of verdicts and error kinds; printed as they are. */
		if (k[0] == '\0' || strlen(k) > 64 || strspn(k,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_:-") != strlen(k))
			merge_fail("%s: \"%s\" holds a name that is not a "
			    "verdict or an error kind", path, key);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			merge_fail("%s: \"%s\" of \"%s\" is not a count", path,
			    k, key);
		t = (uint64_t)json_integer_value(v);
		if ((s = json_object_get(sum, k)) != NULL)
			merge_add(path, key, &t,
			    (uint64_t)json_integer_value(s));
		json_object_set_new(sum, k, json_integer((json_int_t)t));
	}
}

/* The members of a run that "merged" lists, copied from r. */
static json_t *
merge_brief(const char *path, json_t *r)
{
	json_t		*o = json_object(), *v;
	const char	*keys[] = { "name", "server", "requests", "errors",
			    "rate", "p99" };
	size_t		 i;

	if (o == NULL)
		merge_fail("out of memory");
	json_object_set_new(o, "file", json_string(path));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		v = json_object_get(r, keys[i]);
		json_object_set_new(o, keys[i], v != NULL && (json_is_string(v) ||
		    json_is_number(v)) ? json_deep_copy(v) : json_null());
	}
	return o;
}

/*
 * --reconnect's figures, which reports of eid-load before it lack: the
 * handshakes add up, and so do their histograms.
 */
static void
merge_handshakes(struct merge *m, const char *path, json_t *r)
{
	json_t	*w = json_object_get(r, "warmup"), *h;
	char	 err[256];

	if (json_object_get(r, "handshakes") != NULL)
		merge_add(path, "handshakes", &m->handshakes,
		    merge_count(path, r, "handshakes"));
	if (json_object_get(r, "handshake_failures") != NULL)
		merge_add(path, "handshake_failures", &m->hs_failures,
		    merge_count(path, r, "handshake_failures"));
	if (w != NULL && json_object_get(w, "handshake_failures") != NULL)
		merge_add(path, "warmup handshake_failures",
		    &m->hs_failures_warm,
		    merge_count(path, w, "handshake_failures"));
	if (json_object_get(r, "handshake_rate") != NULL) {
		m->hs_rate += merge_number(path, r, "handshake_rate");
		if (!isfinite(m->hs_rate))
			merge_fail("%s: \"handshake_rate\" adds up past any "
			    "rate", path);
	}
	if ((h = json_object_get(r, "handshake_histogram_ns")) == NULL)
		return;
	if (!json_is_string(h))
		merge_fail("%s: \"handshake_histogram_ns\" is not a string",
		    path);
	if (hdr_decode(json_string_value(h), json_string_length(h), m->hs,
	    err, sizeof(err)) != 0)
		merge_fail("%s: handshake_histogram_ns: %s", path, err);
}

/* Add report r, of file n, to m; r is not kept. */
static void
merge_report(struct merge *m, size_t n, json_t *r)
{
	const char	*path = m->files[n];
	json_t		*h, *w;
	double		 s, e;
	char		 err[256];
	uint64_t	 ms[2];
	size_t		 i;

	for (i = 0; i < MERGE_NCOUNTS; i++)
		merge_add(path, merge_counts[i], &m->counts[i],
		    merge_count(path, r, merge_counts[i]));
	for (i = 0; i < MERGE_NMAPS; i++)
		merge_map(path, r, merge_maps[i], m->maps[i]);
	/* A run's exit status counts its warm-up's errors; so does this. */
	if ((w = json_object_get(r, "warmup")) != NULL &&
	    json_object_get(w, "errors") != NULL)
		merge_add(path, "warmup errors", &m->warmup_errors,
		    merge_count(path, w, "errors"));
	merge_handshakes(m, path, r);
	m->rate += merge_number(path, r, "rate");
	if (!isfinite(m->rate))
		merge_fail("%s: \"rate\" adds up past any rate", path);
	if ((s = merge_number(path, r, "duration_s")) > m->duration)
		m->duration = s;
	m->latency_of = merge_same(path, r, "latency_of", "request", "frame",
	    m->latency_of);
	m->latency_from = merge_same(path, r, "latency_from", "send time",
	    "intended send time", m->latency_from);
	h = json_object_get(r, "histogram_ns");
	if (!json_is_string(h))
		merge_fail("%s: no \"histogram_ns\" (a report of an older "
		    "eid-load?)", path);
	if (hdr_decode(json_string_value(h), json_string_length(h), m->lat,
	    err, sizeof(err)) != 0)
		merge_fail("%s: %s", path, err);
	m->reports[n] = merge_brief(path, r);
	/* The windows: their union, and what all of them share. */
	if (!json_is_integer(json_object_get(r, "window_start_unix_ms")) ||
	    !json_is_integer(json_object_get(r, "window_end_unix_ms"))) {
		m->windows = false;
		m->nowindow = true;
		return;
	}
	ms[0] = merge_count(path, r, "window_start_unix_ms");
	ms[1] = merge_count(path, r, "window_end_unix_ms");
	if (ms[0] > MERGE_MAX_MS || ms[1] > MERGE_MAX_MS || ms[1] < ms[0])
		merge_fail("%s: the window is not one of a run", path);
	s = (double)ms[0] / 1e3;
	e = (double)ms[1] / 1e3;
	if (m->nowindow)
		return;
	if (n == 0) {
		m->start = m->last_start = s;
		m->end = m->first_end = e;
		m->windows = true;
		return;
	}
	if (!m->windows)
		return;
	m->start = fmin(m->start, s);
	m->end = fmax(m->end, e);
	m->last_start = fmax(m->last_start, s);
	m->first_end = fmin(m->first_end, e);
}

static double
merge_us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static double
merge_overlap(const struct merge *m)
{
	if (!m->windows)
		return -1;
	if (m->end <= m->start)
		return 1;
	return m->first_end > m->last_start ? (m->first_end -
	    m->last_start) / (m->end - m->start) : 0;
}

static json_t *
merge_json(const struct merge *m)
{
	json_t		*r, *a;
	double		 ov = merge_overlap(m);
	size_t		 i;
	char		*enc;
	bool		 hs;

	r = json_object();
	json_object_set_new(r, "tool", json_string(MERGE_PROG));
	json_object_set_new(r, "name", m->name != NULL ?
	    json_string(m->name) : json_null());
	a = json_array();
	for (i = 0; i < m->nfiles; i++)
		json_array_append(a, m->reports[i]);
	json_object_set_new(r, "merged", a);
	/* Open-loop latencies count from the intended send time. */
	json_object_set_new(r, "mode", json_string(strcmp(m->latency_from,
	    "send time") == 0 ? "closed" : "open"));
	json_object_set_new(r, "window_start_unix_ms", m->windows ?
	    json_integer((json_int_t)llround(m->start * 1e3)) : json_null());
	json_object_set_new(r, "window_end_unix_ms", m->windows ?
	    json_integer((json_int_t)llround(m->end * 1e3)) : json_null());
	json_object_set_new(r, "windows_overlap", ov >= 0 ? json_real(ov) :
	    json_null());
	json_object_set_new(r, "duration_s", json_real(m->windows ?
	    m->end - m->start : m->duration));
	/* In the order of a run's report. */
	for (i = 0; i < 4; i++)
		json_object_set_new(r, merge_counts[i],
		    json_integer((json_int_t)m->counts[i]));
	json_object_set(r, merge_maps[0], m->maps[0]);
	json_object_set_new(r, "warmup_errors",
	    json_integer((json_int_t)m->warmup_errors));
	json_object_set_new(r, merge_counts[4],
	    json_integer((json_int_t)m->counts[4]));
	json_object_set(r, merge_maps[1], m->maps[1]);
	json_object_set(r, merge_maps[2], m->maps[2]);
	json_object_set_new(r, merge_counts[5],
	    json_integer((json_int_t)m->counts[5]));
	json_object_set_new(r, "cache_hit_ratio", json_real(m->counts[2] >
	    0 ? (double)m->counts[5] / (double)m->counts[2] : 0.0));
	json_object_set_new(r, "rate", json_real(m->rate));
	json_object_set_new(r, "latency_unit", json_string("us"));
	json_object_set_new(r, "latency_of", json_string(m->latency_of));
	json_object_set_new(r, "latency_from", json_string(m->latency_from));
	json_object_set_new(r, "min", json_real(merge_us(hist_min(m->lat))));
	json_object_set_new(r, "mean", json_real(hist_mean(m->lat) / 1e3));
	json_object_set_new(r, "p50", json_real(merge_us(hist_value_at(m->lat,
	    50.0))));
	json_object_set_new(r, "p90", json_real(merge_us(hist_value_at(m->lat,
	    90.0))));
	json_object_set_new(r, "p99", json_real(merge_us(hist_value_at(m->lat,
	    99.0))));
	json_object_set_new(r, "p999", json_real(merge_us(
	    hist_value_at(m->lat, 99.9))));
	json_object_set_new(r, "max", json_real(merge_us(hist_max(m->lat))));
	hs = hist_count(m->hs) > 0;
	json_object_set_new(r, "handshakes",
	    json_integer((json_int_t)m->handshakes));
	json_object_set_new(r, "handshake_failures",
	    json_integer((json_int_t)m->hs_failures));
	json_object_set_new(r, "warmup_handshake_failures",
	    json_integer((json_int_t)m->hs_failures_warm));
	json_object_set_new(r, "handshake_rate", json_real(m->hs_rate));
	json_object_set_new(r, "handshake_p50", hs ? json_real(merge_us(
	    hist_value_at(m->hs, 50.0))) : json_null());
	json_object_set_new(r, "handshake_p99", hs ? json_real(merge_us(
	    hist_value_at(m->hs, 99.0))) : json_null());
	json_object_set_new(r, "handshake_max", hs ? json_real(merge_us(
	    hist_max(m->hs))) : json_null());
	if ((enc = hdr_encode(m->hs)) == NULL) {
		json_decref(r);
		return NULL;
	}
	json_object_set_new(r, "handshake_histogram_ns", json_string(enc));
	free(enc);
	if ((enc = hdr_encode(m->lat)) == NULL) {
		json_decref(r);
		return NULL;
	}
	json_object_set_new(r, "histogram_ns", json_string(enc));
	free(enc);
	return r;
}

static void
merge_summary(const struct merge *m, FILE *fp)
{
	const char	*k;
	json_t		*v;
	double		 ov = merge_overlap(m);
	time_t		 t;
	struct tm	 tm;
	char		 when[32];
	size_t		 i;

	fprintf(fp, "%s%s%s: %zu reports merged: %" PRIu64 " requests, "
	    "%.0f req/s (the runs' rates added), %" PRIu64 " errors",
	    MERGE_PROG, m->name != NULL ? " " : "", m->name != NULL ?
	    m->name : "", m->nfiles, m->counts[0], m->rate, m->counts[3]);
	if (m->warmup_errors > 0)
		fprintf(fp, " (and %" PRIu64 " in the warm-ups)",
		    m->warmup_errors);
	fputc('\n', fp);
	if (ov >= 0) {
		t = (time_t)m->start;
		if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when),
		    "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
			snprintf(when, sizeof(when), "?");
		fprintf(fp, "  windows: %.2f s from %s, all the runs together "
		    "for %.0f%% of it%s\n", m->end - m->start, when, 100 * ov,
		    ov < MERGE_OVERLAP_WARN ? " (too little for one load: "
		    "the rate added up is not one load's)" : "");
	} else {
		fprintf(fp, "  windows: unknown (a report without "
		    "window_start_unix_ms)\n");
	}
	for (i = 0; i < m->nfiles; i++)
		fprintf(fp, "  %s: %" JSON_INTEGER_FORMAT " requests, %.0f "
		    "req/s, %" JSON_INTEGER_FORMAT " errors\n", m->files[i],
		    json_integer_value(json_object_get(m->reports[i],
		    "requests")), json_number_value(json_object_get(
		    m->reports[i], "rate")), json_integer_value(
		    json_object_get(m->reports[i], "errors")));
	fprintf(fp, "  verdicts:");
	json_object_foreach(m->maps[1], k, v)
		fprintf(fp, " %s %" JSON_INTEGER_FORMAT, k,
		    json_integer_value(v));
	fprintf(fp, "; cache hits %.1f%%\n", m->counts[2] > 0 ? 100.0 *
	    (double)m->counts[5] / (double)m->counts[2] : 0.0);
	if (m->handshakes > 0 || m->hs_failures > 0 ||
	    m->hs_failures_warm > 0) {
		fprintf(fp, "  reconnects: %" PRIu64 " handshakes (%.0f/s, the "
		    "runs' rates added), %" PRIu64 " failed", m->handshakes,
		    m->hs_rate, m->hs_failures);
		if (m->hs_failures_warm > 0)
			fprintf(fp, " (and %" PRIu64 " in the warm-ups)",
			    m->hs_failures_warm);
		if (hist_count(m->hs) > 0)
			fprintf(fp, "; handshake (us): p50 %.1f  p99 %.1f  "
			    "max %.1f", merge_us(hist_value_at(m->hs, 50.0)),
			    merge_us(hist_value_at(m->hs, 99.0)),
			    merge_us(hist_max(m->hs)));
		fputc('\n', fp);
	}
	if (json_object_size(m->maps[0]) > 0) {
		fprintf(fp, "  errors:");
		json_object_foreach(m->maps[0], k, v)
			fprintf(fp, " %s %" JSON_INTEGER_FORMAT ";", k,
			    json_integer_value(v));
		fputc('\n', fp);
	}
	fprintf(fp, "  latency (us, from %s, of each %s): p50 %.1f  p90 %.1f  "
	    "p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n", m->latency_from,
	    m->latency_of, merge_us(hist_value_at(m->lat, 50.0)),
	    merge_us(hist_value_at(m->lat, 90.0)),
	    merge_us(hist_value_at(m->lat, 99.0)),
	    merge_us(hist_value_at(m->lat, 99.9)),
	    merge_us(hist_max(m->lat)), hist_mean(m->lat) / 1e3);
}

/* Open an output; "-" is standard output. */
static FILE *
merge_out(const char *path)
{
	FILE	*fp;

	if (strcmp(path, "-") == 0)
		return stdout;
	if ((fp = fopen(path, "w")) == NULL)
		fprintf(stderr, "%s: %s: %s\n", MERGE_PROG, path,
		    strerror(errno));
	return fp;
}

static int
merge_close(FILE *fp, const char *path, int rc)
{
	if (rc != 0 || fflush(fp) == EOF || ferror(fp) ||
	    (fp != stdout && fclose(fp) != 0)) {
		fprintf(stderr, "%s: %s: cannot write\n", MERGE_PROG, path);
		return -1;
	}
	return 0;
}

static int
merge_write(const struct merge *m)
{
	json_t	*r;
	FILE	*fp;
	int	 rc = 0;

	if (m->json != NULL) {
		if ((r = merge_json(m)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", MERGE_PROG);
			return -1;
		}
		if ((fp = merge_out(m->json)) == NULL)
			rc = -1;
		else if (merge_close(fp, m->json, json_dumpf(r, fp,
		    JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(10)) != 0 || fputc('\n', fp) ==
		    EOF) != 0)
			rc = -1;
		json_decref(r);
	}
	if (m->hist != NULL) {
		if ((fp = merge_out(m->hist)) == NULL)
			rc = -1;
		else if (merge_close(fp, m->hist, hist_print_percentiles(
		    m->lat, fp, 5, 1e3)) != 0)
			rc = -1;
	}
	return rc;
}

int
merge_main(int argc, char **argv)
{
	struct merge	 m;
	size_t		 i;
	int		 status;
	FILE		*out;
	json_t		*r;

	memset(&m, 0, sizeof(m));
	merge_args(argc, argv, &m);
	if ((m.reports = calloc(m.nfiles, sizeof(*m.reports))) == NULL ||
	    (m.ids = calloc(m.nfiles, sizeof(*m.ids))) == NULL ||
	    (m.lat = hist_new()) == NULL || (m.hs = hist_new()) == NULL)
		merge_fail("out of memory");
	for (i = 0; i < MERGE_NMAPS; i++)
		if ((m.maps[i] = json_object()) == NULL)
			merge_fail("out of memory");
	/* One report in memory at a time: each is added, then freed. */
	for (i = 0; i < m.nfiles; i++) {
		r = merge_load(m.files[i], &m.ids[i], m.ids, i);
		merge_report(&m, i, r);
		json_decref(r);
	}
	/* The summary goes to stderr when a report takes standard output. */
	out = (m.json != NULL && strcmp(m.json, "-") == 0) ||
	    (m.hist != NULL && strcmp(m.hist, "-") == 0) ? stderr : stdout;
	merge_summary(&m, out);
	status = m.counts[3] > 0 || m.warmup_errors > 0 ||
	    m.hs_failures > 0 || m.hs_failures_warm > 0 ? MERGE_EXIT_ERRORS :
	    0;
	if (fflush(out) == EOF || ferror(out)) {
		fprintf(stderr, "%s: the summary could not be written\n",
		    MERGE_PROG);
		status = MERGE_EXIT_ERRORS;
	}
	if (merge_write(&m) != 0)
		status = MERGE_EXIT_ERRORS;

	for (i = 0; i < m.nfiles; i++)
		json_decref(m.reports[i]);
	for (i = 0; i < MERGE_NMAPS; i++)
		json_decref(m.maps[i]);
	free(m.reports);
	free(m.ids);
	free(m.files);
	hist_free(m.lat);
	hist_free(m.hs);
	return status;
}
