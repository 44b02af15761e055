/*
 * tests/unit/load/test_procstat.c -- the steal eid-load reports
 * (load/procstat.c), read from /proc/stat texts written here: the totals
 * and steal of each CPU line, the share between two readings, kernels
 * without the steal field, and texts that are not /proc/stat.  Links
 * load/procstat.c alone.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "procstat.h"

/* Parse text; returns procstat_parse()'s answer. */
static int
parse(const char *text, struct procstat *ps)
{
	FILE	*fp = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	int	 rc;

	assert_non_null(fp);
	rc = procstat_parse(fp, ps);
	fclose(fp);
	return rc;
}

static const char before[] =
    "cpu  1000 10 500 8000 40 0 50 400 0 0\n"
    "cpu0 600 5 300 3000 20 0 25 350 0 0\n"
    "cpu1 400 5 200 5000 20 0 25 50 0 0\n"
    "intr 123456 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
    "ctxt 99999\n"
    "cpu9 1 1 1 1 1 1 1 1 0 0\n";
static const char after[] =
    "cpu  1500 10 700 9000 40 0 50 700 0 0\n"
    "cpu0 900 5 400 3100 20 0 25 650 0 0\n"
    "cpu1 600 5 300 5900 20 0 25 50 0 0\n"
    "intr 123999\n";

static void
test_share(void **state)
{
	struct procstat	 a, b;

	(void)state;
	assert_int_equal(parse(before, &a), 0);
	assert_int_equal(parse(after, &b), 0);
	/* user nice system idle iowait irq softirq steal; guest excluded. */
	assert_int_equal(a.all.total, 1000 + 10 + 500 + 8000 + 40 + 50 + 400);
	assert_int_equal(a.all.steal, 400);
	assert_int_equal(a.cpu[0].steal, 350);
	assert_true(a.cpu[1].seen);
	assert_false(a.cpu[2].seen);
	/* Lines after the first that is not a CPU's are not read. */
	assert_false(a.cpu[9].seen);
	/* All: 300 stolen of 2000 ticks. */
	assert_true(fabs(procstat_steal_share(&a, &b, -1) - 0.15) < 1e-12);
	/* cpu0: 300 of 800; cpu1: none of 1200. */
	assert_true(fabs(procstat_steal_share(&a, &b, 0) - 0.375) < 1e-12);
	assert_true(procstat_steal_share(&a, &b, 1) == 0.0);
	/* A CPU not in both readings, a CPU out of range, no time. */
	assert_true(procstat_steal_share(&a, &b, 2) == -1);
	assert_true(procstat_steal_share(&a, &b, PROCSTAT_CPUS) == -1);
	assert_true(procstat_steal_share(&a, &b, -2) == -1);
	assert_true(procstat_steal_share(&a, &a, -1) == -1);
	/* Backwards (the readings swapped): no share. */
	assert_true(procstat_steal_share(&b, &a, -1) == -1);
}

