/*
 * tests/integration/test_eidd_load.c -- a short eid-load run against a
 * test eidd is also a correctness run: every request is answered, the
 * verdicts are those the workload's tokens must earn (broken kinds per
 * kinds.h, written here and not read from eid-mint, and revoked tokens
 * REVOKED), the daemon counted the same verdicts, and the JSON report
 * holds every field scripts rely on; the same with VerifyBatch frames
 * (--batch), counted in tokens; a bad --batch is a one-line usage error;
 * --busy-poll and --raw-cpu runs report the raw yardstick beside them;
 * distinct lines of a file are not resent by the warm-up; a token file
 * or report path that cannot be used is an exit status 2 before the run,
 * and tokens that cannot earn their label or cannot be sent exit 1 with
 * a report;
 * an open loop against a daemon stopped for a while counts the wait of
 * the requests due meanwhile, and the second-by-second series shows it
 * and adds up to the report; generator threads (--threads) share the
 * work out, add up to one report, and its window and client CPU cover
 * all of them.
 * Loopback only, a few seconds.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "helpers.h"
#include "kinds.h"

#define LOAD_REQUESTS	3000
#define BATCH_REQUESTS	1000	/* not a multiple of BATCH: a short frame */
#define BATCH		16
/* The workload of test_load_mix: every class of token, two algorithms. */
#define MIX		"--reuse zipf --pool 500 --alg-mix ES256:2,EdDSA:1 " \
			"--broken-share 0.1 --revoked-share 0.05 " \
			"--broken-pool 4 --seed 7"

static struct th_eidd d;

static int
setup(void **state)
{
	(void)state;
	th_eidd_start(&d, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	th_eidd_stop_ok(&d);
	return 0;
}

static const char *
build_dir(void)
{
	const char	*b = getenv("EID_BUILD");

	return b != NULL && *b != '\0' ? b : "build";
}

/* Run cmd (stderr into stdout) into out; returns its exit status. */
static int
run_cmd(const char *cmd, char *out, size_t outlen)
{
	FILE	*fp;
	size_t	 n = 0, r;
	int	 st;

	fp = popen(cmd, "r");
	assert_non_null(fp);
	while (n + 1 < outlen && (r = fread(out + n, 1, outlen - 1 - n,
	    fp)) > 0)
		n += r;
	out[n] = '\0';
	st = pclose(fp);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The eid-load command line with the dev PKI against d, and extra. */
static void
load_cmd(char *cmd, size_t len, const char *json, const char *extra)
{
	char	 c[5][600];

	th_certs_abs("rp-dichvucong.crt", c[0], sizeof(c[0]));
	th_certs_abs("rp-dichvucong.key", c[1], sizeof(c[1]));
	th_certs_abs("ca.pem", c[2], sizeof(c[2]));
	th_certs_abs("admin.crt", c[3], sizeof(c[3]));
	th_certs_abs("admin.key", c[4], sizeof(c[4]));
	snprintf(cmd, len, "'%s/bin/eid-load' --server %s "
	    "--cert '%s' --key '%s' --ca '%s' --admin-cert '%s' "
	    "--admin-key '%s' --certs '%s' --mint '%s/bin/eid-mint' "
	    "--server-pid %d --json '%s' %s", build_dir(), d.addr,
	    c[0], c[1], c[2], c[3], c[4], th_certs_dir(), build_dir(),
	    (int)d.pid, json, extra);
}

/* Run eid-load quietly against d; returns its exit status. */
static int
run_load(const char *json, const char *extra, char *out, size_t outlen)
{
	char	 cmd[8192], args[4096];

	snprintf(args, sizeof(args), "--quiet %s 2>&1", extra);
	load_cmd(cmd, sizeof(cmd), json, args);
	return run_cmd(cmd, out, outlen);
}

static json_int_t
get_int(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL || !json_is_integer(v))
		fail_msg("report: \"%s\" missing or not an integer", key);
	return json_integer_value(v);
}

static double
get_num(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL || !json_is_number(v))
		fail_msg("report: \"%s\" missing or not a number", key);
	return json_number_value(v);
}

/* key is present, and null or a number from 0 to 1. */
static void
check_share(const json_t *o, const char *key)
{
	const json_t	*v = json_object_get(o, key);

	if (v == NULL || (!json_is_null(v) && (!json_is_number(v) ||
	    json_number_value(v) < 0 || json_number_value(v) > 1)))
		fail_msg("report: \"%s\" missing or not a share", key);
}

/*
 * The steal of each CPU: null where /proc/stat tells none, else an array
 * of shares (or nulls, for CPUs not online) whose largest is the worst
 * CPU's, at its index, and no longer than this machine has CPUs.
 */
static void
check_steal_by_cpu(const json_t *r)
{
	const json_t	*a = json_object_get(r, "steal_share_by_cpu");
	const json_t	*v;
	double		 worst = -1;
	size_t		 i;
	long		 ncpu = sysconf(_SC_NPROCESSORS_CONF);
	json_int_t	 at = -1;

	assert_non_null(a);
	/* Null exactly when no CPU had a share, and then no worst CPU. */
	if (json_is_null(a)) {
		assert_true(json_is_null(json_object_get(r,
		    "steal_worst_cpu")));
		return;
	}
	assert_true(json_is_array(a));
	assert_true(ncpu > 0);
	assert_true(json_array_size(a) >= 1 &&
	    json_array_size(a) <= (size_t)ncpu);
	json_array_foreach(a, i, v) {
		if (json_is_null(v))
			continue;
		assert_true(json_is_number(v));
		assert_true(json_number_value(v) >= 0 &&
		    json_number_value(v) <= 1);
		if (json_number_value(v) > worst) {
			worst = json_number_value(v);
			at = (json_int_t)i;
		}
	}
	assert_true(worst >= 0);
	assert_true(get_num(r, "steal_share_worst_cpu") == worst);
	assert_int_equal(get_int(r, "steal_worst_cpu"), at);
}

/*
 * The report's second-by-second series: one entry a second from the
 * run's start, adding up to the report's counts with the warm-up's, each
 * with its percentiles in order, the last one not empty, and the window
 * inside it.  Returns the largest maximum of a second (us).
 */
static double
check_timeline(const json_t *r)
{
	const json_t	*tl = json_object_get(r, "timeline"), *secs, *e = NULL;
	const json_t	*w = json_object_get(r, "warmup");
	json_int_t	 completed = 0, measured = 0, errors = 0, mism = 0,
			 lat = 0;
	double		 max = 0, start, end;
	size_t		 i;

	secs = json_object_get(tl, "seconds");
	if (!json_is_array(secs) || json_array_size(secs) == 0 || w == NULL)
		fail_msg("report: no timeline");
	start = get_num(tl, "window_start_s");
	end = get_num(tl, "window_end_s");
	json_array_foreach(secs, i, e) {
		assert_int_equal(get_int(e, "t"), i);
		completed += get_int(e, "completed");
		measured += get_int(e, "measured");
		errors += get_int(e, "errors");
		mism += get_int(e, "mismatches");
		lat += get_int(e, "latencies");
		assert_true(get_int(e, "measured") <= get_int(e, "completed"));
		assert_true(get_num(e, "p50") <= get_num(e, "p90"));
		assert_true(get_num(e, "p90") <= get_num(e, "p99"));
		assert_true(get_num(e, "p99") <= get_num(e, "max"));
		if (get_int(e, "latencies") == 0)
			assert_true(get_num(e, "max") == 0);
		/* Measured tokens complete inside the window only. */
		if ((double)i + 1 < start - 0.001 || (double)i > end + 0.001)
			assert_int_equal(get_int(e, "measured"), 0);
		if (get_num(e, "max") > max)
			max = get_num(e, "max");
	}
	assert_true(get_int(e, "completed") > 0);
	assert_int_equal(measured, get_int(r, "requests"));
	assert_int_equal(completed, get_int(r, "requests") +
	    get_int(w, "requests"));
	assert_int_equal(errors, get_int(r, "errors") + get_int(w, "errors"));
	assert_int_equal(mism, get_int(r, "mismatches") +
	    get_int(w, "mismatches"));
	/* A latency a frame answered; a frame holds one token or more. */
	assert_true(lat <= completed);
	if (get_int(r, "errors") == 0)
		assert_true(lat >= get_int(r, "frames"));
	assert_true(max >= get_num(r, "max"));
	if (start < -0.01 || fabs(end - start - get_num(r, "duration_s")) >
	    1e-6 || end > (double)json_array_size(secs) + 1)
		fail_msg("window %.6f to %.6f s of a %zu s series, %.6f s "
		    "long", start, end, json_array_size(secs),
		    get_num(r, "duration_s"));
	return max;
}

