/*
 * tests/unit/load/test_hist.c -- eid-load's latency histogram (load/hist.c)
 * against known distributions.
 *
 * hist.h promises, for every percentile p: the value returned is at least
 * the exact nearest-rank percentile of the values recorded (the
 * ceil(p% of n)-th smallest) and exceeds it by less than 1/1024 of it,
 * and never passes the exact maximum; values below 2048 are kept exactly;
 * minimum, maximum and mean are exact.  Each test checks that against the
 * sorted values themselves, for exact small values, uniform, exponential
 * and log-normal latencies, every bucket edge, clamping, merging and
 * resetting; the percentile distribution it writes in HdrHistogram's
 * form; and its counters as HdrHistogram numbers them.  Links
 * load/hist.c alone.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

#define PI	3.14159265358979323846

/* The percentiles eid-load reports, and others around them. */
static const double pcts[] = {
	0, 0.001, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99,
	99.999, 100
};
#define NPCTS	(sizeof(pcts) / sizeof(pcts[0]))

/* A seeded generator (splitmix64), so every run sees the same values. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t	 z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in (0, 1). */
static double
unit(uint64_t *s)
{
	return ((double)(rnd(s) >> 11) + 0.5) / 9007199254740992.0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The ceil(p% of n)-th smallest (at least the first), in exact arithmetic
 * for the decimal percentiles above: p is a whole number of thousandths. */
static uint64_t
exact_at(const uint64_t *sorted, size_t n, double p)
{
	uint64_t	 pk = (uint64_t)llround(p * 1000.0), rank;

	rank = (pk * (uint64_t)n + 100000 - 1) / 100000;
	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

/*
 * Record v[0..n) in a histogram and check every promise against the
 * sorted values: count, exact min, max and mean, and each percentile at
 * or above the exact one by less than 1/1024 of it, never above max.
 */
static void
check_values(uint64_t *v, size_t n, const char *what)
{
	struct hist	*h = hist_new();
	double		 sum = 0, mean;
	uint64_t	 got, want;
	size_t		 i;

	assert_non_null(h);
	for (i = 0; i < n; i++) {
		hist_record(h, v[i]);
		sum += (double)v[i];
	}
	qsort(v, n, sizeof(v[0]), cmp_u64);
	assert_int_equal(hist_count(h), n);
	assert_int_equal(hist_clamped(h), 0);
	assert_int_equal(hist_min(h), v[0]);
	assert_int_equal(hist_max(h), v[n - 1]);
	mean = hist_mean(h);
	if (fabs(mean - sum / (double)n) > 1e-9 * (sum / (double)n))
		fail_msg("%s: mean %.17g, not %.17g", what, mean,
		    sum / (double)n);
	for (i = 0; i < NPCTS; i++) {
		got = hist_value_at(h, pcts[i]);
		want = exact_at(v, n, pcts[i]);
		/* got - want < want / 1024, as 1024 * (got - want) < want. */
		if (got < want || (got - want) * 1024 >= (want > 0 ? want :
		    1) || got > v[n - 1])
			fail_msg("%s: p%g of %zu values is %llu; exact %llu "
			    "(max %llu)", what, pcts[i], n,
			    (unsigned long long)got, (unsigned long long)want,
			    (unsigned long long)v[n - 1]);
	}
	hist_free(h);
}

/* An empty histogram answers 0 to everything. */
static void
test_empty(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	assert_non_null(h);
	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_min(h), 0);
	assert_int_equal(hist_max(h), 0);
	assert_true(hist_mean(h) == 0.0);
	assert_int_equal(hist_value_at(h, 50), 0);
	assert_int_equal(hist_value_at(h, 100), 0);
	hist_free(h);
	hist_free(NULL);
}

/*
 * 1..1000 once each: the nearest-rank percentiles are the percentile
 * times ten, exactly (values below 2048 are kept exactly).  p99.9 is 999,
 * not the maximum: 99.9 / 100 * 1000 is 999.0000000000001 in doubles.
 */
static void
test_one_to_thousand(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 i;

	(void)state;
	assert_non_null(h);
	for (i = 1000; i >= 1; i--)
		hist_record(h, i);
	assert_int_equal(hist_value_at(h, 0), 1);
	assert_int_equal(hist_value_at(h, 0.1), 1);
	assert_int_equal(hist_value_at(h, 0.15), 2);
	assert_int_equal(hist_value_at(h, 50), 500);
	assert_int_equal(hist_value_at(h, 90), 900);
	assert_int_equal(hist_value_at(h, 99), 990);
	assert_int_equal(hist_value_at(h, 99.9), 999);
	assert_int_equal(hist_value_at(h, 99.95), 1000);
	assert_int_equal(hist_value_at(h, 100), 1000);
	/* Out of range: clamped to 0 and 100. */
	assert_int_equal(hist_value_at(h, -5), 1);
	assert_int_equal(hist_value_at(h, 250), 1000);
	assert_int_equal(hist_value_at(h, NAN), 1);
	assert_true(hist_mean(h) == 500.5);
	hist_free(h);
}

/*
 * Every value below 2048 is its own counter: each rank answers exactly.
 * 0..1999, and p in steps of 0.05: the k-th step is the k-th value.
 */
static void
test_small_values_exact(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 v;

	(void)state;
	assert_non_null(h);
	for (v = 0; v < 2000; v++)
		hist_record(h, 1999 - v);
	for (v = 1; v <= 2000; v++)
		if (hist_value_at(h, 0.05 * (double)v) != v - 1)
			fail_msg("p%g: %llu, not %llu", 0.05 * (double)v,
			    (unsigned long long)hist_value_at(h,
			    0.05 * (double)v), (unsigned long long)(v - 1));
	/* A p of more decimals is taken as it is: 2/3 % of 2000 is 13.3. */
	assert_int_equal(hist_value_at(h, 2.0 / 3.0), 13);
	hist_free(h);
}

/* Uniform over 1 ns .. 1 s, a million values. */
static void
test_uniform(void **state)
{
	const size_t	 n = 1000000;
	uint64_t	*v = malloc(n * sizeof(*v)), s = 1;
	size_t		 i;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < n; i++)
		v[i] = 1 + rnd(&s) % 1000000000;
	check_values(v, n, "uniform");
	free(v);
}

