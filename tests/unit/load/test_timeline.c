/*
 * tests/unit/load/test_timeline.c -- eid-load's second-by-second series
 * (load/timeline.c): seconds counted from the first writer's start,
 * empty seconds kept, none after the last completion, the writers'
 * latencies of one second taken together, a second kept open while a
 * writer may still add to it (one that has not begun included), four
 * threads at once, and the misuses refused.  Links load/timeline.c and
 * load/hist.c alone; times are made up, no clock.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "timeline.h"

#define S	UINT64_C(1000000000)
#define MS	UINT64_C(1000000)
#define T0	(UINT64_C(5000) * S + 123)	/* an arbitrary origin */

/* v within hist.h's precision (a relative error under 1/1024) of want. */
static void
assert_near(uint64_t v, uint64_t want)
{
	if (v < want || v - want > want / 1024)
		fail_msg("%llu, not %llu", (unsigned long long)v,
		    (unsigned long long)want);
}

/* One writer: three seconds with answers, one empty between. */
static void
test_one_writer(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*w;
	size_t			 n;

	(void)state;
	assert_non_null(tl = tl_new(1));
	assert_non_null(w = tl_writer_new(tl, 0));
	assert_int_equal(tl_begin(w, T0), 0);
	/* Second 0: three answers, 1, 2 and 3 ms, one of them a mismatch. */
	assert_int_equal(tl_record(w, T0 + 10 * MS, 1, false, 0, 0, true,
	    1 * MS), 0);
	assert_int_equal(tl_record(w, T0 + 500 * MS, 1, false, 0, 1, true,
	    3 * MS), 0);
	assert_int_equal(tl_record(w, T0 + S - 1, 1, false, 0, 0, true,
	    2 * MS), 0);
	/* Second 1: a frame of 16 tokens failed, no latency. */
	assert_int_equal(tl_record(w, T0 + S, 16, true, 16, 0, false, 0), 0);
	/* Nothing in second 2; second 3: a measured answer of 40 ms. */
	assert_int_equal(tl_tick(w, T0 + 2 * S + 1), 0);
	assert_int_equal(tl_record(w, T0 + 3 * S + 7, 1, true, 0, 0, true,
	    40 * MS), 0);
	/* Not before every writer is done. */
	assert_null(tl_seconds(tl, &n));
	assert_int_equal(n, 0);
	/* The clock runs on without answers: those seconds do not count. */
	assert_int_equal(tl_tick(w, T0 + 9 * S), 0);
	tl_writer_done(w);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 4);

	assert_int_equal(s[0].completed, 3);
	assert_int_equal(s[0].measured, 0);
	assert_int_equal(s[0].errors, 0);
	assert_int_equal(s[0].mismatches, 1);
	assert_int_equal(s[0].latencies, 3);
	assert_near(s[0].p50, 2 * MS);
	assert_near(s[0].p90, 3 * MS);
	assert_near(s[0].p99, 3 * MS);
	assert_int_equal(s[0].max, 3 * MS);

	assert_int_equal(s[1].completed, 16);
	assert_int_equal(s[1].measured, 16);
	assert_int_equal(s[1].errors, 16);
	assert_int_equal(s[1].latencies, 0);
	assert_int_equal(s[1].p99, 0);
	assert_int_equal(s[1].max, 0);

	assert_int_equal(s[2].completed, 0);
	assert_int_equal(s[2].latencies, 0);
	assert_int_equal(s[2].max, 0);

	assert_int_equal(s[3].completed, 1);
	assert_int_equal(s[3].measured, 1);
	assert_int_equal(s[3].latencies, 1);
	assert_int_equal(s[3].max, 40 * MS);
	assert_near(s[3].p50, 40 * MS);
	tl_free(tl);
}

/*
 * Two writers in the same second: the percentiles are those of both
 * together (100 of 1 ms and 100 of 10 ms: p50 1 ms, p90 and p99 10 ms),
 * not of either, nor of their average.
 */
