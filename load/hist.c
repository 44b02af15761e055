/*
 * load/hist.c -- see hist.h.  HdrHistogram's log-linear layout with a
 * unit of 1 and 2048 sub-buckets: bucket b holds 1024 linear steps of
 * 2^b between 1024 * 2^b and 2048 * 2^b (bucket 0 also covers 0..1023
 * one by one), so each step is at most 1/1024 of the value it holds.
 * This file owns that arithmetic only; it allocates once and never
 * prints.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

#define HIST_SUB_BITS	11			/* 2048 sub-buckets */
#define HIST_HALF_BITS	(HIST_SUB_BITS - 1)
#define HIST_HALF	(1u << HIST_HALF_BITS)	/* 1024 */
#define HIST_SUB_MASK	((UINT64_C(1) << HIST_SUB_BITS) - 1)
/* Buckets until 2048 << (n - 1) exceeds HIST_HIGHEST: 2^40 needs 30. */
#define HIST_BUCKETS	(40 - HIST_SUB_BITS + 1)
#define HIST_LEN	((HIST_BUCKETS + 1) * HIST_HALF)

struct hist {
	uint64_t	 count;
	uint64_t	 clamped;
	uint64_t	 min;
	uint64_t	 max;
	double		 sum;
	uint64_t	 counts[HIST_LEN];
};

struct hist *
hist_new(void)
{
	struct hist	*h;

	if ((h = malloc(sizeof(*h))) == NULL)
		return NULL;
	hist_reset(h);
	return h;
}

void
hist_free(struct hist *h)
{
	free(h);
}

void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static size_t
hist_index(uint64_t v)
{
	int	 bucket;
	uint64_t sub;

	/* The position of the highest bit, at least that of the mask. */
	bucket = 64 - __builtin_clzll(v | HIST_SUB_MASK) - HIST_SUB_BITS;
	sub = v >> bucket;
	return ((size_t)(bucket + 1) << HIST_HALF_BITS) +
	    (size_t)(sub - HIST_HALF);
}

uint64_t
hist_counter_lowest(size_t i)
{
	int		 bucket = (int)(i >> HIST_HALF_BITS) - 1;
	uint64_t	 sub = (i & (HIST_HALF - 1)) + HIST_HALF;

	if (bucket < 0) {
		sub -= HIST_HALF;
		bucket = 0;
	}
	return sub << bucket;
}

/* The next counter's lowest value, less 1. */
uint64_t
hist_counter_highest(size_t i)
{
	return hist_counter_lowest(i + 1) - 1;
}

size_t
hist_counters(void)
{
	return HIST_LEN;
}

uint64_t
hist_counter(const struct hist *h, size_t i)
{
	return i < HIST_LEN ? h->counts[i] : 0;
}

int
hist_add_counter(struct hist *h, size_t i, uint64_t n)
{
	uint64_t	 lo, hi;

	if (i >= HIST_LEN || n > UINT64_MAX - h->count)
		return -1;
	if (n == 0)
		return 0;
	lo = hist_counter_lowest(i);
	hi = hist_counter_highest(i);
	h->counts[i] += n;
	h->count += n;
	h->sum += ((double)lo + (double)hi) / 2.0 * (double)n;
	if (lo < h->min)
		h->min = lo;
	if (hi > h->max)
		h->max = hi;
	return 0;
}