/* Exponential with a mean of 200 us, in ns: a queue's waiting times. */
static void
test_exponential(void **state)
{
	const size_t	 n = 500000;
	uint64_t	*v = malloc(n * sizeof(*v)), s = 2;
	size_t		 i;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < n; i++)
		v[i] = (uint64_t)(-200000.0 * log(unit(&s)));
	check_values(v, n, "exponential");
	free(v);
}

/* Log-normal around 300 us with a long tail (sigma 1.5), in ns. */
static void
test_lognormal(void **state)
{
	const size_t	 n = 500000;
	uint64_t	*v = malloc(n * sizeof(*v)), s = 3;
	double		 z;
	size_t		 i;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < n; i++) {
		/* Box-Muller. */
		z = sqrt(-2.0 * log(unit(&s))) * cos(2.0 * PI * unit(&s));
		v[i] = (uint64_t)exp(log(300000.0) + 1.5 * z);
	}
	check_values(v, n, "lognormal");
	free(v);
}

/*
 * Both sides of every power of two up to the highest value kept, where
 * a bucket ends and the next, of twice the step, begins: alone, each
 * value is the maximum and every percentile answers it exactly; beside
 * a larger one, its percentile is its bucket's highest value, within
 * 1/1024 above it.
 */
static void
test_bucket_edges(void **state)
{
	struct hist	*h = hist_new();
	uint64_t	 v, got, vals[3];
	int		 k, j;

	(void)state;
	assert_non_null(h);
	for (k = 10; k < 40; k++) {
		vals[0] = (UINT64_C(1) << k) - 1;
		vals[1] = UINT64_C(1) << k;
		vals[2] = (UINT64_C(1) << k) + 1;
		for (j = 0; j < 3; j++) {
			v = vals[j];
			hist_reset(h);
			hist_record(h, v);
			assert_int_equal(hist_value_at(h, 50), v);
			hist_record(h, HIST_HIGHEST);
			got = hist_value_at(h, 50);
			if (got < v || (got - v) * 1024 >= v)
				fail_msg("2^%d%+d: p50 %llu, value %llu", k,
				    j - 1, (unsigned long long)got,
				    (unsigned long long)v);
		}
	}
	hist_free(h);
}

/* Values above the highest kept are counted as it, and said so. */
static void
test_clamped(void **state)
{
	struct hist	*h = hist_new();

	(void)state;
	assert_non_null(h);
	hist_record(h, 5);
	hist_record(h, HIST_HIGHEST + 1);
	hist_record(h, UINT64_MAX);
	assert_int_equal(hist_count(h), 3);
	assert_int_equal(hist_clamped(h), 2);
	assert_int_equal(hist_max(h), HIST_HIGHEST);
	assert_int_equal(hist_value_at(h, 100), HIST_HIGHEST);
	assert_int_equal(hist_value_at(h, 33), 5);
	hist_free(h);
}

/*
 * Counts past 10^8 and 2^64 / 10^8, where a rank worked out as
 * count * p would wrap: a histogram added to itself 40 times holds 2^40
 * of each of 100, 200, 300 and 400, and its percentiles are still
 * theirs.
 */