/*
 * The window in Unix milliseconds, as long as duration_s and inside the
 * last ten minutes, and the window's histogram for eid-load --merge.
 */
static void
check_window_histogram(const json_t *r)
{
	json_int_t	 start = get_int(r, "window_start_unix_ms");
	json_int_t	 end = get_int(r, "window_end_unix_ms");
	const json_t	*h = json_object_get(r, "histogram_ns");
	time_t		 now = time(NULL);

	if (end < start || llabs(end - start - llround(get_num(r,
	    "duration_s") * 1e3)) > 2)
		fail_msg("window %lld to %lld ms, duration %.6f s",
		    (long long)start, (long long)end, get_num(r, "duration_s"));
	/* time() reads a coarse clock that may lag the report's by a tick. */
	assert_true(start / 1000 >= (json_int_t)now - 600 && end / 1000 <=
	    (json_int_t)now + 1);
	assert_true(json_is_string(h));
	assert_memory_equal(json_string_value(h), "HISTF", 5);
}

static json_int_t
verdict_count(const json_t *verdicts, enum eid_verdict v)
{
	const json_t	*n = json_object_get(verdicts, eid_verdict_name(v));

	return n != NULL ? json_integer_value(n) : 0;
}

/*
 * The report r of a run of total tokens with no warm-up: every field of
 * the contract, the verdicts against expectations derived here (the
 * broken kinds from kinds.h, revoked tokens REVOKED), and the daemon's
 * own verdict counters, which then saw exactly the measured tokens.
 * Returns the daemon's request count (frames, not tokens).
 */
static uint64_t
check_report(json_t *r, json_int_t total)
{
	json_t			*verdicts, *byk, *cls;
	json_int_t		 want[EID_VERDICT_COUNT] = { 0 }, sum = 0, n;
	struct eid_client	*admin;
	struct eid_status	 st;
	const char		*key;
	json_t			*val;
	uint64_t		 frames;
	size_t			 i;

	/* Every field of the contract. */
	assert_int_equal(get_int(r, "requests"), total);
	assert_int_equal(get_int(r, "answers"), total);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_true(get_int(r, "frames") > 0);
	assert_true(json_is_object(json_object_get(r, "errors_by_kind")));
	assert_true(get_num(r, "rate") > 0);
	assert_true(get_num(r, "p50") > 0);
	assert_true(get_num(r, "p90") >= get_num(r, "p50"));
	assert_true(get_num(r, "p99") >= get_num(r, "p90"));
	assert_true(get_num(r, "p999") >= get_num(r, "p99"));
	assert_true(get_num(r, "max") >= get_num(r, "p999"));
	assert_string_equal(json_string_value(json_object_get(r,
	    "latency_unit")), "us");
	assert_true(get_num(r, "server_cpu_s") >= 0);
	assert_true(get_num(r, "server_cpu_us_per_request") >= 0);
	/* CPU per request is per token, whatever the frames held. */
	assert_int_equal(get_int(r, "server_window_answers"), total);
	assert_true(get_num(r, "cache_hit_ratio") > 0);
	/* Stolen CPU time: a share, or null where /proc/stat tells none. */
	check_share(r, "steal_share");
	check_share(r, "steal_share_worst_cpu");
	check_steal_by_cpu(r);
	(void)check_timeline(r);
	check_window_histogram(r);

	/* The verdicts, against expectations derived here. */
	verdicts = json_object_get(r, "verdicts");
	byk = json_object_get(r, "broken_by_kind");
	cls = json_object_get(r, "classes");
	assert_non_null(verdicts);
	assert_non_null(byk);
	assert_non_null(cls);
	want[EID_VERDICT_OK] = get_int(cls, "valid");
	want[EID_VERDICT_REVOKED] = get_int(cls, "revoked");
	assert_true(want[EID_VERDICT_REVOKED] > 0);
	assert_true(get_int(cls, "broken") > 0);
	json_object_foreach(byk, key, val) {
		for (i = 0; i < NKINDS; i++)
			if (strcmp(kinds[i].name, key) == 0)
				break;
		if (i == NKINDS)
			fail_msg("report names an unknown kind \"%s\"", key);
		want[kinds[i].want] += json_integer_value(val);
	}
	for (i = 0; i < EID_VERDICT_COUNT; i++) {
		n = verdict_count(verdicts, (enum eid_verdict)i);
		if (n != want[i])
			fail_msg("%s: %lld answers, %lld expected",
			    eid_verdict_name((enum eid_verdict)i),
			    (long long)n, (long long)want[i]);
		sum += n;
	}
	assert_int_equal(sum, total);

	/* The daemon answered exactly those: no warm-up, nothing else. */
	admin = th_client(&d, "admin");
	memset(&st, 0, sizeof(st));
	assert_int_equal(eid_client_status(admin, &st), EID_CLIENT_OK);
	for (i = 0; i < EID_VERDICT_COUNT; i++)
		if ((json_int_t)st.verdicts[i] != want[i])
			fail_msg("daemon counted %llu %s, eid-load %lld",
			    (unsigned long long)st.verdicts[i],
			    eid_verdict_name((enum eid_verdict)i),
			    (long long)want[i]);
	frames = st.requests_total;
	eid_status_clear(&st);
	eid_client_close(admin);
	return frames;
}

/* User and system time of r, in seconds. */
static double
ru_seconds(const struct rusage *r)
{
	return (double)r->ru_utime.tv_sec + r->ru_utime.tv_usec / 1e6 +
	    (double)r->ru_stime.tv_sec + r->ru_stime.tv_usec / 1e6;
}

/*
 * Run eid-load with args against d, writing its JSON report to NAME in
 * the test's directory; the run must succeed.  Returns the report.
 */
static json_t *
load_ok(const char *name, const char *args)
{
	char		 json[700], out[16384];
	json_t		*r;
	json_error_t	 jerr;
	int		 rc;

	snprintf(json, sizeof(json), "%s/%s", d.dir, name);
	if ((rc = run_load(json, args, out, sizeof(out))) != 0)
		fail_msg("eid-load exited %d:\n%s", rc, out);
	if ((r = json_load_file(json, 0, &jerr)) == NULL)
		fail_msg("%s: %s", json, jerr.text);
	return r;
}

/*
 * The distribution of --hist: HdrHistogram's header, and its last row,
 * at 100 %, holds every request and report r's maximum.
 */
static void
check_hgrm(const char *path, const json_t *r, unsigned long long count)
{
	char			*text, *last, *p;
	size_t			 len;
	double			 v, pct;
	unsigned long long	 total;

	text = th_read_file(path, &len);
	assert_non_null(text);
	assert_true(strncmp(text, "       Value   Percentile   TotalCount "
	    "1/(1-Percentile)\n", 52) == 0);
	assert_non_null(p = strstr(text, "\n#[Mean"));
	*p = '\0';
	assert_non_null(last = strrchr(text, '\n'));
	assert_int_equal(sscanf(last + 1, "%lf %lf %llu", &v, &pct, &total),
	    3);
	assert_true(pct == 1.0);
	assert_int_equal(total, count);
	if (fabs(v - get_num(r, "max")) > 0.0005)
		fail_msg("hgrm maximum %.3f, report %.3f", v,
		    get_num(r, "max"));
	free(text);
}