static void
test_merged(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*a, *b;
	size_t			 n, i;

	(void)state;
	assert_non_null(tl = tl_new(2));
	assert_non_null(a = tl_writer_new(tl, 0));
	assert_non_null(b = tl_writer_new(tl, 1));
	assert_int_equal(tl_begin(a, T0), 0);
	assert_int_equal(tl_begin(b, T0 + 5), 0);
	for (i = 0; i < 100; i++) {
		assert_int_equal(tl_record(a, T0 + i * MS, 1, true, 0, 0,
		    true, 1 * MS), 0);
		assert_int_equal(tl_record(b, T0 + 5 + i * MS, 1, true, 0, 0,
		    true, 10 * MS), 0);
	}
	assert_int_equal(tl_record(a, T0 + S + 1, 2, true, 1, 0, true,
	    5 * MS), 0);
	tl_writer_done(a);
	assert_null(tl_seconds(tl, &n));
	tl_writer_done(b);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 2);
	assert_int_equal(s[0].completed, 200);
	assert_int_equal(s[0].latencies, 200);
	assert_near(s[0].p50, 1 * MS);
	assert_near(s[0].p90, 10 * MS);
	assert_near(s[0].p99, 10 * MS);
	assert_int_equal(s[0].max, 10 * MS);
	assert_int_equal(s[1].completed, 2);
	assert_int_equal(s[1].errors, 1);
	assert_int_equal(s[1].max, 5 * MS);
	tl_free(tl);
}

/*
 * A writer far ahead does not close the seconds a slower one is still
 * in: the slow one's late answers land in their own second.  A writer
 * that begins late joins the first one's origin.
 */
static void
test_slow_writer(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*fast, *slow, *late;
	size_t			 n;

	(void)state;
	assert_non_null(tl = tl_new(3));
	assert_non_null(fast = tl_writer_new(tl, 0));
	assert_non_null(slow = tl_writer_new(tl, 1));
	assert_non_null(late = tl_writer_new(tl, 2));
	assert_int_equal(tl_begin(fast, T0), 0);
	assert_int_equal(tl_begin(slow, T0 + 1), 0);
	assert_int_equal(tl_record(fast, T0 + 5 * S, 1, true, 0, 0, true,
	    1 * MS), 0);
	assert_int_equal(tl_tick(fast, T0 + 8 * S), 0);
	/* The slow one has not left second 0 yet. */
	assert_int_equal(tl_record(slow, T0 + S / 2, 1, true, 0, 0, true,
	    7 * MS), 0);
	/* 2.5 s after the origin: second 2 of the series. */
	assert_int_equal(tl_begin(late, T0 + 2 * S + S / 2), 0);
	assert_int_equal(tl_record(late, T0 + 2 * S + S / 2 + 1, 3, true, 0,
	    0, true, 2 * MS), 0);
	tl_writer_done(fast);
	tl_writer_done(late);
	tl_writer_done(slow);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 6);
	assert_int_equal(s[0].completed, 1);
	assert_int_equal(s[0].max, 7 * MS);
	assert_int_equal(s[1].completed, 0);
	assert_int_equal(s[2].completed, 3);
	assert_int_equal(s[2].max, 2 * MS);
	assert_int_equal(s[3].completed + s[4].completed, 0);
	assert_int_equal(s[5].completed, 1);
	assert_int_equal(s[5].max, 1 * MS);
	tl_free(tl);
}

/* 1 to 1000 ms in one second: each percentile is its own value. */
static void
test_percentiles(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*w;
	size_t			 n;
	uint64_t		 v;

	(void)state;
	assert_non_null(tl = tl_new(1));
	assert_non_null(w = tl_writer_new(tl, 0));
	assert_int_equal(tl_begin(w, T0), 0);
	/* In a shuffled order (7 is prime to 1000). */
	for (v = 0; v < 1000; v++)
		assert_int_equal(tl_record(w, T0 + v, 1, true, 0, 0, true,
		    ((v * 7) % 1000 + 1) * MS), 0);
	tl_writer_done(w);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].latencies, 1000);
	assert_near(s[0].p50, 500 * MS);
	assert_near(s[0].p90, 900 * MS);
	assert_near(s[0].p99, 990 * MS);
	assert_int_equal(s[0].max, 1000 * MS);
	tl_free(tl);
}

/*
 * A writer that has not begun holds second 0 open: another writer far
 * ahead closes nothing, and the late one's first answer still lands in
 * second 0 (its clock read before the first writer's began).
 */
static void
test_not_begun_holds(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*a, *b;
	size_t			 n;

	(void)state;
	assert_non_null(tl = tl_new(2));
	assert_non_null(a = tl_writer_new(tl, 0));
	assert_non_null(b = tl_writer_new(tl, 1));
	assert_int_equal(tl_begin(a, T0), 0);
	assert_int_equal(tl_record(a, T0 + 4 * S, 1, true, 0, 0, true, MS),
	    0);
	assert_int_equal(tl_tick(a, T0 + 6 * S), 0);
	assert_int_equal(tl_begin(b, T0 - 10), 0);
	assert_int_equal(tl_record(b, T0 + 1, 2, true, 0, 0, true, 3 * MS),
	    0);
	tl_writer_done(a);
	tl_writer_done(b);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 5);
	assert_int_equal(s[0].completed, 2);
	assert_int_equal(s[0].max, 3 * MS);
	assert_int_equal(s[4].completed, 1);
	tl_free(tl);
}