static void
test_huge_counts(void **state)
{
	struct hist	*h = hist_new();
	int		 i;

	(void)state;
	assert_non_null(h);
	hist_record(h, 100);
	hist_record(h, 200);
	hist_record(h, 300);
	hist_record(h, 400);
	for (i = 0; i < 40; i++)
		hist_add(h, h);
	assert_int_equal(hist_count(h), UINT64_C(4) << 40);
	assert_int_equal(hist_value_at(h, 25), 100);
	assert_int_equal(hist_value_at(h, 25.000001), 200);
	assert_int_equal(hist_value_at(h, 50), 200);
	assert_int_equal(hist_value_at(h, 60), 300);
	assert_int_equal(hist_value_at(h, 75), 300);
	assert_int_equal(hist_value_at(h, 99.9), 400);
	assert_int_equal(hist_value_at(h, 0.000001), 100);
	hist_free(h);
}

/*
 * Two histograms added answer as one that saw all the values (eid-load
 * adds the warm-up's and the window's, and one per thread); reset
 * forgets everything.
 */
static void
test_add_reset(void **state)
{
	struct hist	*a = hist_new(), *b = hist_new(), *all = hist_new();
	uint64_t	 s = 4, x;
	size_t		 i;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(all);
	for (i = 0; i < 200000; i++) {
		x = (uint64_t)(-1e6 * log(unit(&s)));
		hist_record(i % 3 == 0 ? a : b, x);
		hist_record(all, x);
	}
	hist_record(a, HIST_HIGHEST + 7);
	hist_record(all, HIST_HIGHEST + 7);
	hist_add(a, b);
	assert_int_equal(hist_count(a), hist_count(all));
	assert_int_equal(hist_clamped(a), 1);
	assert_int_equal(hist_min(a), hist_min(all));
	assert_int_equal(hist_max(a), hist_max(all));
	assert_true(fabs(hist_mean(a) - hist_mean(all)) <=
	    1e-9 * hist_mean(all));
	for (i = 0; i < NPCTS; i++)
		assert_int_equal(hist_value_at(a, pcts[i]),
		    hist_value_at(all, pcts[i]));
	/* Adding an empty one changes nothing, the minimum included. */
	hist_reset(b);
	hist_add(a, b);
	assert_int_equal(hist_count(a), hist_count(all));
	assert_int_equal(hist_min(a), hist_min(all));
	hist_reset(a);
	assert_int_equal(hist_count(a), 0);
	assert_int_equal(hist_clamped(a), 0);
	assert_int_equal(hist_value_at(a, 99), 0);
	hist_record(a, 42);
	assert_int_equal(hist_min(a), 42);
	assert_int_equal(hist_max(a), 42);
	hist_free(a);
	hist_free(b);
	hist_free(all);
}

/*
 * The percentile distribution in HdrHistogram's form: its header, rows
 * at 0, 10 ... 50, 55 ... 75, 77.5 ... % whose values are
 * hist_value_at()'s and whose TotalCount is how many lie at or below,
 * percentiles rising and values never falling, the maximum at 1.000000
 * with "inf", and the '#' lines.
 */