/*
 * Zipf over a pool with 10% broken tokens of every kind and 5% revoked
 * ones, two algorithms, no warm-up: the daemon's own verdict counters
 * then see exactly the measured requests.
 */
static void
test_load_mix(void **state)
{
	char		 hist[700], args[1200];
	json_t		*r;

	(void)state;
	snprintf(hist, sizeof(hist), "%s/load.hgrm", d.dir);
	snprintf(args, sizeof(args), "--requests 3000 --warmup 0 "
	    "--connections 4 --pipeline 8 " MIX " --hist '%s'", hist);
	r = load_ok("load.json", args);
	(void)check_report(r, LOAD_REQUESTS);
	/* One token per frame: single Verify requests. */
	assert_int_equal(get_int(r, "batch"), 1);
	assert_int_equal(get_int(r, "frames"), LOAD_REQUESTS);
	/* Linux counts CPU time in /proc/stat; this run lasts many ticks. */
	(void)get_num(r, "steal_share");
	(void)get_num(r, "steal_share_worst_cpu");
	check_hgrm(hist, r, LOAD_REQUESTS);
	json_decref(r);
}

/* eid-load --merge with args; returns its exit status, output in out. */
static int
run_merge(const char *args, char *out, size_t outlen)
{
	char	 cmd[4096];

	snprintf(cmd, sizeof(cmd), "'%s/bin/eid-load' --merge %s 2>&1",
	    build_dir(), args);
	return run_cmd(cmd, out, outlen);
}

static json_t *
load_json_file(const char *path)
{
	json_error_t	 jerr;
	json_t		*r;

	if ((r = json_load_file(path, 0, &jerr)) == NULL)
		fail_msg("%s: %s", path, jerr.text);
	return r;
}

/* A merged percentile lies between the runs' ones (to 1/1024 above). */
static void
check_between(const json_t *m, const json_t *a, const json_t *b,
    const char *key)
{
	double	 v = get_num(m, key), x = get_num(a, key), y = get_num(b, key);

	if (v < fmin(x, y) - 0.0005 || v > fmax(x, y) * (1 + 1.0 / 1024) +
	    0.0005)
		fail_msg("merged %s %.3f, runs' %.3f and %.3f", key, v, x, y);
}