/*
 * Four threads, each its own writer over ten seconds of made-up time,
 * handing over while the others record: every token is counted once,
 * in its own second, whatever the interleaving.
 */
#define STRESS_WRITERS	4
#define STRESS_PER_SEC	2000

struct stress {
	struct tl_writer *w;
	int		 rc;
};

static void *
stress_main(void *arg)
{
	struct stress	*st = arg;
	uint64_t	 t, k;

	st->rc = tl_begin(st->w, T0);
	for (t = 0; t < 10 && st->rc == 0; t++)
		for (k = 0; k < STRESS_PER_SEC && st->rc == 0; k++)
			st->rc = tl_record(st->w, T0 + t * S + k * (S /
			    STRESS_PER_SEC), 1, t >= 2, 0, 0, true,
			    (t + 1) * MS);
	tl_writer_done(st->w);
	return NULL;
}

static void
test_threads(void **state)
{
	const struct tl_second	*s;
	struct stress		 st[STRESS_WRITERS];
	pthread_t		 th[STRESS_WRITERS];
	struct tl		*tl;
	size_t			 n, i;

	(void)state;
	assert_non_null(tl = tl_new(STRESS_WRITERS));
	for (i = 0; i < STRESS_WRITERS; i++) {
		st[i].rc = 0;
		assert_non_null(st[i].w = tl_writer_new(tl, i));
	}
	for (i = 0; i < STRESS_WRITERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, stress_main,
		    &st[i]), 0);
	for (i = 0; i < STRESS_WRITERS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(st[i].rc, 0);
	}
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++) {
		assert_int_equal(s[i].completed, STRESS_WRITERS *
		    STRESS_PER_SEC);
		assert_int_equal(s[i].measured, i >= 2 ? STRESS_WRITERS *
		    STRESS_PER_SEC : 0);
		assert_int_equal(s[i].latencies, STRESS_WRITERS *
		    STRESS_PER_SEC);
		assert_int_equal(s[i].max, (i + 1) * MS);
		assert_near(s[i].p50, (i + 1) * MS);
	}
	tl_free(tl);
}

/* A writer that never began does not hold the series back once done. */
static void
test_never_begun(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*a, *b;
	size_t			 n;

	(void)state;
	assert_non_null(tl = tl_new(2));
	assert_non_null(a = tl_writer_new(tl, 0));
	assert_non_null(b = tl_writer_new(tl, 1));
	assert_int_equal(tl_begin(a, T0), 0);
	assert_int_equal(tl_record(a, T0 + 1, 1, true, 0, 0, true, MS), 0);
	tl_writer_done(a);
	assert_null(tl_seconds(tl, &n));
	tl_writer_done(b);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].completed, 1);
	tl_free(tl);

	/* Nobody answered anything: an empty series. */
	assert_non_null(tl = tl_new(1));
	assert_non_null(a = tl_writer_new(tl, 0));
	assert_int_equal(tl_begin(a, T0), 0);
	assert_int_equal(tl_tick(a, T0 + 3 * S), 0);
	tl_writer_done(a);
	assert_non_null(tl_seconds(tl, &n));
	assert_int_equal(n, 0);
	tl_free(tl);
}

static void
test_misuse(void **state)
{
	const struct tl_second	*s;
	struct tl		*tl;
	struct tl_writer	*a, *b;
	size_t			 n;

	(void)state;
	assert_null(tl_new(0));
	assert_non_null(tl = tl_new(2));
	assert_int_equal(tl_origin(tl), 0);
	assert_null(tl_writer_new(tl, 2));
	assert_non_null(a = tl_writer_new(tl, 0));
	assert_null(tl_writer_new(tl, 0));
	assert_non_null(b = tl_writer_new(tl, 1));
	/* Nothing is counted, nor the clock moved, before the start. */
	assert_int_equal(tl_record(a, T0, 1, true, 0, 0, true, MS), -1);
	assert_int_equal(tl_tick(a, T0), -1);
	assert_int_equal(tl_begin(a, T0), 0);
	assert_int_equal(tl_begin(a, T0), -1);
	assert_int_equal(tl_origin(tl), T0);
	/* Read just before the first writer's: second 0 all the same. */
	assert_int_equal(tl_begin(b, T0 - 1), 0);
	assert_int_equal(tl_record(b, T0 - 1, 1, true, 0, 0, true, MS), 0);
	tl_writer_done(a);
	tl_writer_done(b);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].completed, 1);
	tl_writer_done(NULL);
	tl_free(tl);
	tl_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_merged),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_not_begun_holds),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_slow_writer),
		cmocka_unit_test(test_never_begun),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