/* Each CPU's share; an offline CPU between two online ones is -1. */
static void
test_shares(void **state)
{
	static const char gap0[] =
	    "cpu  300 0 0 300 0 0 0 0 0 0\n"
	    "cpu0 100 0 0 100 0 0 0 0 0 0\n"
	    "cpu2 100 0 0 100 0 0 0 0 0 0\n"
	    "cpu3 100 0 0 100 0 0 0 0 0 0\n";
	static const char gap1[] =
	    "cpu  600 0 0 600 0 0 0 150 0 0\n"
	    "cpu0 200 0 0 200 0 0 0 0 0 0\n"
	    "cpu2 150 0 0 150 0 0 0 100 0 0\n"
	    "cpu3 250 0 0 100 0 0 0 50 0 0\n";
	struct procstat	 a, b;
	double		 v[8];
	size_t		 i;

	(void)state;
	assert_int_equal(parse(gap0, &a), 0);
	assert_int_equal(parse(gap1, &b), 0);
	for (i = 0; i < 8; i++)
		v[i] = 42;
	assert_int_equal(procstat_steal_shares(&a, &b, v, 8), 4);
	assert_true(v[0] == 0.0);
	assert_true(v[1] == -1);
	/* cpu2: 100 stolen of 200 ticks; cpu3: 50 of 200. */
	assert_true(fabs(v[2] - 0.5) < 1e-12);
	assert_true(fabs(v[3] - 0.25) < 1e-12);
	/* Past the last CPU with a share: -1 written, not counted. */
	for (i = 4; i < 8; i++)
		assert_true(v[i] == -1);
	/* Room for fewer: only those. */
	v[2] = 42;
	assert_int_equal(procstat_steal_shares(&a, &b, v, 2), 1);
	assert_true(v[2] == 42);
	/* No time between the readings: no CPU has a share. */
	assert_int_equal(procstat_steal_shares(&a, &a, v, 8), 0);
	/* Asked for more than it counts: PROCSTAT_CPUS at most. */
	{
		static double	 big[PROCSTAT_CPUS + 4];

		big[PROCSTAT_CPUS - 1] = 42;
		big[PROCSTAT_CPUS] = 42;
		assert_int_equal(procstat_steal_shares(&a, &b, big,
		    PROCSTAT_CPUS + 4), 4);
		assert_true(big[PROCSTAT_CPUS - 1] == -1);
		assert_true(big[PROCSTAT_CPUS] == 42);
	}
}

/* The CPU that lost most: gaps skipped, the first of equals, the last. */
static void
test_worst(void **state)
{
	static const char w0[] =
	    "cpu  0 0 0 0 0 0 0 0 0 0\n"
	    "cpu0 100 0 0 100 0 0 0 0 0 0\n"
	    "cpu1 100 0 0 100 0 0 0 0 0 0\n"
	    "cpu2 100 0 0 100 0 0 0 0 0 0\n"
	    "cpu4 100 0 0 100 0 0 0 0 0 0\n";
	/* cpu1 and cpu2 tie at 0.25, cpu4 (after the gap) at 0.5. */
	static const char last[] =
	    "cpu  0 0 0 0 0 0 0 0 0 0\n"
	    "cpu0 200 0 0 200 0 0 0 0 0 0\n"
	    "cpu1 200 0 0 150 0 0 0 50 0 0\n"
	    "cpu2 200 0 0 150 0 0 0 50 0 0\n"
	    "cpu4 200 0 0 100 0 0 0 100 0 0\n";
	/* The same without cpu4's steal: the tie goes to cpu1. */
	static const char tie[] =
	    "cpu  0 0 0 0 0 0 0 0 0 0\n"
	    "cpu0 200 0 0 200 0 0 0 0 0 0\n"
	    "cpu1 200 0 0 150 0 0 0 50 0 0\n"
	    "cpu2 200 0 0 150 0 0 0 50 0 0\n"
	    "cpu4 200 0 0 200 0 0 0 0 0 0\n";
	/* None stolen: the first CPU, with 0. */
	static const char none[] =
	    "cpu  0 0 0 0 0 0 0 0 0 0\n"
	    "cpu0 200 0 0 200 0 0 0 0 0 0\n"
	    "cpu1 200 0 0 200 0 0 0 0 0 0\n";
	struct procstat	 a, b;
	int		 cpu = 99;

	(void)state;
	assert_int_equal(parse(w0, &a), 0);
	assert_int_equal(parse(last, &b), 0);
	assert_true(fabs(procstat_steal_worst(&a, &b, &cpu) - 0.5) < 1e-12);
	assert_int_equal(cpu, 4);
	assert_int_equal(parse(tie, &b), 0);
	assert_true(fabs(procstat_steal_worst(&a, &b, &cpu) - 0.25) < 1e-12);
	assert_int_equal(cpu, 1);
	assert_int_equal(parse(none, &b), 0);
	assert_true(procstat_steal_worst(&a, &b, &cpu) == 0.0);
	assert_int_equal(cpu, 0);
	/* No time between the readings: none. */
	assert_true(procstat_steal_worst(&a, &a, &cpu) == -1);
	assert_int_equal(cpu, -1);
}