/* The value of the row at percentile p (0..1) of a .hgrm file. */
static double
hgrm_value_at(const char *path, double p)
{
	char	*text, *line, *save = NULL;
	size_t	 len;
	double	 v, pct, found = -1;

	text = th_read_file(path, &len);
	assert_non_null(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (sscanf(line, "%lf %lf", &v, &pct) == 2 &&
		    fabs(pct - p) < 1e-9) {
			found = v;
			break;
		}
	free(text);
	if (found < 0)
		fail_msg("%s: no row at %.6f", path, p);
	return found;
}

/* Each key of the object key of m is the sum of a's and b's. */
static void
check_sums(const json_t *m, const json_t *a, const json_t *b,
    const char *key)
{
	const json_t	*om = json_object_get(m, key);
	const json_t	*oa = json_object_get(a, key);
	const json_t	*ob = json_object_get(b, key);
	const json_t	*v;
	const char	*k;
	json_int_t	 sum = 0;

	assert_true(json_is_object(om));
	json_object_foreach(json_object_get(m, key), k, v) {
		assert_int_equal(json_integer_value(v),
		    (json_object_get(oa, k) != NULL ? get_int(oa, k) : 0) +
		    (json_object_get(ob, k) != NULL ? get_int(ob, k) : 0));
		sum += json_integer_value(v);
	}
	json_object_foreach(json_object_get(a, key), k, v)
		assert_non_null(json_object_get(om, k));
	json_object_foreach(json_object_get(b, key), k, v)
		assert_non_null(json_object_get(om, k));
	(void)sum;
}

/* r with key set to the string v, written to path. */
static void
write_altered(const json_t *r, const char *path, const char *key,
    const char *v)
{
	json_t	*c = json_deep_copy(r);

	assert_non_null(c);
	assert_int_equal(json_object_set_new(c, key, json_string(v)), 0);
	assert_int_equal(json_dump_file(c, path, JSON_INDENT(2)), 0);
	json_decref(c);
}

/*
 * Two generators at the same time, as two machines would load one
 * service: eid-load --merge adds their counts, verdicts and rates, and
 * takes its percentiles from their histograms merged, each between the
 * runs' own; the distribution it writes holds every answer.  A report
 * merged alone gives back its own percentiles.  Reports whose latencies
 * mean different things, a damaged histogram, or a file that is not a
 * report: one line, exit 2.
 */
static void
test_load_merge(void **state)
{
	char		 ja[700], jb[700], jm[700], jh[700], j1[700], jx[700];
	char		 ca[8192], cb[8192], cmd[17000], out[16384];
	char		 args[3000];
	json_t		*a, *b, *m, *one;
	double		 ov;
	const char	*pcts[] = { "p50", "p90", "p99", "p999" };
	size_t		 i;
	int		 rc;

	(void)state;
	snprintf(ja, sizeof(ja), "%s/gen-a.json", d.dir);
	snprintf(jb, sizeof(jb), "%s/gen-b.json", d.dir);
	snprintf(jm, sizeof(jm), "%s/merged.json", d.dir);
	snprintf(jh, sizeof(jh), "%s/merged.hgrm", d.dir);
	snprintf(j1, sizeof(j1), "%s/one.json", d.dir);
	snprintf(jx, sizeof(jx), "%s/altered.json", d.dir);
	load_cmd(ca, sizeof(ca), ja, "--quiet --requests 2000 --warmup 0 "
	    "--connections 2 --pipeline 8 --reuse zipf --pool 300 --seed 3");
	load_cmd(cb, sizeof(cb), jb, "--quiet --requests 1500 --warmup 0 "
	    "--connections 3 --pipeline 4 --reuse zipf --pool 300 --seed 4 "
	    "--alg-mix EdDSA");
	snprintf(cmd, sizeof(cmd), "(%s >/dev/null 2>&1; echo \"a=$?\") & "
	    "(%s >/dev/null 2>&1; echo \"b=$?\"); wait", ca, cb);
	(void)run_cmd(cmd, out, sizeof(out));
	if (strstr(out, "a=0") == NULL || strstr(out, "b=0") == NULL)
		fail_msg("generators: %s", out);
	a = load_json_file(ja);
	b = load_json_file(jb);

	snprintf(args, sizeof(args), "--json '%s' --hist '%s' --name both "
	    "'%s' '%s'", jm, jh, ja, jb);
	if ((rc = run_merge(args, out, sizeof(out))) != 0)
		fail_msg("--merge exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "2 reports merged: 3500 requests"));
	m = load_json_file(jm);
	assert_string_equal(json_string_value(json_object_get(m, "name")),
	    "both");
	assert_int_equal(json_array_size(json_object_get(m, "merged")), 2);
	assert_int_equal(get_int(m, "requests"), 3500);
	assert_int_equal(get_int(m, "answers"), 3500);
	assert_int_equal(get_int(m, "frames"), get_int(a, "frames") +
	    get_int(b, "frames"));
	assert_int_equal(get_int(m, "errors"), 0);
	assert_int_equal(get_int(m, "cache_hits"), get_int(a, "cache_hits") +
	    get_int(b, "cache_hits"));
	check_sums(m, a, b, "verdicts");
	check_sums(m, a, b, "expected_verdicts");
	check_sums(m, a, b, "errors_by_kind");
	assert_true(fabs(get_num(m, "rate") - get_num(a, "rate") -
	    get_num(b, "rate")) < 1e-3);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		check_between(m, a, b, pcts[i]);
	assert_true(get_num(m, "max") >= fmax(get_num(a, "max"),
	    get_num(b, "max")) - 0.0005);
	check_between(m, a, b, "max");
	/* The windows: their union, and the share they ran together. */
	assert_int_equal(get_int(m, "window_start_unix_ms"),
	    fmin(get_int(a, "window_start_unix_ms"),
	    get_int(b, "window_start_unix_ms")));
	assert_int_equal(get_int(m, "window_end_unix_ms"),
	    fmax(get_int(a, "window_end_unix_ms"),
	    get_int(b, "window_end_unix_ms")));
	ov = get_num(m, "windows_overlap");
	assert_true(ov >= 0 && ov <= 1);
	check_hgrm(jh, m, (unsigned long long)(get_int(a, "frames") +
	    get_int(b, "frames")));
	/* The percentiles are the merged distribution's, not an average. */
	assert_true(fabs(hgrm_value_at(jh, 0.5) - get_num(m, "p50")) < 0.0005);
	assert_true(fabs(hgrm_value_at(jh, 0.9) - get_num(m, "p90")) < 0.0005);

	/* One report merged alone: its own percentiles, to 1/1024. */
	snprintf(args, sizeof(args), "--json '%s' '%s'", j1, ja);
	if ((rc = run_merge(args, out, sizeof(out))) != 0)
		fail_msg("--merge exited %d:\n%s", rc, out);
	one = load_json_file(j1);
	for (i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		check_between(one, a, a, pcts[i]);
	assert_true(get_num(one, "windows_overlap") == 1.0);

	/* Latencies from different starting points do not merge. */
	write_altered(b, jx, "latency_from", "intended send time");
	snprintf(args, sizeof(args), "'%s' '%s'", ja, jx);
	assert_int_equal(run_merge(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "do not merge"));
	assert_true(strncmp(out, "eid-load: ", 10) == 0 &&
	    strchr(out, '\n') == out + strlen(out) - 1);
	/* A damaged histogram, a report of another tool: named, exit 2. */
	write_altered(b, jx, "histogram_ns", "HISTFAAAAAA=");
	assert_int_equal(run_merge(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "altered.json: histogram: "));
	write_altered(b, jx, "tool", "wrk");
	assert_int_equal(run_merge(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "altered.json: not an eid-load report"));
	/* The same run twice would count twice. */
	snprintf(args, sizeof(args), "'%s' '%s'", ja, ja);
	assert_int_equal(run_merge(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "gen-a.json: given twice"));
	json_decref(a);
	json_decref(b);
	json_decref(m);
	json_decref(one);
}

/*
 * Revoked tokens of an issuer with a long name: their revocations go in
 * as many batches as the 64 KiB frame needs (one batch of 600 would be
 * some 160 KB), and every revoked token is answered REVOKED.  The daemon
 * is configured with that issuer, so that the rest verify.
 */
static void
test_load_revoke_long_issuer(void **state)
{
	char		 iss[240], args[1200], *base, *conf, *at, *p;
	const char	*dev = "https://vneid.example";
	json_t		*r, *cls;
	size_t		 n = 0;

	(void)state;
	snprintf(iss, sizeof(iss), "https://%0220d.example", 0);
	base = th_eidd_conf_text(NULL, NULL);
	/* Every mention of the development issuer becomes the long one. */
	for (p = base; (at = strstr(p, dev)) != NULL; p = at + strlen(dev))
		n++;
	assert_true(n > 0);
	conf = calloc(1, strlen(base) + n * strlen(iss) + 1);
	assert_non_null(conf);
	for (p = base; (at = strstr(p, dev)) != NULL; p = at + strlen(dev)) {
		strncat(conf, p, (size_t)(at - p));
		strcat(conf, iss);
	}
	strcat(conf, p);
	free(base);
	th_eidd_start_conf(&d, conf);
	free(conf);
	snprintf(args, sizeof(args), "--requests 300 --warmup 0 "
	    "--connections 2 --pipeline 8 --reuse uniform --pool 600 "
	    "--revoked-share 0.3 --revoked-pool 600 --iss %s --seed 5", iss);
	r = load_ok("long-iss.json", args);
	cls = json_object_get(r, "classes");
	assert_true(get_int(cls, "revoked") > 0);
	assert_int_equal(verdict_count(json_object_get(r, "verdicts"),
	    EID_VERDICT_REVOKED), get_int(cls, "revoked"));
	assert_int_equal(get_int(r, "errors"), 0);
	json_decref(r);
	th_eidd_stop_ok(&d);
}

/*
 * The mix of test_load_mix from three generator threads over five
 * connections (2, 2, 1), 3001 requests (1001, 1000, 1000): their counts,
 * verdicts and histograms added up must match the daemon's own counters
 * exactly, as one generator's do, and each minted its share ahead.
 */
static void
test_load_threads(void **state)
{
	char		 hist[700], args[1200];
	json_t		*r, *w, *want, *got;
	const char	*key;
	json_t		*val;

	(void)state;
	snprintf(hist, sizeof(hist), "%s/threads.hgrm", d.dir);
	snprintf(args, sizeof(args), "--threads 3 --requests 3001 --warmup 0 "
	    "--connections 5 --pipeline 8 --idle-connections 4 " MIX
	    " --hist '%s'", hist);
	r = load_ok("threads.json", args);
	(void)check_report(r, 3001);
	assert_int_equal(get_int(r, "threads"), 3);
	assert_int_equal(get_int(r, "connections"), 5);
	assert_int_equal(get_int(r, "frames"), 3001);
	check_hgrm(hist, r, 3001);
	/* Every verdict was expected, in the sum as in each generator. */
	want = json_object_get(r, "expected_verdicts");
	got = json_object_get(r, "verdicts");
	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(json_object_size(want), json_object_size(got));
	json_object_foreach(want, key, val)
		assert_int_equal(json_integer_value(val),
		    json_integer_value(json_object_get(got, key)));
	w = json_object_get(r, "workload");
	assert_true(get_int(w, "preminted") > 0);
	assert_int_equal(get_int(w, "minted_during_run"), 0);
	json_decref(r);
}

/*
 * A pool minted as the generators first need its tokens (a closed loop
 * for a time: nothing is known to mint ahead): two generators share its
 * slots.  Run under ThreadSanitizer, this is the test of that sharing.
 */
static void
test_load_threads_mint(void **state)
{
	json_t		*r, *w;

	(void)state;
	r = load_ok("threads-mint.json", "--threads 2 --duration 0.5 "
	    "--warmup 0 --connections 2 --reuse uniform --pool 300 "
	    "--alg-mix EdDSA");
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_true(get_int(r, "answers") > 0);
	w = json_object_get(r, "workload");
	assert_int_equal(get_int(w, "preminted"), 0);
	assert_true(get_int(w, "minted_during_run") > 0);
	json_decref(r);
}

/*
 * Interrupted once, generator threads drain what they sent and the run
 * ends with its report, exit status 0.  The interrupt goes once the
 * progress line says the window is open (at most 30 s of waiting).
 */
static void
test_load_threads_interrupt(void **state)
{
	char		 json[700], err[700], cmd[12288], load[8192],
			 out[4096];
	json_t		*r;
	json_error_t	 jerr;

	(void)state;
	snprintf(json, sizeof(json), "%s/threads-int.json", d.dir);
	snprintf(err, sizeof(err), "%s/threads-int.err", d.dir);
	load_cmd(load, sizeof(load), json, "--threads 2 --connections 2 "
	    "--duration 60 --warmup 0 --reuse uniform --pool 50 "
	    "--alg-mix EdDSA");
	snprintf(cmd, sizeof(cmd), "%s >/dev/null 2>'%s' & p=$!; i=0; "
	    "while [ $i -lt 300 ] && ! grep -q '] run ' '%s'; do "
	    "sleep 0.1; i=$((i + 1)); done; kill -INT $p; wait $p; "
	    "echo \"exit $?\"", load, err, err);
	assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
	if (strcmp(out, "exit 0\n") != 0)
		fail_msg("eid-load: %s", out);
	if ((r = json_load_file(json, 0, &jerr)) == NULL)
		fail_msg("%s: %s", json, jerr.text);
	assert_true(json_is_true(json_object_get(r, "interrupted")));
	assert_true(get_int(r, "requests") > 0);
	assert_int_equal(get_int(r, "answers"), get_int(r, "requests"));
	assert_int_equal(get_int(r, "errors"), 0);
	(void)check_timeline(r);
	json_decref(r);
}

/*
 * Generators never send each other's tokens: with every token distinct,
 * three threads in a closed loop and two in an open loop get no cache
 * hit, and the open loop keeps the rate it was given in total.
 */
static void
test_load_threads_distinct(void **state)
{
	json_t		*r;

	(void)state;
	r = load_ok("threads-closed.json", "--threads 3 --requests 600 "
	    "--warmup 0.3 --connections 3 --reuse distinct --alg-mix EdDSA");
	assert_int_equal(get_int(r, "answers"), 600);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_int_equal(get_int(r, "cache_hits"), 0);
	json_decref(r);

	/*
	 * Uniform over a pool far larger than the run: each generator
	 * draws from streams of its own, so hardly a token repeats (some
	 * 0.1 expected); with one stream for both, 200 would.
	 */
	r = load_ok("threads-uniform.json", "--threads 2 --requests 400 "
	    "--warmup 0 --connections 2 --reuse uniform --pool 1000000 "
	    "--alg-mix EdDSA");
	assert_int_equal(get_int(r, "answers"), 400);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_true(get_int(r, "cache_hits") < 10);
	json_decref(r);

	/* 400/s in three: the shares, not each share's rounding, add up. */
	r = load_ok("threads-open.json", "--threads 3 --rate 400 "
	    "--duration 1 --warmup 0.25 --connections 3 --reuse distinct "
	    "--alg-mix EdDSA");
	assert_int_equal(get_int(r, "requests"), 400);
	assert_int_equal(get_int(r, "answers"), 400);
	assert_int_equal(get_int(json_object_get(r, "warmup"), "requests"),
	    100);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "cache_hits"), 0);
	assert_true(get_num(r, "rate") > 0 && get_num(r, "rate") < 440);
	(void)check_timeline(r);
	json_decref(r);
}

/*
 * The merged window and the client's CPU.  Two generators at 5/s each,
 * their schedules 100 ms apart (0, 0.2 ... 1.8 s and 0.1 ... 1.9 s), so
 * the window runs from the first one's first intended send to the last
 * answer, 1.9 s and the last latency.  It would be 1.8 s had the
 * generators sent together or the window opened at the later one's
 * start.  Both busy-poll through their windows, so together they are
 * nearly all the CPU eid-load spends; generator 0 alone would be half.
 */
static void
test_load_threads_window(void **state)
{
	struct rusage	 ru0, ru1;
	json_t		*r;
	double		 win, last, cli, all;

	(void)state;
	assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru0), 0);
	r = load_ok("threads-window.json", "--threads 2 --rate 10 "
	    "--duration 2 --warmup 0 --connections 2 --reuse distinct "
	    "--alg-mix EdDSA --busy-poll");
	assert_int_equal(getrusage(RUSAGE_CHILDREN, &ru1), 0);
	assert_int_equal(get_int(r, "requests"), 20);
	assert_int_equal(get_int(r, "answers"), 20);
	assert_int_equal(get_int(r, "errors"), 0);
	win = get_num(r, "duration_s");
	last = get_num(r, "max") / 1e6;
	/* Generators leave the barrier a few microseconds apart. */
	if (win < 1.9 - 0.02 || win > 1.9 + last + 0.2)
		fail_msg("window %.3f s, not 1.9 s and at most the last "
		    "latency (max %.3f s)", win, last);
	cli = get_num(r, "client_cpu_s");
	all = ru_seconds(&ru1) - ru_seconds(&ru0);
	if (cli < 0.7 * all || cli > all + 0.05)
		fail_msg("client CPU %.3f s of the %.3f s eid-load spent",
		    cli, all);
	json_decref(r);
}

