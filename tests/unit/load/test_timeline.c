/*
 * tests/unit/load/test_timeline.c -- eid-load's second-by-second series
 * (load/timeline.c): seconds counted from the first writer's start,
 * empty seconds kept, none after the last completion, the writers'
 * latencies of one second taken together, a second kept open while a
 * writer may still add to it, and the misuses refused.  Links
 * load/timeline.c and load/hist.c alone; times are made up, no clock.
 */
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
	assert_int_equal(tl_writer_done(w), 0);
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
	assert_int_equal(tl_writer_done(a), 0);
	assert_null(tl_seconds(tl, &n));
	assert_int_equal(tl_writer_done(b), 0);
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
	assert_int_equal(tl_writer_done(fast), 0);
	assert_int_equal(tl_writer_done(late), 0);
	assert_int_equal(tl_writer_done(slow), 0);
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
	assert_int_equal(tl_writer_done(a), 0);
	assert_null(tl_seconds(tl, &n));
	assert_int_equal(tl_writer_done(b), 0);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].completed, 1);
	tl_free(tl);

	/* Nobody answered anything: an empty series. */
	assert_non_null(tl = tl_new(1));
	assert_non_null(a = tl_writer_new(tl, 0));
	assert_int_equal(tl_begin(a, T0), 0);
	assert_int_equal(tl_tick(a, T0 + 3 * S), 0);
	assert_int_equal(tl_writer_done(a), 0);
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
	assert_int_equal(tl_writer_done(a), 0);
	assert_int_equal(tl_writer_done(b), 0);
	assert_non_null(s = tl_seconds(tl, &n));
	assert_int_equal(n, 1);
	assert_int_equal(s[0].completed, 1);
	assert_int_equal(tl_writer_done(NULL), 0);
	tl_free(tl);
	tl_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_writer),
		cmocka_unit_test(test_merged),
		cmocka_unit_test(test_slow_writer),
		cmocka_unit_test(test_never_begun),
		cmocka_unit_test(test_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
