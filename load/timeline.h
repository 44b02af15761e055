/*
 * load/timeline.h -- eid-load's second-by-second series: for each second
 * of a run, the requests completed in it (answered, or failed), their
 * errors and mismatches, and the percentiles of their latencies, so
 * that a long run shows when its tail happened (a stall, a sweep, a slow
 * minute of the host) and not only that it did.
 *
 * A run's generator threads each hold a writer.  A writer fills the
 * second its clock is in and hands it over when its clock has left it;
 * a second is closed, its percentiles taken from every writer's
 * latencies together, once every writer has left it or is done.  Seconds
 * count from the origin, the clock of the first writer to begin; a
 * second in which nothing completed is closed empty, so the series has
 * no holes.  Values are nanoseconds (load/hist.h's precision).
 * Memory running out loses the series (tl_seconds() gives NULL), never
 * the run: its writers go on counting into nothing.
 */
#ifndef EID_LOAD_TIMELINE_H
#define EID_LOAD_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tl;
struct tl_writer;

struct tl_second {
	uint64_t	 completed;	/* tokens answered or failed in it */
	uint64_t	 measured;	/* ... of them inside the window */
	uint64_t	 errors;
	uint64_t	 mismatches;
	uint64_t	 latencies;	/* latencies recorded (frames) */
	uint64_t	 p50;		/* ns; 0 if no latency */
	uint64_t	 p90;
	uint64_t	 p99;
	uint64_t	 max;
};

/* A series for nwriters writers (at least 1); NULL if out of memory. */
struct tl	*tl_new(size_t nwriters);
/* Free the series; its writers must be freed already.  Accepts NULL. */
void		 tl_free(struct tl *);

/*
 * Writer number i (0 .. nwriters - 1) of tl; NULL if out of memory or
 * if i is out of range or taken.  Each writer belongs to one thread.
 */
struct tl_writer *tl_writer_new(struct tl *, size_t i);
/*
 * The writer's clock starts at now (ns, CLOCK_MONOTONIC, the same clock
 * for every writer): the first writer to begin sets the series' origin,
 * later ones join it (a now read just before the origin counts as the
 * origin).  Returns 0, or -1 if the writer has begun already.
 */
int		 tl_begin(struct tl_writer *, uint64_t now);
/*
 * Count completed tokens (answered, or failed with their frame) at now,
 * measured inside the window or not, with errors and mismatches among
 * them; and, if has_latency, one latency (a frame's).  A time before
 * the writer's current second counts in it.  Returns 0, or -1 if the
 * writer has not begun.
 */
int		 tl_record(struct tl_writer *, uint64_t now,
		    uint64_t completed, bool measured, uint64_t errors,
		    uint64_t mismatches, bool has_latency, uint64_t latency);
/*
 * The clock is now: hand over every second before now's, so that the
 * series can close them though this writer answered nothing since.
 * Returns 0, or -1 if the writer has not begun.
 */
int		 tl_tick(struct tl_writer *, uint64_t now);
/*
 * The writer is done: its last, partial second is handed over, and the
 * series no longer waits for it.  Frees the writer; accepts NULL.
 */
void		 tl_writer_done(struct tl_writer *);

/* The origin (ns), or 0 before a writer began. */
uint64_t	 tl_origin(struct tl *);
/*
 * The series, from second 0, once every writer is done: every second up
 * to the last one in which a token completed; their number in *n.  The
 * array is the series' own, valid until tl_free().  NULL (and *n 0)
 * while a writer is not done, or if memory ran out during the run.
 */
const struct tl_second *tl_seconds(struct tl *, size_t *n);

#endif /* EID_LOAD_TIMELINE_H */