/*
 * The same mix in VerifyBatch frames of 16 tokens: every figure counts
 * tokens, "frames" the frames (the last one short), and the daemon saw
 * frames: its request count is those, the revocation batch and the
 * status request that reads it.
 */
static void
test_load_batch(void **state)
{
	json_t		*r;
	uint64_t	 frames;

	(void)state;
	r = load_ok("batch.json", "--requests 1000 --warmup 0 --connections 2 "
	    "--pipeline 4 --batch 16 --reuse zipf --pool 300 "
	    "--alg-mix ES256:2,EdDSA:1 --broken-share 0.1 "
	    "--revoked-share 0.05 --broken-pool 4 --seed 11");
	frames = check_report(r, BATCH_REQUESTS);
	assert_int_equal(get_int(r, "batch"), BATCH);
	assert_int_equal(get_int(r, "frames"),
	    (BATCH_REQUESTS + BATCH - 1) / BATCH);
	assert_int_equal(frames, (BATCH_REQUESTS + BATCH - 1) / BATCH + 2);
	assert_string_equal(json_string_value(json_object_get(r,
	    "latency_of")), "frame");
	json_decref(r);
}

/* A handshake percentile: a positive number, or null with none. */
static double
get_hs(const json_t *r, const char *key, json_int_t n)
{
	const json_t	*v = json_object_get(r, key);

	if (n == 0) {
		if (v == NULL || !json_is_null(v))
			fail_msg("report: \"%s\" is not null", key);
		return 0;
	}
	if (get_num(r, key) <= 0)
		fail_msg("report: \"%s\" is not positive", key);
	return get_num(r, key);
}

/*
 * --reconnect: each connection carries its frames, then a new one takes
 * its place.  300 frames, 7 a connection, 3 at a time: every connection
 * made again followed a life of 7 frames (so at most 300 / 7 = 42), and
 * the lives that carried frames, the first 3 and those remade whose
 * handshake ended, carried all 300 (so 7 * (3 + counted) >= 300: at
 * least 40 counted); one still in its handshake when the run ends
 * carried none and is not counted, though the daemon may have accepted
 * it.  The daemon accepted the first 3, every one counted, and the
 * admin's that asks; every answer was right; --merge adds the
 * handshakes of two reports up.
 */