void
hist_record(struct hist *h, uint64_t v)
{
	if (v > HIST_HIGHEST) {
		h->clamped++;
		v = HIST_HIGHEST;
	}
	h->counts[hist_index(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_add(struct hist *dst, const struct hist *src)
{
	size_t	 i;

	if (src->count == 0)
		return;
	for (i = 0; i < HIST_LEN; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->clamped += src->clamped;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
hist_count(const struct hist *h)
{
	return h->count;
}

uint64_t
hist_clamped(const struct hist *h)
{
	return h->clamped;
}

uint64_t
hist_min(const struct hist *h)
{
	return h->count > 0 ? h->min : 0;
}

uint64_t
hist_max(const struct hist *h)
{
	return h->max;
}

double
hist_mean(const struct hist *h)
{
	return h->count > 0 ? h->sum / (double)h->count : 0.0;
}

/*
 * How many values lie at or below percentile p: ceil(p% of count).  In
 * doubles, 99.9 / 100 * 1000 is 999.0000000000001, whose ceiling is
 * 1000, the maximum and not the 999th value.  So a p written with at most
 * six decimals (every percentile anyone asks for) is taken as that
 * decimal, a whole number of millionths of a percent, and the rank is
 * worked out in integers, count split so that no product passes 64 bits
 * (count % 10^8 times under 10^8).  Any other p is taken as it is.
 */
static uint64_t
hist_rank(uint64_t count, double p)
{
	const uint64_t	 scale = 100000000;	/* 100 % in millionths */
	double		 pmd, x;
	uint64_t	 pm;

	if (!(p > 0.0))		/* also NaN */
		return 1;
	if (p >= 100.0)
		return count;
	pmd = p * 1e6;
	pm = (uint64_t)llround(pmd);
	if (fabs(pmd - (double)pm) < 1e-6)
		return count / scale * pm +
		    (count % scale * pm + scale - 1) / scale;
	x = ceil(p / 100.0 * (double)count);
	return x < (double)count ? (uint64_t)x : count;
}

/*
 * The value at the want-th smallest (see hist_value_at), and in *seen
 * how many values lie in its counter and below.
 */
static uint64_t
hist_value_at_rank(const struct hist *h, uint64_t want, uint64_t *seen)
{
	uint64_t	 v;
	size_t		 i;

	*seen = 0;
	for (i = 0; i < HIST_LEN; i++) {
		*seen += h->counts[i];
		if (*seen >= want) {
			v = hist_counter_highest(i);
			return v < h->max ? v : h->max;
		}
	}
	return h->max;
}

uint64_t
hist_value_at(const struct hist *h, double p)
{
	uint64_t	 want, seen;

	if (h->count == 0)
		return 0;
	if ((want = hist_rank(h->count, p)) == 0)
		want = 1;
	return hist_value_at_rank(h, want, &seen);
}

/* Standard deviation over the counters, each at its highest value. */
static double
hist_stddev(const struct hist *h)
{
	double	 mean = hist_mean(h), d, sq = 0;
	size_t	 i;

	if (h->count == 0)
		return 0;
	for (i = 0; i < HIST_LEN; i++)
		if (h->counts[i] > 0) {
			d = (double)hist_counter_highest(i) - mean;
			sq += d * d * (double)h->counts[i];
		}
	return sqrt(sq / (double)h->count);
}

/* One row; the last, at 100 %, has an infinite 1/(1-Percentile). */
static int
hist_print_row(FILE *fp, uint64_t v, double unit, double p, uint64_t seen)
{
	if (p >= 1.0)
		return fprintf(fp, "%12.3f %12.6f %12" PRIu64 " %14s\n",
		    (double)v / unit, 1.0, seen, "inf") < 0 ? -1 : 0;
	return fprintf(fp, "%12.3f %12.6f %12" PRIu64 " %14.2f\n",
	    (double)v / unit, p, seen, 1.0 / (1.0 - p)) < 0 ? -1 : 0;
}

int
hist_print_percentiles(const struct hist *h, FILE *fp, unsigned int ticks,
    double unit)
{
	uint64_t	 want, seen, v;
	double		 p;
	unsigned int	 k;
	int		 level;

	if (ticks == 0 || !(unit > 0.0))
		return -1;
	if (fprintf(fp, "%12s %12s %12s %14s\n\n", "Value", "Percentile",
	    "TotalCount", "1/(1-Percentile)") < 0)
		return -1;
	/*
	 * HdrHistogram's percentile iteration: ticks rows in each half of
	 * what is left, 0 to 50 %, 50 to 75 %, 75 to 87.5 % ..., until the
	 * maximum is reached; each p worked out afresh, not summed.  64
	 * halvings are more than a count below 2^64 needs.
	 */
	for (level = 0; h->count > 0 && level < 64; level++)
		for (k = 0; k < ticks; k++) {
			p = 1.0 - ldexp(1.0, -level) + ldexp(1.0,
			    -(level + 1)) * (double)k / (double)ticks;
			if ((want = hist_rank(h->count, 100.0 * p)) == 0)
				want = 1;
			v = hist_value_at_rank(h, want, &seen);
			if (hist_print_row(fp, v, unit, p, seen) != 0)
				return -1;
			if (seen >= h->count) {
				if (hist_print_row(fp, v, unit, 1.0, seen) !=
				    0)
					return -1;
				level = 64;
				break;
			}
		}
	if (fprintf(fp, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n"
	    "#[Max     = %12.3f, Total count    = %12" PRIu64 "]\n"
	    "#[Buckets = %12d, SubBuckets     = %12d]\n",
	    hist_mean(h) / unit, hist_stddev(h) / unit,
	    (double)hist_max(h) / unit, h->count, HIST_BUCKETS,
	    1 << HIST_SUB_BITS) < 0 || fflush(fp) == EOF || ferror(fp))
		return -1;
	return 0;
}