static void
test_print_percentiles(void **state)
{
	struct hist	*h = hist_new();
	char		*text = NULL, *line, *save = NULL;
	size_t		 len = 0;
	FILE		*fp;
	double		 v, pct, inv, last_v = -1, last_p = -1;
	unsigned long long total, last_total = 0;
	unsigned int	 rows = 0, i, seen_mid = 0;
	char		 tail[32];
	uint64_t	 k;

	(void)state;
	assert_non_null(h);
	for (k = 1; k <= 1000; k++)
		hist_record(h, k * 1000);
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	assert_int_equal(hist_print_percentiles(h, fp, 5, 1000.0), 0);
	assert_int_equal(fclose(fp), 0);
	line = strtok_r(text, "\n", &save);
	assert_non_null(line);
	assert_non_null(strstr(line, "Value"));
	assert_non_null(strstr(line, "1/(1-Percentile)"));
	for (line = strtok_r(NULL, "\n", &save); line != NULL &&
	    line[0] != '#'; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%lf %lf %llu %31s", &v, &pct, &total,
		    tail) != 4)
			fail_msg("row \"%s\"", line);
		assert_true(pct > last_p);
		assert_true(v >= last_v);
		assert_true(total >= last_total && total <= 1000);
		if (pct < 1.0) {
			/* pct is printed to six decimals, inv from it exact */
			inv = strtod(tail, NULL);
			assert_true(fabs(inv - 1.0 / (1.0 - pct)) <
			    0.01 + 2e-3 * inv);
			/* The row's value is the percentile's. */
			if (fabs(v - (double)hist_value_at(h, 100.0 * pct) /
			    1000.0) > 0.0005)
				fail_msg("p%g: %.3f, hist_value_at %.3f",
				    100 * pct, v, (double)hist_value_at(h,
				    100.0 * pct) / 1000.0);
		}
		for (i = 1; i <= 5; i++)
			if (fabs(pct - 0.1 * i) < 1e-9 || fabs(pct - 0.5 -
			    0.05 * i) < 1e-9)
				seen_mid++;
		last_p = pct;
		last_v = v;
		last_total = total;
		rows++;
	}
	/* 0.1 ... 0.5 and 0.55 ... 0.75 all there. */
	assert_int_equal(seen_mid, 10);
	assert_true(rows > 30 && rows < 100);
	assert_true(last_p == 1.0);
	assert_true(last_v == 1000.0);
	assert_int_equal(last_total, 1000);
	assert_string_equal(tail, "inf");
	assert_non_null(line);
	/* The mean exact; the deviation from the counters, within 0.1 %
	 * of that of 1..1000 ms, sqrt((1000^2 - 1) / 12) = 288.675. */
	if (sscanf(line, "#[Mean    = %lf, StdDeviation   = %lf]", &v,
	    &inv) != 2 || v != 500.5 || fabs(inv - 288.675) > 0.29)
		fail_msg("\"%s\"", line);
	line = strtok_r(NULL, "\n", &save);
	assert_non_null(line);
	assert_non_null(strstr(line, "#[Max     =     1000.000, Total count"
	    "    =         1000]"));
	free(text);

	/* Empty: the header and the '#' lines; bad arguments refused. */
	hist_reset(h);
	text = NULL;
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	assert_int_equal(hist_print_percentiles(h, fp, 5, 1.0), 0);
	assert_int_equal(hist_print_percentiles(h, fp, 0, 1.0), -1);
	assert_int_equal(hist_print_percentiles(h, fp, 5, 0.0), -1);
	assert_int_equal(fclose(fp), 0);
	assert_null(strstr(text, "inf"));
	assert_non_null(strstr(text, "Total count    =            0]"));
	free(text);
	hist_free(h);
}

/*
 * The counters as HdrHistogram numbers them: they tile 0..HIST_HIGHEST
 * without gap or overlap, each value recorded lands in the counter whose
 * bounds hold it, and a count added to a counter (as hdr.c does when it
 * reads one) moves the extremes to its bounds; a counter out of range,
 * or a count that would overflow, changes nothing.
 */
static void
test_counters(void **state)
{
	struct hist	*h = hist_new();
	size_t		 i, n = hist_counters();
	uint64_t	 lo, hi;

	(void)state;
	assert_non_null(h);
	assert_int_equal(hist_counter_lowest(0), 0);
	assert_int_equal(hist_counter_highest(n - 1), HIST_HIGHEST);
	for (i = 0; i < n; i++) {
		lo = hist_counter_lowest(i);
		hi = hist_counter_highest(i);
		assert_true(lo <= hi);
		if (i + 1 < n)
			assert_int_equal(hist_counter_lowest(i + 1), hi + 1);
		/* At most 1/1024 of the value wide, as hist.h promises. */
		assert_true(hi - lo <= lo / 1024);
		hist_reset(h);
		hist_record(h, lo);
		hist_record(h, hi);
		assert_int_equal(hist_counter(h, i), 2);
	}
	hist_reset(h);
	assert_int_equal(hist_add_counter(h, 3000, 7), 0);
	assert_int_equal(hist_count(h), 7);
	assert_int_equal(hist_counter(h, 3000), 7);
	assert_int_equal(hist_min(h), hist_counter_lowest(3000));
	assert_int_equal(hist_max(h), hist_counter_highest(3000));
	assert_true(hist_mean(h) >= (double)hist_counter_lowest(3000) &&
	    hist_mean(h) <= (double)hist_counter_highest(3000));
	assert_int_equal(hist_add_counter(h, n, 1), -1);
	assert_int_equal(hist_add_counter(h, 0, UINT64_MAX), -1);
	assert_int_equal(hist_count(h), 7);
	assert_int_equal(hist_counter(h, 0), 0);
	assert_int_equal(hist_counter(h, n), 0);
	hist_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_to_thousand),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exponential),
		cmocka_unit_test(test_lognormal),
		cmocka_unit_test(test_bucket_edges),
		cmocka_unit_test(test_clamped),
		cmocka_unit_test(test_add_reset),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_print_percentiles),
		cmocka_unit_test(test_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