#define RC_REQUESTS	300
#define RC_EVERY	7
#define RC_CONNS	3
static void
test_load_reconnect(void **state)
{
	struct eid_client	*admin;
	struct eid_status	 s0, s1;
	char			 json[700], copy[700], merged[700], args[2200];
	char			 out[16384];
	json_t			*r, *m;
	json_int_t		 hs, got;
	double			 p50;
	int			 rc;

	(void)state;
	admin = th_client(&d, "admin");
	memset(&s0, 0, sizeof(s0));
	assert_int_equal(eid_client_status(admin, &s0), EID_CLIENT_OK);
	eid_client_close(admin);
	snprintf(args, sizeof(args), "--requests %d --warmup 0 "
	    "--connections %d --pipeline 4 --reconnect %d --reuse zipf "
	    "--pool 200 --seed 5", RC_REQUESTS, RC_CONNS, RC_EVERY);
	r = load_ok("reconnect.json", args);
	assert_int_equal(get_int(r, "requests"), RC_REQUESTS);
	assert_int_equal(get_int(r, "answers"), RC_REQUESTS);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_int_equal(verdict_count(json_object_get(r, "verdicts"),
	    EID_VERDICT_OK), RC_REQUESTS);
	assert_int_equal(get_int(r, "reconnect"), RC_EVERY);
	hs = get_int(r, "handshakes");
	if (hs < (RC_REQUESTS - RC_CONNS * RC_EVERY + RC_EVERY - 1) /
	    RC_EVERY || hs > RC_REQUESTS / RC_EVERY)
		fail_msg("%lld handshakes", (long long)hs);
	assert_int_equal(get_int(r, "handshake_failures"), 0);
	assert_int_equal(get_int(json_object_get(r, "warmup"), "handshakes"),
	    0);
	assert_true(get_num(r, "handshake_rate") > 0);
	p50 = get_hs(r, "handshake_p50", hs);
	assert_true(get_hs(r, "handshake_p99", hs) >= p50);
	assert_true(get_hs(r, "handshake_max", hs) >=
	    get_num(r, "handshake_p99"));
	assert_true(json_is_string(json_object_get(r,
	    "handshake_histogram_ns")));

	admin = th_client(&d, "admin");
	memset(&s1, 0, sizeof(s1));
	assert_int_equal(eid_client_status(admin, &s1), EID_CLIENT_OK);
	eid_client_close(admin);
	got = (json_int_t)(s1.connections_total - s0.connections_total);
	if (got < RC_CONNS + hs + 1 || got > RC_CONNS + hs + 1 + RC_CONNS)
		fail_msg("the daemon accepted %lld connections for %lld "
		    "handshakes", (long long)got, (long long)hs);
	eid_status_clear(&s0);
	eid_status_clear(&s1);

	/* Two reports' handshakes and their histograms add up. */
	snprintf(json, sizeof(json), "%s/reconnect.json", d.dir);
	snprintf(copy, sizeof(copy), "%s/reconnect-2.json", d.dir);
	snprintf(merged, sizeof(merged), "%s/reconnect-m.json", d.dir);
	snprintf(args, sizeof(args), "cp '%s' '%s'", json, copy);
	assert_int_equal(system(args), 0);
	snprintf(args, sizeof(args), "--json '%s' '%s' '%s'", merged, json,
	    copy);
	if ((rc = run_merge(args, out, sizeof(out))) != 0)
		fail_msg("--merge exited %d:\n%s", rc, out);
	if (strstr(out, "reconnects: ") == NULL)
		fail_msg("no reconnects in the summary:\n%s", out);
	m = load_json_file(merged);
	assert_int_equal(get_int(m, "handshakes"), 2 * hs);
	assert_int_equal(get_int(m, "handshake_failures"), 0);
	assert_true(fabs(get_num(m, "handshake_rate") -
	    2 * get_num(r, "handshake_rate")) < 1e-6 * get_num(m,
	    "handshake_rate"));
	assert_true(get_hs(m, "handshake_p50", hs) == p50);
	/* The bucket's top: within the histogram's 3 digits. */
	assert_true(get_num(m, "handshake_max") >= get_num(r,
	    "handshake_max") && get_num(m, "handshake_max") <= 1.001 *
	    get_num(r, "handshake_max"));
	json_decref(m);
	json_decref(r);
}

/*
 * Exactly one line of output, "eid-load: " then what (and, for an error
 * in the options, the pointer to --help), and exit status 2.  Nothing is
 * connected to: the server address is a closed port.
 */
static void
expect_exit2(const char *args, const char *what, bool help)
{
	char		 cmd[4096], out[4096], *nl;
	const char	*tail = " (see eid-load --help)\n";
	int		 rc;

	snprintf(cmd, sizeof(cmd), "'%s/bin/eid-load' --server 127.0.0.1:1 "
	    "--certs '%s' --quiet %s 2>&1", build_dir(), th_certs_dir(),
	    args);
	rc = run_cmd(cmd, out, sizeof(out));
	if (rc != 2)
		fail_msg("%s: exit %d, not 2:\n%s", args, rc, out);
	nl = strchr(out, '\n');
	if (strncmp(out, "eid-load: ", 10) != 0 || nl == NULL ||
	    nl[1] != '\0' || strstr(out, what) == NULL)
		fail_msg("%s: not one line with \"%s\":\n%s", args, what,
		    out);
	if (help ? strstr(out, tail) == NULL : strcmp(out + 10 + strlen(what),
	    "\n") != 0)
		fail_msg("%s: not \"eid-load: %s\"%s:\n%s", args, what,
		    help ? tail : "", out);
}

/* A usage error: the options or the scenario. */
static void
expect_usage(const char *args, const char *what)
{
	expect_exit2(args, what, true);
}

/* A file named in the options that cannot be used: the line is what. */
static void
expect_input_error(const char *args, const char *what)
{
	expect_exit2(args, what, false);
}

/*
 * --batch is 1 to the daemon's VerifyBatch limit of 256, and a batch
 * whose frame may pass 64 KiB is refused before anything is sent (256
 * ES256 tokens of some 600 bytes would).  Nothing is connected to: the
 * server address is a closed port.
 */
static void
test_load_batch_usage(void **state)
{
	char	 scen[700], args[800];
	FILE	*fp;

	(void)state;
	expect_usage("--batch 0", "--batch: 0 is out of range 1..256");
	expect_usage("--batch 257", "--batch: 257 is out of range 1..256");
	expect_usage("--batch=-1", "--batch: \"-1\" is not a number");
	expect_usage("--reconnect 1000000001", "--reconnect: 1000000001 is "
	    "out of range 0..1000000000");
	expect_usage("--batch 256", "--batch 256: tokens of up to");
	snprintf(scen, sizeof(scen), "%s/batch.conf", d.dir);
	fp = fopen(scen, "w");
	assert_non_null(fp);
	fprintf(fp, "# too large\nbatch = 1000\n");
	assert_int_equal(fclose(fp), 0);
	snprintf(args, sizeof(args), "--scenario '%s'", scen);
	expect_usage(args, "batch.conf:2: --batch: 1000 is out of range");
}

/* The open loop sends every request it plans, never faster than asked. */
/*
 * The summary's line of p99s by second agrees with the report's
 * timeline: as many seconds, the lowest and highest p99 of the seconds
 * with a latency, and the second that held the highest.
 */
static void
check_summary_seconds(const char *out, const json_t *r)
{
	const json_t	*secs, *e;
	const char	*line;
	double		 lo = 0, med = 0, hi = 0, p99, jlo = -1, jhi = -1;
	size_t		 n = 0, worst = 0, i;

	secs = json_object_get(json_object_get(r, "timeline"), "seconds");
	if ((line = strstr(out, "  p99 by second (")) == NULL ||
	    sscanf(line, "  p99 by second (%zu s from the start, warm-up "
	    "included): lowest %lf  median %lf  highest %lf, in second %zu",
	    &n, &lo, &med, &hi, &worst) != 5)
		fail_msg("no p99-by-second line in:\n%s", out);
	assert_int_equal(n, json_array_size(secs));
	json_array_foreach(secs, i, e) {
		if (get_int(e, "latencies") == 0)
			continue;
		p99 = get_num(e, "p99");
		if (jlo < 0 || p99 < jlo)
			jlo = p99;
		if (p99 > jhi)
			jhi = p99;
	}
	/* Printed with one decimal. */
	if (fabs(lo - jlo) > 0.051 || fabs(hi - jhi) > 0.051 || med < lo ||
	    med > hi || worst >= n ||
	    get_num(json_array_get(secs, worst), "p99") != jhi)
		fail_msg("summary %.1f %.1f %.1f in second %zu, timeline "
		    "%.3f to %.3f:\n%s", lo, med, hi, worst, jlo, jhi, line);
}

static void
test_load_open_loop(void **state)
{
	char		 json[700], out[16384];
	json_t		*r;
	json_error_t	 jerr;
	int		 rc;

	(void)state;
	snprintf(json, sizeof(json), "%s/open.json", d.dir);
	if ((rc = run_load(json, "--rate 1000 --duration 1.5 --warmup 0.5 "
	    "--connections 2 --reuse uniform --pool 200", out,
	    sizeof(out))) != 0)
		fail_msg("eid-load exited %d:\n%s", rc, out);
	if ((r = json_load_file(json, 0, &jerr)) == NULL)
		fail_msg("%s: %s", json, jerr.text);
	assert_string_equal(json_string_value(json_object_get(r, "mode")),
	    "open");
	assert_int_equal(get_int(r, "requests"), 1500);
	assert_int_equal(get_int(r, "answers"), 1500);
	assert_int_equal(get_int(r, "errors"), 0);
	/*
	 * Never faster than asked.  How close it comes from below depends on
	 * the machine (under valgrind, far below): a benchmark's business,
	 * not a test's.
	 */
	assert_true(get_num(r, "rate") > 0 && get_num(r, "rate") < 1100);
	/* The warm-up's half second comes first, then the window. */
	(void)check_timeline(r);
	assert_true(get_num(json_object_get(r, "timeline"),
	    "window_start_s") >= 0.49);
	check_summary_seconds(out, r);
	json_decref(r);
}

