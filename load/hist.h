/*
 * load/hist.h -- a log-linear latency histogram (HdrHistogram's layout)
 * for eid-load.
 *
 * Values are non-negative integers (eid-load records nanoseconds) from 0
 * to HIST_HIGHEST; larger values are clamped to it and counted in
 * hist_clamped().  Every value is kept with a relative error below
 * 1/1024, i.e. at least three significant decimal digits, in a fixed
 * array of counters: recording is O(1) and no sample is stored or
 * sorted.  The exact minimum, maximum and mean are tracked besides.
 * A histogram belongs to one thread.
 */
#ifndef EID_LOAD_HIST_H
#define EID_LOAD_HIST_H

#include <stdint.h>
#include <stdio.h>

/* Largest value kept exactly enough: 2^40 - 1 (about 18 min in ns). */
#define HIST_HIGHEST	((UINT64_C(1) << 40) - 1)

struct hist;

/* A new, empty histogram (about 250 kB); NULL if out of memory. */
struct hist	*hist_new(void);
/* Free; accepts NULL. */
void		 hist_free(struct hist *);
/* Forget every value. */
void		 hist_reset(struct hist *);
/* Count one value (clamped to HIST_HIGHEST). */
void		 hist_record(struct hist *, uint64_t value);
/* Add every count of src to dst. */
void		 hist_add(struct hist *dst, const struct hist *src);

/*
 * The counters, numbered as HdrHistogram numbers its counts array for a
 * lowest discernible value of 1 and three significant digits, so that
 * a histogram can be written and read in HdrHistogram's encodings
 * (hdr.h).  Counter i holds the values from hist_counter_lowest(i) to
 * hist_counter_highest(i); i must be below hist_counters().
 */
size_t		 hist_counters(void);
uint64_t	 hist_counter(const struct hist *, size_t i);
uint64_t	 hist_counter_lowest(size_t i);
uint64_t	 hist_counter_highest(size_t i);
/*
 * Count n values in counter i, as a histogram read from its counters
 * does: the minimum and maximum become at most the counter's bounds and
 * the sum grows by n times its midpoint, so they are as precise as the
 * percentiles.  Returns -1, and changes nothing, if i is not a counter
 * or the count would pass 2^64 - 1.
 */
int		 hist_add_counter(struct hist *, size_t i, uint64_t n);

uint64_t	 hist_count(const struct hist *);
/* Values recorded above HIST_HIGHEST. */
uint64_t	 hist_clamped(const struct hist *);
/* Exact minimum and maximum; 0 when empty. */
uint64_t	 hist_min(const struct hist *);
uint64_t	 hist_max(const struct hist *);
/* Exact arithmetic mean; 0 when empty. */
double		 hist_mean(const struct hist *);
/*
 * The value at percentile p (0..100; below 0 or NaN is 0, above 100 is
 * 100; a p of at most six decimals is that decimal, so 99.9 is 99.9 and
 * not the double nearest it): the highest value equivalent
 * to the bucket that holds the ceil(p% of count)-th smallest value (at
 * least the first), never above the exact maximum (HdrHistogram's
 * getValueAtPercentile).  So it is at least the exact nearest-rank
 * percentile of the values recorded and exceeds it by less than 1/1024
 * of it.  0 when empty.
 */
uint64_t	 hist_value_at(const struct hist *, double p);

/*
 * Write the percentile distribution in HdrHistogram's text form (the
 * ".hgrm" its plotters read): a header, then rows of "Value Percentile
 * TotalCount 1/(1-Percentile)" from 0 % to the maximum, ticks rows per
 * halving of the distance to 100 % (HdrHistogram's default is 5), values
 * divided by unit and printed with three decimals; then the mean,
 * standard deviation (from the counters), maximum, count and layout as
 * '#' lines.  An empty histogram gives the header and the '#' lines.
 * Returns 0, or -1 if ticks is 0, unit not above 0, or fp failed.
 */
int		 hist_print_percentiles(const struct hist *, FILE *fp,
		    unsigned int ticks, double unit);

#endif /* EID_LOAD_HIST_H */