/* Before Linux 2.6.11 the lines end at softirq, or at idle: no steal. */
static void
test_short_lines(void **state)
{
	struct procstat	 ps;

	(void)state;
	assert_int_equal(parse("cpu 1 2 3 4\ncpu0 1 2 3 4 5 6 7\n", &ps), 0);
	assert_int_equal(ps.all.total, 10);
	assert_int_equal(ps.all.steal, 0);
	assert_int_equal(ps.cpu[0].total, 28);
	assert_int_equal(ps.cpu[0].steal, 0);
}

/* A CPU beyond those counted one by one is skipped, not an error. */
static void
test_many_cpus(void **state)
{
	struct procstat	 ps;
	char		 text[256];

	(void)state;
	snprintf(text, sizeof(text), "cpu 1 1 1 1 1 1 1 1\ncpu%d 1 1 1 1 1 1 "
	    "1 1\ncpu%d 3 3 3 3 3 3 3 3\ncpu3 2 2 2 2 2 2 2 2\n",
	    PROCSTAT_CPUS + 5, PROCSTAT_CPUS);
	assert_int_equal(parse(text, &ps), 0);
	assert_int_equal(ps.cpu[3].total, 16);
	assert_false(ps.cpu[PROCSTAT_CPUS - 1].seen);
}

/* Anything else is refused: no cpu line, fields that are not numbers. */
static void
test_refused(void **state)
{
	struct procstat	 ps;
	char		 longline[700];
	size_t		 i;

	(void)state;
	assert_int_equal(parse("", &ps), -1);
	assert_int_equal(parse("intr 1 2 3\n", &ps), -1);
	assert_int_equal(parse("cpu0 1 2 3 4 5 6 7 8\n", &ps), -1);
	assert_int_equal(parse("cpu 1 2 3\n", &ps), -1);
	assert_int_equal(parse("cpu 1 2 x 4 5\n", &ps), -1);
	assert_int_equal(parse("cpu 1 2 3 4 5 6 7 8z\n", &ps), -1);
	assert_int_equal(parse("cpu 1 2 3 4\ncpux 1 2 3 4\n", &ps), -1);
	assert_int_equal(parse("cpu 1 2 3 4\ncpu0x 1 2 3 4\n", &ps), -1);
	assert_int_equal(parse("cpu 1 2 3 4\ncpu0 1 2\n", &ps), -1);
	/* Fields enough, and longer than any CPU line: not /proc/stat. */
	for (i = 0; i + 2 < sizeof(longline); i += 2)
		memcpy(longline + i, "1 ", 2);
	memcpy(longline, "cpu ", 4);
	longline[i] = '\0';
	assert_int_equal(parse(longline, &ps), -1);
	/* Counts or totals beyond 64 bits. */
	assert_int_equal(parse("cpu 99999999999999999999 2 3 4 5 6 7 8\n",
	    &ps), -1);
	assert_int_equal(parse("cpu 18446744073709551615 1 0 0\n", &ps), -1);
	assert_int_equal(parse("cpu 18446744073709551614 1 0 0\n", &ps), 0);
}

/* This machine's own: Linux, where the tests run. */
static void
test_this_machine(void **state)
{
	struct procstat	 ps;

	(void)state;
	assert_int_equal(procstat_read(&ps), 0);
	assert_true(ps.all.seen);
	assert_true(ps.cpu[0].seen);
	assert_true(ps.all.total >= ps.cpu[0].total);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_shares),
		cmocka_unit_test(test_worst),
		cmocka_unit_test(test_short_lines),
		cmocka_unit_test(test_many_cpus),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_this_machine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