/*
 * The daemon slowed on purpose: stopped (SIGSTOP) for STALL_MS once it has
 * given STALL_AFTER verdicts in an open loop at 1000/s for 2 s.  The
 * requests due meanwhile wait, most of them unsent (2 connections x 16
 * in flight), and their latency counts from when they were due: the
 * first waited the whole stall, and the 10 % slowest (200) were all due
 * in its first 300 ms or so.  A generator that timed from the actual
 * send would put only the 32 sent before the stall near STALL_MS and its
 * p90 near the unstalled latency.
 */
#define STALL_MS	500
#define STALL_AFTER	200
#define STALL_POLLS	3000	/* of 10 ms: at most 30 s */

/* Shared with the thread: static, so no failure can leave it dangling. */
static struct stall {
	struct eid_client	*admin;
	pid_t			 pid;
	uint64_t		 base;		/* verdicts before the run */
	atomic_int		 run_over;	/* eid-load has exited */
	int			 stalled;	/* 1: stopped and resumed */
	char			 err[200];
} stall;

/* Verdicts the daemon has given: verifications only, not status calls. */
static int
stall_verdicts(struct eid_client *admin, uint64_t *n)
{
	struct eid_status	 st;
	size_t			 i;

	memset(&st, 0, sizeof(st));
	if (eid_client_status(admin, &st) != EID_CLIENT_OK)
		return -1;
	*n = 0;
	for (i = 0; i < EID_VERDICT_COUNT; i++)
		*n += st.verdicts[i];
	eid_status_clear(&st);
	return 0;
}

static void *
stall_main(void *arg)
{
	struct stall		*sp = arg;
	struct timespec		 ts = { 0, 10 * 1000 * 1000 };
	uint64_t		 n;
	int			 i;

	for (i = 0; i < STALL_POLLS; i++) {
		if (atomic_load(&sp->run_over)) {
			snprintf(sp->err, sizeof(sp->err), "eid-load ended "
			    "before %d verdicts", STALL_AFTER);
			return NULL;
		}
		if (stall_verdicts(sp->admin, &n) != 0) {
			snprintf(sp->err, sizeof(sp->err), "status failed");
			return NULL;
		}
		if (n >= sp->base + STALL_AFTER)
			break;
		nanosleep(&ts, NULL);
	}
	if (i == STALL_POLLS) {
		snprintf(sp->err, sizeof(sp->err), "eid-load never reached "
		    "%d verdicts", STALL_AFTER);
		return NULL;
	}
	ts.tv_sec = STALL_MS / 1000;
	ts.tv_nsec = (long)(STALL_MS % 1000) * 1000 * 1000;
	if (kill(sp->pid, SIGSTOP) != 0) {
		snprintf(sp->err, sizeof(sp->err), "SIGSTOP failed");
		return NULL;
	}
	nanosleep(&ts, NULL);
	if (kill(sp->pid, SIGCONT) != 0) {
		snprintf(sp->err, sizeof(sp->err), "SIGCONT failed");
		return NULL;
	}
	sp->stalled = 1;
	return NULL;
}

static void
test_load_open_loop_stalled(void **state)
{
	char		 json[700], out[16384];
	pthread_t	 th;
	json_t		*r;
	json_error_t	 jerr;
	double		 p90, max;
	int		 rc;

	(void)state;
	memset(&stall, 0, sizeof(stall));
	stall.admin = th_client(&d, "admin");
	stall.pid = d.pid;
	atomic_init(&stall.run_over, 0);
	assert_int_equal(stall_verdicts(stall.admin, &stall.base), 0);
	assert_int_equal(pthread_create(&th, NULL, stall_main, &stall), 0);
	/* Nothing may fail the test before the thread is joined. */
	snprintf(json, sizeof(json), "%s/stalled.json", d.dir);
	rc = run_load(json, "--rate 1000 --duration 2 --warmup 0 "
	    "--connections 2 --pipeline 16 --reuse uniform --pool 200", out,
	    sizeof(out));
	atomic_store(&stall.run_over, 1);
	assert_int_equal(pthread_join(th, NULL), 0);
	/* Whatever happened, the daemon runs on for the teardown. */
	(void)kill(d.pid, SIGCONT);
	eid_client_close(stall.admin);
	stall.admin = NULL;
	if (rc != 0)
		fail_msg("eid-load exited %d:\n%s", rc, out);
	if (!stall.stalled)
		fail_msg("the daemon was not stalled: %s", stall.err);
	if ((r = json_load_file(json, 0, &jerr)) == NULL)
		fail_msg("%s: %s", json, jerr.text);
	assert_int_equal(get_int(r, "requests"), 2000);
	assert_int_equal(get_int(r, "answers"), 2000);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_string_equal(json_string_value(json_object_get(r,
	    "latency_from")), "intended send time");
	max = get_num(r, "max");
	p90 = get_num(r, "p90");
	/* In microseconds; the stall is 500 ms, the run 2 s. */
	if (max < 0.9 * STALL_MS * 1000 || p90 < 0.4 * STALL_MS * 1000)
		fail_msg("a %d ms stall, and max %.0f us, p90 %.0f us",
		    STALL_MS, max, p90);
	/* No warm-up: the stall's worst wait is one second's maximum. */
	assert_true(check_timeline(r) == max);
	json_decref(r);
}

/*
 * --busy-poll and --raw-cpu: the run is as correct as any, and the report
 * holds the raw yardstick measured beside it, with the ratio it gives.
 */
static void
test_load_raw_busy(void **state)
{
	json_t		*r, *raw;
	double		 us, ratio, diff;

	(void)state;
	r = load_ok("raw.json", "--requests 600 --warmup 0 --connections 2 "
	    "--pipeline 4 --reuse distinct --alg-mix ES256 --busy-poll "
	    "--raw-cpu 0");
	assert_int_equal(get_int(r, "requests"), 600);
	assert_int_equal(get_int(r, "answers"), 600);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "mismatches"), 0);
	raw = json_object_get(r, "raw");
	assert_non_null(raw);
	assert_string_equal(json_string_value(json_object_get(raw, "alg")),
	    "ES256");
	assert_int_equal(get_int(raw, "cpu"), 0);
	/* 600 cold ES256 verifies take long enough for a few batches. */
	assert_true(get_int(raw, "verifies") > 0);
	us = get_num(raw, "us_per_verify");
	assert_true(us > 0);
	assert_true(get_num(raw, "cpu_s") > 0);
	ratio = get_num(r, "server_cpu_ratio");
	diff = ratio * us - get_num(r, "server_cpu_us_per_request");
	if (ratio < 0 || diff > 1e-6 * (1 + ratio * us) ||
	    -diff > 1e-6 * (1 + ratio * us))
		fail_msg("server_cpu_ratio %g is not %g / %g", ratio,
		    get_num(r, "server_cpu_us_per_request"), us);
	json_decref(r);
}

/*
 * Distinct lines of a file, with a warm-up: the warm-up and the measured
 * sequence share no line when the file holds enough for both, so every
 * measured verify is cold.  The open loop bounds the warm-up's count
 * (at most 100 at 200/s for 0.5 s; 300 measured; 600 lines).
 */
static void
test_load_file_distinct(void **state)
{
	char		 cmd[1024], out[4096], file[700], args[900];
	json_t		*r;

	(void)state;
	snprintf(file, sizeof(file), "%s/distinct.tokens", d.dir);
	snprintf(cmd, sizeof(cmd), "'%s/bin/eid-mint' --certs '%s' --alg EdDSA "
	    "--ttl 3600 --count 600 > '%s'", build_dir(), th_certs_dir(), file);
	if (run_cmd(cmd, out, sizeof(out)) != 0)
		fail_msg("eid-mint: %s", out);
	snprintf(args, sizeof(args), "--tokens '%s' --reuse distinct "
	    "--rate 200 --warmup 0.5 --requests 300 --connections 2", file);
	r = load_ok("distinct.json", args);
	assert_int_equal(get_int(r, "requests"), 300);
	assert_int_equal(get_int(r, "answers"), 300);
	assert_int_equal(get_int(r, "errors"), 0);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_int_equal(get_int(r, "cache_hits"), 0);
	json_decref(r);

	/* Two generators take every other line of the same ranges. */
	snprintf(cmd, sizeof(cmd), "'%s/bin/eid-mint' --certs '%s' --alg EdDSA "
	    "--ttl 3600 --count 600 > '%s'", build_dir(), th_certs_dir(), file);
	if (run_cmd(cmd, out, sizeof(out)) != 0)
		fail_msg("eid-mint: %s", out);
	strncat(args, " --threads 2", sizeof(args) - strlen(args) - 1);
	r = load_ok("distinct-threads.json", args);
	assert_int_equal(get_int(r, "answers"), 300);
	assert_int_equal(get_int(r, "mismatches"), 0);
	assert_int_equal(get_int(r, "cache_hits"), 0);
	json_decref(r);
}

/*
 * Runs that fail: tokens labelled with a verdict they cannot earn are
 * mismatches, and a token too long for the client to send fails its
 * frame, which ends a run on one connection (it used to wait for an
 * answer that could not come).  Both exit 1 with a report whose seconds
 * hold those mismatches and errors.
 */
static void
test_load_file_failures(void **state)
{
	char		 cmd[2048], out[8192], file[700], json[700];
	char		 load[8192], sh[8448];
	json_t		*r;
	json_error_t	 jerr;
	FILE		*fp;
	int		 i;

	(void)state;
	snprintf(file, sizeof(file), "%s/mislabelled.tokens", d.dir);
	snprintf(json, sizeof(json), "%s/mislabelled.json", d.dir);
	snprintf(cmd, sizeof(cmd), "'%s/bin/eid-mint' --certs '%s' --alg EdDSA "
	    "--ttl 3600 --count 20 | sed 's/$/ EXPIRED/' > '%s'", build_dir(),
	    th_certs_dir(), file);
	if (run_cmd(cmd, out, sizeof(out)) != 0)
		fail_msg("eid-mint: %s", out);
	snprintf(cmd, sizeof(cmd), "--tokens '%s' --requests 40 --warmup 0 "
	    "--connections 1", file);
	assert_int_equal(run_load(json, cmd, out, sizeof(out)), 1);
	if ((r = json_load_file(json, 0, &jerr)) == NULL)
		fail_msg("%s: %s", json, jerr.text);
	assert_int_equal(get_int(r, "requests"), 40);
	assert_int_equal(get_int(r, "mismatches"), 40);
	(void)check_timeline(r);
	json_decref(r);

	snprintf(file, sizeof(file), "%s/oversized.tokens", d.dir);
	snprintf(json, sizeof(json), "%s/oversized.json", d.dir);
	assert_non_null(fp = fopen(file, "w"));
	for (i = 0; i < 16400; i++)
		fputc('a', fp);
	fputs(" OK\n", fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(cmd, sizeof(cmd), "--tokens '%s' --requests 50 --warmup 0 "
	    "--connections 1", file);
	load_cmd(load, sizeof(load), json, cmd);
	snprintf(sh, sizeof(sh), "timeout 60 %s --quiet >/dev/null 2>&1",
	    load);
	assert_int_equal(run_cmd(sh, out, sizeof(out)), 1);
	if ((r = json_load_file(json, 0, &jerr)) == NULL)
		fail_msg("%s: %s", json, jerr.text);
	assert_true(get_int(r, "errors") > 0);
	assert_int_equal(get_int(r, "answers"), 0);
	(void)check_timeline(r);
	json_decref(r);
}

/* Their mistakes are one-line usage errors, before anything is sent. */
static void
test_load_raw_usage(void **state)
{
	(void)state;
	expect_usage("--raw-cpu 0 --alg-mix ES256,RS256",
	    "--raw-cpu needs one algorithm in --alg-mix");
	expect_usage("--raw-cpu -1", "--raw-cpu: \"-1\" is not a number");
	expect_usage("--raw-cpu 5000", "--raw-cpu: 5000 is out of range");
	expect_usage("--raw-cpu 1023", "--raw-cpu 1023: this machine has "
	    "CPUs 0 to");
	expect_usage("--busy-poll=1", "--busy-poll takes no value");
}

static void
test_load_threads_usage(void **state)
{
	(void)state;
	expect_usage("--threads 0", "--threads: 0 is out of range");
	expect_usage("--threads 5 --connections 4", "--threads 5 needs at "
	    "least as many --connections (4)");
	expect_usage("--threads 3 --requests 2", "--threads 3 needs at "
	    "least as many --requests (2)");
}

/*
 * eid-load --opt path must exit 2 with "eid-load: [--opt ]path: reason":
 * the option is named for every file but a token file.
 */
static void
expect_bad_file(const char *opt, const char *path, bool named,
    const char *reason)
{
	char	 args[1600], what[1600];

	snprintf(args, sizeof(args), "%s '%s'", opt, path);
	snprintf(what, sizeof(what), "%s%s%s: %s", named ? opt : "",
	    named ? " " : "", path, reason);
	expect_input_error(args, what);
}

/* A file of the test's directory holding text. */
static void
write_file(const char *path, const char *text)
{
	FILE	*fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/*
 * A token, certificate or key file that cannot be used, or a report that
 * could not be written, is found before anything is sent: one line, exit
 * status 2.
 * (Not a file without read permission: the tests may run as root.)
 */
static void
test_load_input_usage(void **state)
{
	char	 path[700];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-file.tokens", d.dir);
	expect_bad_file("--tokens", path, false, "No such file or directory");
	expect_bad_file("--tokens", d.dir, false, "Is a directory");
	snprintf(path, sizeof(path), "%s/empty.tokens", d.dir);
	write_file(path, "# only a comment\n\n");
	expect_bad_file("--tokens", path, false, "no token");
	snprintf(path, sizeof(path), "%s/verdict.tokens", d.dir);
	write_file(path, "a.b.c OK\na.b.c NOT_A_VERDICT\n");
	expect_bad_file("--tokens", path, false,
	    "line 2: unknown verdict \"NOT_A_VERDICT\"");

	snprintf(path, sizeof(path), "%s/no-such-dir/report.json", d.dir);
	expect_bad_file("--json", path, true, "No such file or directory");
	expect_bad_file("--json", d.dir, true, "Is a directory");
	snprintf(path, sizeof(path), "%s/no-such-dir/latency.hgrm", d.dir);
	expect_bad_file("--hist", path, true, "No such file or directory");

	snprintf(path, sizeof(path), "%s/no-such.crt", d.dir);
	expect_bad_file("--cert", path, true, "No such file or directory");
	expect_bad_file("--ca", d.dir, true, "Is a directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_merge, setup,
		    teardown),
		cmocka_unit_test(test_load_revoke_long_issuer),
		cmocka_unit_test_setup_teardown(test_load_mix, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_open_loop, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_open_loop_stalled,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_reconnect, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_batch_usage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_raw_busy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_raw_usage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_file_failures, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_file_distinct, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_threads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_threads_distinct,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_threads_window,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_threads_mint,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_threads_interrupt,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_threads_usage,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_input_usage, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
